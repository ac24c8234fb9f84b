"""The command list Telegram shows in its menu, from the message catalogue."""

from __future__ import annotations

from aiogram.types import BotCommand

from conversations.commands import COMMANDS
from conversations.copy import translate


def bot_commands(locale: str) -> list[BotCommand]:
    start = BotCommand(command="start", description=translate(locale, "botcmd_start"))
    return [start] + [
        BotCommand(command=name, description=translate(locale, f"botcmd_{name}")) for name in COMMANDS
    ]
