"""Notifications in the web chat: pushed at once to every open tab of the chat. A chat with no
open tab refuses it (the outbox then tries the user's other chats) but lets it wait: when nothing
else takes it, it is shown the next time a web chat of that user opens (`flush_waiting`).

What a tab showed is kept in the chat's history (bot/web/history.py), so a reload shows it again:
once per notice, however many tabs showed it, and only once it is known to be on screen (a tab
here took it, a web process elsewhere said it showed it, or a waiting one was moved to delivered
by this opening). Its buttons are kept as words, which a reloaded page cannot press; while they
are live they can still be typed ("Accept 417", as on a text-only channel), so the kept text ends
with that hint."""

from __future__ import annotations

from dataclasses import replace

import structlog
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.accounts import web_history
from backend.accounts.web_history import Shown
from backend.crypto import FieldCipher
from backend.models import utcnow
from bot.web.history import bot_messages
from bot.web.hub import SocketHub
from bot.web.relay import WebRelay
from conversations.messages import Choice, Reply
from notifications import waiting
from notifications.sender import Delivery, Notice

log = structlog.get_logger(__name__)
CHANNEL = "web"


def frame(notices: list[Notice]) -> dict:
    # Never styled as urgent (that look is for emergency guidance): urgent only skips quiet hours.
    replies = [
        Reply(
            text=n.text,
            choices=tuple(Choice(label=a.label, token=a.token) for a in n.actions),
            private=n.private,
        ).as_dict()
        for n in notices
    ]
    return {"type": "notice", "replies": replies}


def kept(notices: list[Notice]) -> list[Shown]:
    """The notices as the chat's history keeps them: as shown, plus how to type their buttons."""
    shown = bot_messages(frame(notices)["replies"], side="notice")
    return [replace(message, typed=notice.typed_hint) for message, notice in zip(shown, notices, strict=True)]


async def keep_shown(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, address: str, notices: list[Notice]
) -> None:
    """Keep notices a tab showed in the chat's history. They are on screen already: a database
    that fails here costs the history, never a second delivery."""
    if not notices:
        return
    try:
        async with sessions() as session, session.begin():
            await web_history.record(session, cipher, address, kept(notices), utcnow())
    except SQLAlchemyError as failure:
        log.warning("web_notice_not_kept", error=type(failure).__name__)


class WebNotifier:
    """In a web process: straight to the chat's open tabs. In a worker (no sockets here), through
    `relay` to the web process that holds the chat, when Redis says one does. Either way, a notice
    shown is kept in the chat's history here, once."""

    channel = CHANNEL
    chat_interval = 0.0  # no per-chat limit to keep

    def __init__(
        self,
        hub: SocketHub,
        relay: WebRelay | None = None,
        *,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
    ) -> None:
        self.hub = hub
        self.relay = relay
        self.sessions = sessions
        self.cipher = cipher

    async def deliver(self, address: str, notice: Notice) -> Delivery:
        if await self._show(address, notice):
            await keep_shown(self.sessions, self.cipher, address, [notice])
            return Delivery.sent(status="delivered")
        return Delivery.refused("the web chat is not open", can_wait=True)

    async def _show(self, address: str, notice: Notice) -> bool:
        """True once a tab (here, or in another web process) has it on screen."""
        chat_key = f"{CHANNEL}:{address}"
        if await self.hub.send(chat_key, frame([notice])):
            return True
        if self.relay is None:
            return False
        try:
            # A publish no tab took (closed in between, the process gone) is not shown: it waits.
            return await self.relay.is_open(chat_key) and await self.relay.publish(
                chat_key, frame([notice]), [notice.outbox_id]
            )
        except RedisError as failure:  # Redis away: it waits for the chat, nothing lost
            log.warning("web_relay_unavailable", error=type(failure).__name__)
            return False


async def flush_waiting(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, hub: SocketHub, address: str
) -> int:
    """Show a web chat that just opened what waited for it, and keep it in its history. Each is
    claimed (moved to delivered) before it is shown, so that two tabs opening at once, or the user
    writing on Telegram meanwhile (which puts waiting ones back in the queue), never show one
    twice; a tab gone before it could show them lets them wait again. Returns how many it showed."""
    notices = await waiting.for_web_chat(sessions, cipher, address)
    moved = await waiting.mark_delivered(sessions, [n.outbox_id for n in notices]) if notices else set()
    claimed = [notice for notice in notices if notice.outbox_id in moved]
    if not claimed:
        return 0
    if not await hub.send(f"{CHANNEL}:{address}", frame(claimed)):
        await waiting.wait_again(sessions, [n.outbox_id for n in claimed])
        return 0
    await keep_shown(sessions, cipher, address, claimed)
    return len(claimed)
