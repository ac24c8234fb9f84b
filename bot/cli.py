"""The `telecare` command: serve, worker, migrate and demo data here; the groups of subcommands
(keys, audit, admin, admin-token, telegram, whatsapp, outbox, inbox, safety) in bot/commands/.
Every command reads TELECARE_DATABASE_URL (default: the SQLite file in var/)."""

from __future__ import annotations

import asyncio

import typer

from backend.settings import get_settings
from bot.commands.admins import admin_app, admin_token_app
from bot.commands.channels import telegram_app, whatsapp_app
from bot.commands.common import fail, in_database, load_cipher
from bot.commands.keys import audit_app, keys_app
from bot.commands.queues import inbox_app, outbox_app
from bot.commands.safety import safety_app

app = typer.Typer(
    help="telecare: telemedicine inside messaging apps.", no_args_is_help=True, pretty_exceptions_enable=False
)

for group, name in (
    (keys_app, "keys"),
    (audit_app, "audit"),
    (admin_app, "admin"),
    (admin_token_app, "admin-token"),
    (telegram_app, "telegram"),
    (whatsapp_app, "whatsapp"),
    (outbox_app, "outbox"),
    (inbox_app, "inbox"),
    (safety_app, "safety"),
):
    app.add_typer(group, name=name)


@app.callback()
def _configure() -> None:
    """Settings are checked, and logs redacted, before any command runs."""
    from pydantic import ValidationError

    from backend import logs

    try:
        settings = get_settings()
    except ValidationError as exc:
        problems = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        fail(f"Configuration: {problems}")
    logs.configure(settings.log_level, settings.log_json, dev_codes_allowed=not settings.is_production)


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
    load_cipher()  # fail early, with a clear message, when the keys are missing
    try:
        app = create_app(settings)
    except ValidationError as exc:
        fail(
            "Configuration: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        )
    except ValueError as exc:
        fail(f"Configuration: {exc}")
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
    load_cipher()
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
        fail(f"Migration: {exc}")
    typer.echo("Database is up to date.")


@app.command("demo-data")
def demo_data() -> None:
    """Load the demo doctors, pharmacies, labs, admin and patient (safe to run again)."""
    from backend import demo

    if get_settings().is_production:
        fail("Demo data is for development and demos; TELECARE_ENV is production.")
    cipher = load_cipher()

    async def run(sessions) -> str:
        async with sessions() as session, session.begin():
            return str(await demo.load(session, cipher, horizon_days=get_settings().booking_horizon_days))

    typer.echo(f"Demo data: {in_database(run)}.")


if __name__ == "__main__":
    app()
