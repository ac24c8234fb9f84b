"""Notifications for web chats across processes, through Redis (when TELECARE_REDIS_URL is set).

Web chats' sockets live in the web processes; `telecare worker` processes send notifications.
So web processes note in Redis which chats have a tab open (a key per chat, refreshed while it
is open, gone a minute after the process dies), and listen on one pub/sub channel. A worker that
finds the chat open publishes the notice; the web process holding the tab shows it, or, if the
tab closed in between, marks it waiting, so that it is shown when the chat next opens."""

from __future__ import annotations

import asyncio
import contextlib
import json

import structlog
from redis import asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.web.hub import SocketHub
from notifications import waiting

log = structlog.get_logger(__name__)
OPEN_FOR_SECONDS = 60
REFRESH_SECONDS = 20


class WebRelay:
    def __init__(self, url: str, *, prefix: str = "telecare") -> None:
        self.redis = aioredis.from_url(url)
        self.channel = f"{prefix}:web:notices"
        self._open = f"{prefix}:web:open:"

    async def close(self) -> None:
        await self.redis.aclose()

    # --- the worker's side ------------------------------------------------------------------

    async def is_open(self, chat_key: str) -> bool:
        return bool(await self.redis.exists(self._open + chat_key))

    async def publish(self, chat_key: str, frame: dict, outbox_ids: list[str]) -> bool:
        """True when a web process received it (it shows it, or marks it waiting)."""
        message = json.dumps({"chat_key": chat_key, "frame": frame, "outbox_ids": outbox_ids})
        return await self.redis.publish(self.channel, message) > 0

    # --- the web process's side -------------------------------------------------------------

    async def opened(self, chat_key: str) -> None:
        await self.redis.set(self._open + chat_key, "1", ex=OPEN_FOR_SECONDS)

    async def closed(self, chat_key: str, hub: SocketHub) -> None:
        if not hub.has(chat_key):
            await self.redis.delete(self._open + chat_key)

    async def serve(self, hub: SocketHub, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Show what workers publish, and keep this process's open chats marked open."""
        refresher = asyncio.create_task(self._keep_open(hub))
        try:
            while True:
                try:
                    async with self.redis.pubsub() as pubsub:
                        await pubsub.subscribe(self.channel)
                        async for message in pubsub.listen():
                            if message.get("type") == "message":
                                await self._show(message["data"], hub, sessions)
                except (aioredis.RedisError, OSError) as failure:
                    # Meanwhile workers find no chat open and leave messages waiting: nothing lost.
                    log.warning("web_relay_unavailable", error=type(failure).__name__)
                    await asyncio.sleep(5)
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher

    async def _show(self, data: bytes, hub: SocketHub, sessions) -> None:
        try:
            message = json.loads(data)
            chat_key, frame, ids = message["chat_key"], message["frame"], message["outbox_ids"]
        except (ValueError, KeyError, TypeError):
            log.warning("web_relay_bad_message")
            return
        if not hub.has(chat_key):
            return  # another web process holds this chat
        if not await hub.send(chat_key, frame):
            # The tab closed in between. Shielded: stopping the relay must not cut this in half.
            await asyncio.shield(waiting.mark_waiting(sessions, ids))

    async def _keep_open(self, hub: SocketHub) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            for chat_key in hub.chat_keys():
                with contextlib.suppress(Exception):
                    await self.opened(chat_key)
