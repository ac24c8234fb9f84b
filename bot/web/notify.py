"""Notifications in the web chat: pushed at once to every open tab of the chat. A chat with no
open tab refuses it (the outbox then tries the user's other chats) but lets it wait: when nothing
else takes it, it is shown the next time a web chat of that user opens (`flush_waiting`)."""

from __future__ import annotations

import structlog
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.crypto import FieldCipher
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
        Reply(text=n.text, choices=tuple(Choice(label=a.label, token=a.token) for a in n.actions)).as_dict()
        for n in notices
    ]
    return {"type": "notice", "replies": replies}


class WebNotifier:
    """In a web process: straight to the chat's open tabs. In a worker (no sockets here), through
    `relay` to the web process that holds the chat, when Redis says one does."""

    channel = CHANNEL
    chat_interval = 0.0  # no per-chat limit to keep

    def __init__(self, hub: SocketHub, relay: WebRelay | None = None) -> None:
        self.hub = hub
        self.relay = relay

    async def deliver(self, address: str, notice: Notice) -> Delivery:
        chat_key = f"{CHANNEL}:{address}"
        if await self.hub.send(chat_key, frame([notice])):
            return Delivery.sent(status="delivered")
        if self.relay is not None:
            try:
                if await self.relay.is_open(chat_key) and await self.relay.publish(
                    chat_key, frame([notice]), [notice.outbox_id]
                ):
                    return Delivery.sent(status="delivered")
            except RedisError as failure:  # Redis away: it waits for the chat, nothing lost
                log.warning("web_relay_unavailable", error=type(failure).__name__)
        return Delivery.refused("the web chat is not open", can_wait=True)


async def flush_waiting(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, hub: SocketHub, address: str
) -> int:
    """Show a web chat that just opened what waited for it (marked delivered once on screen)."""
    notices = await waiting.for_web_chat(sessions, cipher, address)
    if notices and await hub.send(f"{CHANNEL}:{address}", frame(notices)):
        await waiting.mark_delivered(sessions, [n.outbox_id for n in notices])
        return len(notices)
    return 0
