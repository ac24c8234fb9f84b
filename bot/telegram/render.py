"""Reply values → Telegram Bot API calls (aiogram method objects).

Everything we send is HTML with all text escaped, so nothing a user typed can become markup.
Texts longer than Telegram's 4096 characters (counted in UTF-16 units) are split at line
boundaries; buttons carry our short opaque choice tokens, never ids or labels. A reply's link (a
checkout) is a URL button above the choices when Telegram would take its URL, else in the text."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.text import split_text
from conversations.messages import Link, Reply, RequestKind

MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
MAX_BUTTONS = 100


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def button_url_ok(url: str) -> bool:
    """Whether Telegram takes this as a URL button: http(s) with a dotted host. It refuses the
    rest (BUTTON_URL_INVALID / "Wrong HTTP URL" for http://localhost:8000 or http://testserver,
    rubenlagus/TelegramBots#302), and one refused button loses the whole message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and "." in host and " " not in url


def _link_button(link: Link | None) -> list[list[InlineKeyboardButton]]:
    if link is None or not button_url_ok(link.url):
        return []
    return [[InlineKeyboardButton(text=link.label, url=link.url)]]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if reply.choices or _link_button(reply.link):
        buttons = _link_button(reply.link)
        for choice in reply.choices[: MAX_BUTTONS - len(buttons)]:
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
    text = reply.text
    if reply.link and not button_url_ok(reply.link.url):  # no button for it: the URL goes in the text
        text = f"{text}\n\n{reply.link.label}: {reply.link.url}".strip()
    pieces = split_text(text or "…", MAX_TEXT)
    markup = keyboard(reply)
    calls: list[TelegramMethod] = []
    for index, piece in enumerate(pieces):
        text = f"<b>{escape(piece)}</b>" if reply.urgent else escape(piece)
        last = index == len(pieces) - 1
        calls.append(
            SendMessage(chat_id=chat_id, text=text, parse_mode="HTML", reply_markup=markup if last else None)
        )
    return calls
