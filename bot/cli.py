"""The `telecare` command: serve, migrate, demo data, the first admin, keys and the audit log.
Every command reads TELECARE_DATABASE_URL (default: the SQLite file in var/)."""

from __future__ import annotations

import asyncio
import sys

import typer

from backend.settings import get_settings

app = typer.Typer(
    help="telecare: telemedicine inside messaging apps.", no_args_is_help=True, pretty_exceptions_enable=False
)
keys_app = typer.Typer(help="Encryption keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
admin_app = typer.Typer(help="Administrators.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(admin_app, name="admin")


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _cipher():
    from backend.crypto import FieldCipher, KeyMaterialError, load_key_ring

    settings = get_settings()
    try:
        return FieldCipher(load_key_ring(settings.key_file, settings.keys_json))
    except KeyMaterialError as exc:
        _fail(f"Keys: {exc}")


def _sessions():
    from backend.db import create_engine, create_sessionmaker

    engine = create_engine(get_settings().database_url)
    return engine, create_sessionmaker(engine)


@app.command()
def serve(
    host: str = typer.Option(None, help="Interface to listen on (default: TELECARE_HOST)."),
    port: int = typer.Option(None, help="Port (default: TELECARE_PORT)."),
) -> None:
    """Serve the web chat, the API and the webhooks."""
    import uvicorn

    from bot.app import create_app

    settings = get_settings()
    _cipher()  # fail early, with a clear message, when the keys are missing
    typer.echo(f"telecare on http://{host or settings.host}:{port or settings.port} ({settings.env.value})")
    uvicorn.run(
        create_app(settings), host=host or settings.host, port=port or settings.port, log_level="warning"
    )


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from backend.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("Database is up to date.")


@app.command("demo-data")
def demo_data() -> None:
    """Load the demo doctors, pharmacies, labs, admin and patient (safe to run again)."""
    from backend import demo

    cipher = _cipher()

    async def run() -> str:
        engine, sessions = _sessions()
        try:
            async with sessions() as session, session.begin():
                return str(await demo.load(session, cipher))
        finally:
            await engine.dispose()

    typer.echo(f"Demo data: {asyncio.run(run())}.")


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
        _fail("Give exactly one of --email or --phone.")
    try:
        kind, value = (
            ("email", normalise_email(email))
            if email
            else ("phone", normalise_phone(phone, get_settings().default_region))
        )
    except InvalidContact as exc:
        _fail(f"Not a valid {'email' if email else 'phone number'} ({exc.reason}).")
    cipher = _cipher()

    async def run() -> str:
        engine, sessions = _sessions()
        try:
            async with sessions() as session, session.begin():
                existing = await accounts.find_user_by_contact(session, cipher, kind, value)
                if existing is not None:
                    return "already an admin" if existing.role is Role.ADMIN else "taken"
                user = User(id=new_id(), role=Role.ADMIN, display_name=name[:120])
                accounts.set_contact(cipher, user, kind, value)
                session.add(user)
                return "created"
        finally:
            await engine.dispose()

    outcome = asyncio.run(run())
    if outcome == "taken":
        _fail("That contact already belongs to a non-admin account.")
    if outcome == "already an admin":
        typer.echo("That contact is already an admin; nothing changed.")
        return
    typer.echo("Admin created. They sign in in any chat with “I already have an account” and an OTP.")


@keys_app.command("init")
def keys_init() -> None:
    """Create a local key file (mode 0600) if there is none."""
    from backend.crypto import KeyRing

    settings = get_settings()
    if settings.keys_json:
        typer.echo("Keys come from TELECARE_KEYS_JSON; no key file needed.")
        return
    if settings.key_file.exists():
        typer.echo(f"Key file {settings.key_file} already exists; kept.")
        return
    KeyRing.generate().save_file(settings.key_file)
    typer.echo(
        f"Created development key file {settings.key_file} (mode 0600). Keep it out of version control "
        "and back it up: without it the encrypted data cannot be read."
    )


@keys_app.command("rotate")
def keys_rotate(
    retire_old: bool = typer.Option(False, "--retire-old", help="Drop old keys once nothing uses them."),
) -> None:
    """Add a new active key and re-encrypt every value under it."""
    from backend.crypto import FieldCipher, KeyRing
    from backend.keys import key_ids_in_use, reencrypt_all

    settings = get_settings()
    if settings.keys_json:
        _fail("Keys come from TELECARE_KEYS_JSON: rotate them where they are stored.")
    ring = KeyRing.load_file(settings.key_file) if settings.key_file.exists() else None
    if ring is None:
        _fail(f"No key file at {settings.key_file}.")
    new_id = ring.add_key()
    ring.save_file(settings.key_file)  # first, so that a crash mid-way leaves every key available
    cipher = FieldCipher(ring)

    async def run() -> tuple[int, set[str]]:
        engine, sessions = _sessions()
        try:
            changed = await reencrypt_all(sessions, cipher)
            return changed, await key_ids_in_use(sessions)
        finally:
            await engine.dispose()

    changed, used = asyncio.run(run())
    typer.echo(f"New active key {new_id}; re-encrypted {changed} values.")
    if retire_old:
        for key_id in [k for k in ring.keys if k != ring.active and k not in used]:
            ring.retire(key_id)
            typer.echo(f"Retired key {key_id}.")
        ring.save_file(settings.key_file)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; exits 1 at the first entry that was changed or removed."""
    from backend import audit

    async def run():
        engine, sessions = _sessions()
        try:
            async with sessions() as session:
                return await audit.verify_chain(session)
        finally:
            await engine.dispose()

    report = asyncio.run(run())
    if report.ok:
        typer.echo(f"Audit chain intact: {report.entries} entries.")
        return
    typer.secho(f"Audit chain BROKEN at entry {report.first_bad_seq}: {report.reason}.", fg=typer.colors.RED)
    sys.exit(1)


if __name__ == "__main__":
    app()
