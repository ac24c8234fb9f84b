"""Reply values → Telegram Bot API calls (aiogram method objects).

Everything we send is HTML with all text escaped, so nothing a user typed can become markup.
Texts longer than Telegram's 4096 characters (counted in UTF-16 units) are split at line
boundaries; buttons carry our short opaque choice tokens, never ids or labels."""

from __future__ import annotations

import html

from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.text import split_text
from conversations.messages import Reply, RequestKind

MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
MAX_BUTTONS = 100


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if reply.choices:
        buttons = []
        for choice in reply.choices[:MAX_BUTTONS]:
            if not 1 <= len(choice.token.encode()) <= MAX_CALLBACK_BYTES:
                raise ValueError("choice tokens must fit Telegram's callback_data")
            buttons.append([InlineKeyboardButton(text=choice.label, callback_data=choice.token)])
        return InlineKeyboardMarkup(inline_keyboard=buttons)
    if reply.request is RequestKind.CONTACT:
        share = KeyboardButton(text=reply.request_label or "📱", request_contact=True)
        return ReplyKeyboardMarkup(keyboard=[[share]], one_time_keyboard=True, resize_keyboard=True)
    return None


def messages(chat_id: int, reply: Reply) -> list[TelegramMethod]:
    """The sendMessage calls for one reply (documents are sent separately, see channel)."""
    # Split the plain text (Telegram counts what is visible), then escape each piece, so a cut
    # never falls inside an entity like &amp; or a <b> tag.
    pieces = split_text(reply.text or "…", MAX_TEXT)
    markup = keyboard(reply)
    calls: list[TelegramMethod] = []
    for index, piece in enumerate(pieces):
        text = f"<b>{escape(piece)}</b>" if reply.urgent else escape(piece)
        last = index == len(pieces) - 1
        calls.append(
            SendMessage(chat_id=chat_id, text=text, parse_mode="HTML", reply_markup=markup if last else None)
        )
    return calls
