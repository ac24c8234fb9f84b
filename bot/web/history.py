"""The web chat's side of its history (backend/accounts/web_history.py keeps it): what a frame
showed, as messages to keep, and the history a tab that opens is sent first.

Also the chat's language for the page's own words (placeholder, labels, footer): every answer
frame and the history frame carry `locale`, read in the same transaction that keeps the messages."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.accounts import web_history
from backend.accounts.web_history import Shown
from backend.crypto import FieldCipher
from backend.models import utcnow
from conversations.messages import Inbound, InboundKind


def user_words(inbound: Inbound, filename: str | None = None) -> str:
    """What the page showed for the user's message: the text or the file's name. A tapped
    button's words are found by its token among the buttons the chat showed (keep_exchange);
    "…" stands for one we never showed."""
    if inbound.kind is InboundKind.FILE:
        return f"📎 {filename or 'file'}"
    if inbound.kind is InboundKind.CHOICE:
        return "…"
    return inbound.text


def bot_messages(replies: list[dict], side: str = "bot") -> list[Shown]:
    """Replies (as sent to the page) as messages to keep: their buttons as words only."""
    return [
        Shown(
            side=side,
            text=reply["text"],
            labels=tuple(choice["label"] for choice in reply["choices"]),
            urgent=bool(reply["urgent"]),
            calls=bool(reply.get("calls")),
            document=reply["document"]["filename"] if reply["document"] else None,
            tokens=tuple(choice["token"] for choice in reply["choices"]),
            private=bool(reply.get("private")),
        )
        for reply in replies
    ]


async def keep_exchange(
    sessions: async_sessionmaker[AsyncSession],
    cipher: FieldCipher,
    address: str,
    inbound: Inbound,
    replies: list[dict],
    *,
    filename: str | None = None,
) -> str:
    """Keep the user's message and the bot's answer; returns the chat's language (after the
    answer: "हिंदी" just picked is already Hindi)."""
    shown = [Shown(side="user", text=user_words(inbound, filename)), *bot_messages(replies)]
    async with sessions() as session, session.begin():
        identity = await web_history.record(
            session, cipher, address, shown, utcnow(), pressed=inbound.choice_token
        )
        return await web_history.chat_locale(session, cipher, identity)


def _same(message: Shown, reply: dict) -> bool:
    labels = tuple(choice["label"] for choice in reply["choices"])
    # A private message's words are not kept: the same buttons on a private message are a match.
    words = (message.private and bool(reply.get("private"))) or message.text == reply["text"]
    return message.side == "bot" and words and message.labels == labels


def ends_with_prompt(shown: list[Shown], prompt: list[dict]) -> bool:
    """Whether the history already ends with the question the chat waits on (a reconnect)."""
    tail = len(prompt)
    return bool(tail) and len(shown) >= tail and all(map(_same, shown[-tail:], prompt))


def opening_frame(shown: list[Shown], prompt: list[dict], locale: str) -> dict | None:
    """The history a tab is sent on opening (None: nothing to show). The question the chat is
    waiting on comes next, with live buttons, so it is not in it."""
    if ends_with_prompt(shown, prompt):
        shown = shown[: -len(prompt)]
    if not shown:
        return None
    return {"type": "history", "locale": locale, "messages": [message.for_page() for message in shown]}


async def keep_prompt(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, address: str, prompt: list[dict]
) -> None:
    """Keep the question a tab was just asked again, so that the history reads as the page did.
    Called after the notifications the opening showed (they come before it on the page)."""
    if prompt:
        async with sessions() as session, session.begin():
            await web_history.record(session, cipher, address, bot_messages(prompt), utcnow())
