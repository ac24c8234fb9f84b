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
telegram_app = typer.Typer(help="The Telegram channel.", no_args_is_help=True)
app.add_typer(telegram_app, name="telegram")
admin_token_app = typer.Typer(
    help="Bearer tokens for the admin REST API (/api/admin/).", no_args_is_help=True
)
app.add_typer(admin_token_app, name="admin-token")


@app.callback()
def _configure() -> None:
    """Settings are checked, and logs redacted, before any command runs."""
    from pydantic import ValidationError

    from backend import logs

    try:
        settings = get_settings()
    except ValidationError as exc:
        problems = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        _fail(f"Configuration: {problems}")
    logs.configure(settings.log_level, settings.log_json, dev_codes_allowed=not settings.is_production)


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
    """The database, with the key ring when there is one (it seals and checks the audit chain;
    the commands that need keys have already refused to run without them)."""
    from backend.crypto import KeyMaterialError, load_key_ring
    from backend.db import create_engine, create_sessionmaker

    settings = get_settings()
    try:
        ring = load_key_ring(settings.key_file, settings.keys_json)
    except KeyMaterialError:
        ring = None
    engine = create_engine(settings.database_url)
    return engine, create_sessionmaker(engine, ring)


@app.command()
def serve(
    host: str = typer.Option(None, help="Interface to listen on (default: TELECARE_HOST)."),
    port: int = typer.Option(None, help="Port (default: TELECARE_PORT)."),
) -> None:
    """Serve the web chat, the API and the webhooks."""
    import uvicorn
    from pydantic import ValidationError

    from bot.app import create_app
    from bot.body_limits import SERVER_LIMITS

    settings = get_settings()
    _cipher()  # fail early, with a clear message, when the keys are missing
    try:
        app = create_app(settings)
    except ValidationError as exc:
        _fail(
            "Configuration: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        )
    except ValueError as exc:
        _fail(f"Configuration: {exc}")
    typer.echo(f"telecare on http://{host or settings.host}:{port or settings.port} ({settings.env.value})")
    uvicorn.run(
        app, host=host or settings.host, port=port or settings.port, log_level="warning", **SERVER_LIMITS
    )


@app.command()
def worker(once: bool = typer.Option(False, "--once", help="Send what is due now, then stop.")) -> None:
    """Send notifications from the outbox. Run any number beside `serve` (with
    TELECARE_DISPATCHER=off there) on PostgreSQL; on SQLite one is enough."""
    from bot.app import run_worker

    settings = get_settings()
    _cipher()
    typer.echo(f"telecare worker ({settings.env.value})" + ("" if once else "; Ctrl-C to stop"))
    if not settings.redis_url:
        typer.echo(
            "Without TELECARE_REDIS_URL this worker cannot reach web chats open in `telecare serve`: "
            "their notifications are shown when the chat next opens, and send limits are not shared.",
            err=True,
        )
    try:
        handled = asyncio.run(run_worker(settings, once=once))
    except KeyboardInterrupt:
        return
    if once:
        typer.echo(f"Handled {handled} message(s).")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (with the keys, for migrations that encrypt data)."""
    from backend.crypto import KeyMaterialError, load_key_ring
    from backend.migrate import upgrade

    settings = get_settings()
    try:
        ring = load_key_ring(settings.key_file, settings.keys_json)
    except KeyMaterialError:
        ring = None  # a database with nothing to encrypt migrates without keys
    try:
        upgrade(settings.database_url, key_ring=ring)
    except RuntimeError as exc:
        _fail(f"Migration: {exc}")
    typer.echo("Database is up to date.")


@app.command("demo-data")
def demo_data() -> None:
    """Load the demo doctors, pharmacies, labs, admin and patient (safe to run again)."""
    from backend import demo

    if get_settings().is_production:
        _fail("Demo data is for development and demos; TELECARE_ENV is production.")
    cipher = _cipher()

    async def run() -> str:
        engine, sessions = _sessions()
        try:
            async with sessions() as session, session.begin():
                return str(await demo.load(session, cipher, horizon_days=get_settings().booking_horizon_days))
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
        _fail(f"Not a valid email ({exc.reason}).")
    cipher = _cipher()

    async def run():
        engine, sessions = _sessions()
        try:
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
        finally:
            await engine.dispose()

    issued = asyncio.run(run())
    if isinstance(issued, str):
        _fail(issued)
    expires = issued.expires_at.isoformat(timespec="seconds")
    typer.echo(f"Token {issued.id} ({issued.name}), expires {expires}. Copy it now; it is not shown again:")
    typer.echo(issued.token)


@admin_token_app.command("revoke")
def admin_token_revoke(
    token_id: str = typer.Argument(..., help="The token's id (see `admin-token list`)."),
) -> None:
    """Stop a token working at once."""
    from backend.providers import admin_tokens

    async def run() -> bool:
        engine, sessions = _sessions()
        try:
            async with sessions() as session, session.begin():
                return await admin_tokens.revoke(session, token_id.strip()[:32])
        finally:
            await engine.dispose()

    _cipher()  # the same key checks as every other command
    if not asyncio.run(run()):
        _fail("No live token has that id.")
    typer.echo(f"Token {token_id} revoked.")


@admin_token_app.command("list")
def admin_token_list() -> None:
    """Every token: id, label, owner, created, expires, last used, and live / expired / revoked."""
    from backend.models import utcnow
    from backend.providers import admin_tokens

    async def run():
        engine, sessions = _sessions()
        try:
            async with sessions() as session:
                return await admin_tokens.list_tokens(session)
        finally:
            await engine.dispose()

    _cipher()
    tokens = asyncio.run(run())
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


_RESTART = (
    "Restart every running telecare process now: they keep the keys they started with and cannot read "
    "values sealed under the new key until they do."
)


def _reencrypt(cipher) -> tuple[int, set[str], set[str]]:
    """Re-encrypts; returns how many values, and the key ids envelopes and audit entries name."""
    from backend.keys import audit_key_ids, key_ids_in_use, reencrypt_all

    async def run() -> tuple[int, set[str], set[str]]:
        engine, sessions = _sessions()
        try:
            changed = await reencrypt_all(sessions, cipher)
            return changed, await key_ids_in_use(sessions), await audit_key_ids(sessions)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _key_file_ring():
    from backend.crypto import KeyRing

    settings = get_settings()
    if settings.keys_json:
        _fail("Keys come from TELECARE_KEYS_JSON: rotate them where they are stored.")
    if not settings.key_file.exists():
        _fail(f"No key file at {settings.key_file}.")
    return settings.key_file, KeyRing.load_file(settings.key_file)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a new active key and re-encrypt every value under it (old keys stay, for reading)."""
    from backend.crypto import FieldCipher

    key_file, ring = _key_file_ring()
    new_key = ring.add_key()
    ring.save_file(key_file)  # first, so that a crash mid-way leaves every key available
    changed, _used, _audited = _reencrypt(FieldCipher(ring))
    typer.echo(f"New active key {new_key}; re-encrypted {changed} values.")
    typer.secho(_RESTART, fg=typer.colors.YELLOW)
    typer.echo("After the restart, `telecare keys retire` drops the old keys.")


@keys_app.command("retire")
def keys_retire() -> None:
    """After a rotation and a restart: re-encrypt what is left under old keys, then drop them."""
    from backend.crypto import FieldCipher

    key_file, ring = _key_file_ring()
    changed, used, audited = _reencrypt(FieldCipher(ring))
    retired = [k for k in list(ring.keys) if k != ring.active and k not in used]
    for key_id in retired:
        # Audit entries are never re-sealed: the key's audit MAC key stays, to verify them.
        ring.retire(key_id, keep_audit_mac=key_id in audited)
    ring.save_file(key_file)
    typer.echo(f"Re-encrypted {changed} values; retired {', '.join(retired) or 'no keys'}.")
    if kept := [k for k in retired if k in audited]:
        typer.echo(
            f"Kept the audit MAC key of {', '.join(kept)} (it decrypts nothing): audit entries sealed with it "
            "are verified with it."
        )


@audit_app.command("verify")
def audit_verify(
    expect: str = typer.Option(
        None, help="SEQ:HASH printed by an earlier verify; fails if the chain no longer holds that entry."
    ),
) -> None:
    """Recompute the audit chain's keyed links and check every head published in the head file;
    exits 1 at the first entry that was changed or removed."""
    from backend import audit, audit_heads

    expected_seq, _, expected_hash = (expect or "").partition(":")
    if expect and not (expected_seq.isdigit() and int(expected_seq) >= 1 and len(expected_hash) == 64):
        _fail("--expect takes SEQ:HASH as printed by `telecare audit verify`.")
    _cipher()  # the links are keyed: no keys, no check
    head_file = get_settings().audit_head_file
    try:
        anchors = [head.anchor() for head in audit_heads.read_heads(head_file)]
    except audit_heads.HeadFileError as exc:
        typer.secho(f"Audit head file damaged: {exc}.", fg=typer.colors.RED)
        sys.exit(1)
    published = len(anchors)
    if expect:
        anchors.append(audit.Anchor(int(expected_seq), expected_hash, "the entry noted with --expect"))

    async def run():
        engine, sessions = _sessions()
        try:
            async with sessions() as session:
                return await audit.verify_chain(session, anchors=anchors)
        finally:
            await engine.dispose()

    report = asyncio.run(run())
    if not report.ok:
        typer.secho(
            f"Audit chain BROKEN at entry {report.first_bad_seq}: {report.reason}.", fg=typer.colors.RED
        )
        sys.exit(1)
    heads = f"the {published} published head(s) match" if published else f"no published heads in {head_file}"
    typer.echo(
        f"Audit chain intact: {report.entries} entries; {heads}. Head: {report.head_seq}:{report.head_hash}"
    )


@audit_app.command("publish")
def audit_publish() -> None:
    """Append the chain's head to the head file (TELECARE_AUDIT_HEAD_FILE) now, if it moved."""
    from backend import audit_heads
    from backend.models import utcnow

    _cipher()
    head_file = get_settings().audit_head_file

    async def run():
        engine, sessions = _sessions()
        try:
            async with sessions() as session:
                return await audit_heads.publish(session, head_file, now=utcnow())
        finally:
            await engine.dispose()

    try:
        head = asyncio.run(run())
    except audit_heads.HeadFileError as exc:
        typer.secho(f"Audit head NOT published: {exc}.", fg=typer.colors.RED)
        sys.exit(1)
    if head is None:
        typer.echo(f"The chain has not moved since its last published head; {head_file} unchanged.")
        return
    typer.echo(f"Published head {head.seq}:{head.link} (key {head.key_id}) to {head_file}.")


def _telegram_call(method) -> object:
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

    from bot.telegram.channel import make_bot
    from bot.telegram.settings import TelegramSettings

    telegram = TelegramSettings()
    if not telegram.enabled:
        _fail("TELEGRAM_BOT_TOKEN is not set.")

    async def run():
        bot = make_bot(telegram)
        try:
            return await bot(method(telegram))
        finally:
            await bot.session.close()

    try:
        return asyncio.run(run())
    except (TelegramAPIError, TelegramNetworkError) as exc:
        _fail(f"Telegram refused: {exc}")


@telegram_app.command("set-webhook")
def telegram_set_webhook() -> None:
    """Point Telegram at TELECARE_PUBLIC_BASE_URL/webhooks/telegram, with the secret."""
    from aiogram.methods import SetWebhook

    from bot.telegram.channel import ALLOWED_UPDATES

    public = get_settings().public_base_url.rstrip("/")

    def method(telegram):
        if not telegram.webhook_secret:
            _fail("TELEGRAM_WEBHOOK_SECRET is not set.")
        return SetWebhook(
            url=f"{public}/webhooks/telegram",
            secret_token=telegram.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
        )

    _telegram_call(method)
    typer.echo(f"Webhook set to {public}/webhooks/telegram.")


@telegram_app.command("set-commands")
def telegram_set_commands() -> None:
    """Publish the bot's command list (menu, help, back, cancel, language, stop) in English and Hindi."""
    from aiogram.methods import SetMyCommands

    from bot.telegram.commands import bot_commands

    for language in ("en", "hi"):
        _telegram_call(
            lambda _t, lang=language: SetMyCommands(commands=bot_commands(lang), language_code=lang)
        )
    _telegram_call(lambda _t: SetMyCommands(commands=bot_commands("en")))
    typer.echo("Bot commands set.")


whatsapp_app = typer.Typer(help="The WhatsApp channel.", no_args_is_help=True)
app.add_typer(whatsapp_app, name="whatsapp")


@whatsapp_app.command("failures")
def whatsapp_failures(limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """Messages Twilio reported failed or undelivered, newest first, with Twilio's error code
    (https://www.twilio.com/docs/api/errors/<code>). Numbers are masked."""
    from sqlalchemy import select

    from backend.accounts.chats import address_of
    from backend.accounts.contacts import mask
    from backend.models import OutboundMessage

    cipher = _cipher()  # numbers are stored encrypted

    async def run():
        engine, sessions = _sessions()
        try:
            async with sessions() as session:
                return (
                    await session.scalars(
                        select(OutboundMessage)
                        .where(OutboundMessage.status.in_(("failed", "undelivered")))
                        .order_by(OutboundMessage.updated_at.desc())
                        .limit(limit)
                    )
                ).all()
        finally:
            await engine.dispose()

    rows = asyncio.run(run())
    if not rows:
        typer.echo("No failed WhatsApp messages.")
        return
    for row in rows:
        fallback = " (template sent instead)" if row.fallback_sent else ""
        typer.echo(
            f"{row.updated_at:%Y-%m-%d %H:%M} UTC  {mask('phone', address_of(cipher, row))}  {row.kind:<8} "
            f"{row.status:<11} error {row.error_code or '-'}  {row.sid}{fallback}"
        )


outbox_app = typer.Typer(help="The notifications outbox.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("dead")
def outbox_dead(limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """Messages that could not be delivered after every attempt, newest first. Admins are also
    told in chat, with Retry / Discard buttons."""
    from backend.outbox import queue

    async def run():
        engine, sessions = _sessions()
        try:
            async with sessions() as session:
                return await queue.dead_letters(session, limit)
        finally:
            await engine.dispose()

    rows = asyncio.run(run())
    if not rows:
        typer.echo("No dead letters.")
        return
    for row in rows:
        typer.echo(
            f"{row.updated_at:%Y-%m-%d %H:%M} UTC  {row.id}  {row.template}  kind={row.kind}  "
            f"attempts={row.attempts}  {row.last_error or ''}"
        )


inbox_app = typer.Typer(help="Updates received from Telegram and WhatsApp.", no_args_is_help=True)
app.add_typer(inbox_app, name="inbox")


@inbox_app.command("failed")
def inbox_failed(limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """Updates that could not be handled (malformed, a file that could not be fetched, an error),
    newest first: channel, the platform's id, when, and why. Never their contents; they are not
    retried (the user, where known, was told once)."""
    from backend import inbox

    async def run():
        engine, sessions = _sessions()
        try:
            async with sessions() as session:
                return await inbox.failed(session, limit)
        finally:
            await engine.dispose()

    rows = asyncio.run(run())
    if not rows:
        typer.echo("No failed updates.")
        return
    for row in rows:
        reason = inbox.REASONS.get(row.failure or "", "")
        typer.echo(
            f"{row.failed_at:%Y-%m-%d %H:%M} UTC  {row.channel:<9} {row.platform_id}  {row.failure}: {reason}"
        )


if __name__ == "__main__":
    app()
