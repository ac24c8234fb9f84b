"""`telecare admin` and `telecare admin-token`: administrators and their API tokens."""

from __future__ import annotations

import typer

from backend.settings import get_settings
from bot.commands.common import fail, in_database, load_cipher

admin_app = typer.Typer(help="Administrators.", no_args_is_help=True)
admin_token_app = typer.Typer(
    help="Bearer tokens for the admin REST API (/api/admin/).", no_args_is_help=True
)


@admin_app.command("add")
def admin_add(
    email: str = typer.Option(None, help="The admin's email (they sign in with an OTP to it)."),
    phone: str = typer.Option(None, help="Or their mobile number."),
    name: str = typer.Option("Administrator", help="Shown in menus."),
) -> None:
    """Create an administrator account."""
    from backend.accounts import service as accounts
    from backend.accounts.contacts import InvalidContact, normalise_email, normalise_phone
    from backend.models import Role, User, new_id

    if bool(email) == bool(phone):
        fail("Give exactly one of --email or --phone.")
    try:
        kind, value = (
            ("email", normalise_email(email))
            if email
            else ("phone", normalise_phone(phone, get_settings().default_region))
        )
    except InvalidContact as exc:
        fail(f"Not a valid {'email' if email else 'phone number'} ({exc.reason}).")
    cipher = load_cipher()

    async def run(sessions) -> str:
        async with sessions() as session, session.begin():
            existing = await accounts.find_user_by_contact(session, cipher, kind, value)
            if existing is not None:
                return "already an admin" if existing.role is Role.ADMIN else "taken"
            user = User(id=new_id(), role=Role.ADMIN, display_name=name[:120])
            accounts.set_contact(cipher, user, kind, value)
            session.add(user)
            return "created"

    outcome = in_database(run)
    if outcome == "taken":
        fail("That contact already belongs to a non-admin account.")
    if outcome == "already an admin":
        typer.echo("That contact is already an admin; nothing changed.")
        return
    typer.echo("Admin created. They sign in in any chat with “I already have an account” and an OTP.")


@admin_token_app.command("create")
def admin_token_create(
    email: str = typer.Option(..., help="The email of the admin the token acts as."),
    name: str = typer.Option(..., help="A label to recognise the token by (e.g. 'ops laptop')."),
    days: int | None = typer.Option(
        None, min=1, max=365, help="Days it works (default TELECARE_ADMIN_TOKEN_DAYS, 30)."
    ),
) -> None:
    """Issue a token; it is printed once and only its SHA-256 is kept. It expires."""
    from backend.accounts import service as accounts
    from backend.accounts.contacts import InvalidContact, normalise_email
    from backend.providers import admin_tokens

    try:
        value = normalise_email(email)
    except InvalidContact as exc:
        fail(f"Not a valid email ({exc.reason}).")
    cipher = load_cipher()

    async def run(sessions):
        async with sessions() as session, session.begin():
            user = await accounts.find_user_by_contact(session, cipher, "email", value)
            if user is None:
                return "No account has that email."
            try:
                return await admin_tokens.create(
                    session, user_id=user.id, name=name, days=days or get_settings().admin_token_days
                )
            except admin_tokens.TokenError as refused:
                return f"Refused: {refused}."

    issued = in_database(run)
    if isinstance(issued, str):
        fail(issued)
    expires = issued.expires_at.isoformat(timespec="seconds")
    typer.echo(f"Token {issued.id} ({issued.name}), expires {expires}. Copy it now; it is not shown again:")
    typer.echo(issued.token)


@admin_token_app.command("revoke")
def admin_token_revoke(
    token_id: str = typer.Argument(..., help="The token's id (see `admin-token list`)."),
) -> None:
    """Stop a token working at once."""
    from backend.providers import admin_tokens

    async def run(sessions) -> bool:
        async with sessions() as session, session.begin():
            return await admin_tokens.revoke(session, token_id.strip()[:32])

    load_cipher()  # the same key checks as every other command
    if not in_database(run):
        fail("No live token has that id.")
    typer.echo(f"Token {token_id} revoked.")


@admin_token_app.command("list")
def admin_token_list() -> None:
    """Every token: id, label, owner, created, expires, last used, and live / expired / revoked."""
    from backend.models import utcnow
    from backend.providers import admin_tokens

    async def run(sessions):
        async with sessions() as session:
            return await admin_tokens.list_tokens(session)

    load_cipher()
    tokens = in_database(run)
    if not tokens:
        typer.echo("No tokens.")
        return
    now = utcnow()
    for t in tokens:
        typer.echo(_token_line(t, now))


def _token_line(t, now) -> str:
    def at(moment) -> str:
        return moment.isoformat(timespec="seconds")

    owner = f"{t.owner} ({t.user_id})" if t.owner else t.user_id
    used = f"last used {at(t.last_used_at)}" if t.last_used_at else "never used"
    return (
        f"{t.id}  {t.name}  owner {owner}  created {at(t.created_at)}  expires {at(t.expires_at)}  "
        f"{used}  {t.state(now)}"
    )
