"""Telegram updates → Inbound values. Pure functions over the update's JSON.

An update is first checked against aiogram's `Update` model (the Bot API's types): one whose
fields have the wrong types (`"message": 5`, a number as text) raises `Unusable`, with its
private chat when that can still be told, instead of failing somewhere further on."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiogram.types import Update
from pydantic import ValidationError

from conversations.messages import Inbound, InboundKind


class Unusable(Exception):
    """An update that cannot be used; `reason` is a code of backend.inbox.REASONS."""

    def __init__(self, reason: str, chat_id: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.chat_id = chat_id  # the private chat to tell, when known


@dataclass(frozen=True)
class Parsed:
    inbound: Inbound | None  # None: nothing for the engine (a group chat, an edit, a reaction...)
    chat_id: int | None
    callback_query_id: str | None = None
    pressed_message_id: int | None = None  # the message whose button was pressed
    file_id: str | None = None  # a document or photo to fetch and store before the engine sees it
    file_name: str = ""
    file_size: int = 0
    content_type: str = "application/octet-stream"


# Telegram writes `update_id` first, and a chat's `id` before its `type`. Read from the raw body
# only when the body is nested too deep for any JSON parser, so that such an update can still be
# finished as failed (and its private chat told once) instead of being retried for ever.
_UPDATE_ID = re.compile(rb'\A\s*\{\s*"update_id"\s*:\s*(\d{1,18})\s*[,}]')
_PRIVATE_CHAT = re.compile(
    rb'"chat"\s*:\s*\{\s*"id"\s*:\s*(\d{1,18})\s*,[^{}\[\]]{0,500}?"type"\s*:\s*"private"'
)


def salvage(body: bytes) -> dict | None:
    """What can be read of an update too deep to parse, as a minimal update (its id and, when
    plainly there, its private chat), or None when not even its id can be read."""
    head = _UPDATE_ID.match(body)
    if head is None:
        return None
    update: dict = {"update_id": int(head.group(1))}
    if chat := _PRIVATE_CHAT.search(body, 0, 64 * 1024):
        update["message"] = {"chat": {"id": int(chat.group(1)), "type": "private"}}
    return update


def platform_id(update: dict) -> str:
    return f"u{update['update_id']}"


def private_chat_of(update: dict) -> int | None:
    """The private chat an update came from, read defensively (the update may be malformed)."""
    query = update.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else update.get("message")
    chat = message.get("chat") if isinstance(message, dict) else None
    if isinstance(chat, dict) and chat.get("type") == "private" and type(chat.get("id")) is int:
        return chat["id"]
    return None


def parse(update: dict) -> Parsed:
    try:
        Update.model_validate(update)
    except ValidationError:
        raise Unusable("malformed_update", private_chat_of(update)) from None
    if query := update.get("callback_query"):
        message = query.get("message") or {}
        chat = message.get("chat") or {}
        if chat.get("type") != "private" or not isinstance(query.get("data"), str):
            return Parsed(None, chat.get("id"), callback_query_id=query.get("id"))
        inbound = Inbound(
            channel="telegram",
            chat_id=str(chat["id"]),
            kind=InboundKind.CHOICE,
            choice_token=query["data"][:64],
            platform_id=platform_id(update),
        )
        return Parsed(
            inbound, chat["id"], callback_query_id=query["id"], pressed_message_id=message.get("message_id")
        )

    message = update.get("message")
    if not message or (message.get("chat") or {}).get("type") != "private":
        return Parsed(None, (message or {}).get("chat", {}).get("id"))
    chat_id = message["chat"]["id"]
    base = {"channel": "telegram", "chat_id": str(chat_id), "platform_id": platform_id(update)}

    if contact := message.get("contact"):
        # Anyone can forward someone else's contact: only the sender's own proves a number.
        own = contact.get("user_id") is not None and contact.get("user_id") == (
            message.get("from") or {}
        ).get("id")
        phone = contact.get("phone_number") if own else None
        return Parsed(Inbound(kind=InboundKind.CONTACT, contact_phone=phone, **base), chat_id)
    if location := message.get("location"):
        text = f"{location.get('latitude')},{location.get('longitude')}"
        return Parsed(Inbound(kind=InboundKind.LOCATION, text=text, **base), chat_id)
    if document := message.get("document"):
        return Parsed(
            Inbound(kind=InboundKind.FILE, **base),
            chat_id,
            file_id=document["file_id"],
            file_name=document.get("file_name") or "document",
            file_size=document.get("file_size") or 0,
            content_type=document.get("mime_type") or "application/octet-stream",
        )
    if photos := message.get("photo"):
        largest = max(photos, key=lambda p: p.get("file_size") or p.get("width", 0) * p.get("height", 0))
        return Parsed(
            Inbound(kind=InboundKind.FILE, **base),
            chat_id,
            file_id=largest["file_id"],
            file_name="photo.jpg",
            file_size=largest.get("file_size") or 0,
            content_type="image/jpeg",
        )
    text = message.get("text") or message.get("caption") or ""
    return Parsed(Inbound(kind=InboundKind.TEXT, text=text, **base), chat_id)
