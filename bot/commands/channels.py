"""`telecare telegram` and `telecare whatsapp`: setting up the bot, and what Twilio reported."""

from __future__ import annotations

import asyncio

import typer

from backend.settings import get_settings
from bot.commands.common import fail, in_database, load_cipher

telegram_app = typer.Typer(help="The Telegram channel.", no_args_is_help=True)
whatsapp_app = typer.Typer(help="The WhatsApp channel.", no_args_is_help=True)


def _telegram_call(method) -> object:
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

    from bot.telegram.channel import make_bot
    from bot.telegram.settings import TelegramSettings

    telegram = TelegramSettings()
    if not telegram.enabled:
        fail("TELEGRAM_BOT_TOKEN is not set.")

    async def run():
        bot = make_bot(telegram)
        try:
            return await bot(method(telegram))
        finally:
            await bot.session.close()

    try:
        return asyncio.run(run())
    except (TelegramAPIError, TelegramNetworkError) as exc:
        fail(f"Telegram refused: {exc}")


@telegram_app.command("set-webhook")
def telegram_set_webhook() -> None:
    """Point Telegram at TELECARE_PUBLIC_BASE_URL/webhooks/telegram, with the secret."""
    from aiogram.methods import SetWebhook

    from bot.telegram.channel import ALLOWED_UPDATES

    public = get_settings().public_base_url.rstrip("/")

    def method(telegram):
        if not telegram.webhook_secret:
            fail("TELEGRAM_WEBHOOK_SECRET is not set.")
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


@whatsapp_app.command("failures")
def whatsapp_failures(limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """Messages Twilio reported failed or undelivered, newest first, with Twilio's error code
    (https://www.twilio.com/docs/api/errors/<code>). Numbers are masked."""
    from sqlalchemy import select

    from backend.accounts.chats import address_of
    from backend.accounts.contacts import mask
    from backend.models import OutboundMessage

    cipher = load_cipher()  # numbers are stored encrypted

    async def run(sessions):
        async with sessions() as session:
            return (
                await session.scalars(
                    select(OutboundMessage)
                    .where(OutboundMessage.status.in_(("failed", "undelivered")))
                    .order_by(OutboundMessage.updated_at.desc())
                    .limit(limit)
                )
            ).all()

    rows = in_database(run)
    if not rows:
        typer.echo("No failed WhatsApp messages.")
        return
    for row in rows:
        fallback = " (template sent instead)" if row.fallback_sent else ""
        typer.echo(
            f"{row.updated_at:%Y-%m-%d %H:%M} UTC  {mask('phone', address_of(cipher, row))}  {row.kind:<8} "
            f"{row.status:<11} error {row.error_code or '-'}  {row.sid}{fallback}"
        )
