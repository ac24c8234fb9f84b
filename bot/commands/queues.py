"""`telecare outbox` and `telecare inbox`: messages that could not be sent or processed."""

from __future__ import annotations

import typer

from bot.commands.common import in_database

outbox_app = typer.Typer(help="The notifications outbox.", no_args_is_help=True)
inbox_app = typer.Typer(help="Updates received from Telegram and WhatsApp.", no_args_is_help=True)


@outbox_app.command("dead")
def outbox_dead(limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """Messages that could not be delivered after every attempt, newest first. Admins are also
    told in chat, with Retry / Discard buttons."""
    from backend.outbox import queue

    async def run(sessions):
        async with sessions() as session:
            return await queue.dead_letters(session, limit)

    rows = in_database(run)
    if not rows:
        typer.echo("No dead letters.")
        return
    for row in rows:
        typer.echo(
            f"{row.updated_at:%Y-%m-%d %H:%M} UTC  {row.id}  {row.template}  kind={row.kind}  "
            f"attempts={row.attempts}  {row.last_error or ''}"
        )


@inbox_app.command("failed")
def inbox_failed(limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """Updates that could not be handled (malformed, a file that could not be fetched, an error),
    newest first: channel, the platform's id, when, and why. Never their contents; they are not
    retried (the user, where known, was told once)."""
    from backend import inbox

    async def run(sessions):
        async with sessions() as session:
            return await inbox.failed(session, limit)

    rows = in_database(run)
    if not rows:
        typer.echo("No failed updates.")
        return
    for row in rows:
        reason = inbox.REASONS.get(row.failure or "", "")
        typer.echo(
            f"{row.failed_at:%Y-%m-%d %H:%M} UTC  {row.channel:<9} {row.platform_id}  {row.failure}: {reason}"
        )
