"""Notifications for web chats across processes, through Redis (when TELECARE_REDIS_URL is set).

Web chats' sockets live in the web processes; `telecare worker` processes send notifications.
So each web process notes in Redis which chats it has a tab open for (a sorted set per chat, one
member per process, each expiring a minute after its last refresh, so a dead process's tabs
fade), and listens on one pub/sub channel. A worker that finds the chat open publishes the notice
and waits briefly for a web process to say it showed it; with no such word (the tab closed in
between, the process died) the notice is refused but kept: it waits for the chat to open."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid

import structlog
from redis import asyncio as aioredis

from bot.web.hub import SocketHub

log = structlog.get_logger(__name__)
OPEN_FOR_SECONDS = 60
REFRESH_SECONDS = 20
ACK_WAIT_SECONDS = 2.0


class WebRelay:
    def __init__(self, url: str, *, prefix: str = "telecare") -> None:
        self.redis = aioredis.from_url(url)
        self.channel = f"{prefix}:web:notices"
        self._open = f"{prefix}:web:open:"
        self._shown = f"{prefix}:web:shown:"
        self.process = uuid.uuid4().hex  # this process, as a member of the chats' open sets

    async def close(self) -> None:
        await self.redis.aclose()

    # --- the worker's side ------------------------------------------------------------------

    async def is_open(self, chat_key: str) -> bool:
        return await self.redis.zcount(self._open + chat_key, time.time(), "+inf") > 0

    async def publish(self, chat_key: str, frame: dict, outbox_ids: list[str]) -> bool:
        """True once a web process says it put the notice on screen."""
        message = json.dumps({"chat_key": chat_key, "frame": frame, "outbox_ids": outbox_ids})
        if not await self.redis.publish(self.channel, message):
            return False
        shown = self._shown + outbox_ids[0]
        for _ in range(int(ACK_WAIT_SECONDS / 0.05)):
            if await self.redis.exists(shown):
                return True
            await asyncio.sleep(0.05)
        return False

    # --- the web process's side -------------------------------------------------------------

    async def opened(self, chat_key: str) -> None:
        key = self._open + chat_key
        await self.redis.zadd(key, {self.process: time.time() + OPEN_FOR_SECONDS})
        await self.redis.expire(key, OPEN_FOR_SECONDS)

    async def closed(self, chat_key: str, hub: SocketHub) -> None:
        if not hub.has(chat_key):  # only this process's membership: another may hold a tab too
            await self.redis.zrem(self._open + chat_key, self.process)

    async def serve(self, hub: SocketHub) -> None:
        """Show what workers publish, and keep this process's open chats marked open."""
        refresher = asyncio.create_task(self._keep_open(hub))
        try:
            while True:
                try:
                    async with self.redis.pubsub() as pubsub:
                        await pubsub.subscribe(self.channel)
                        async for message in pubsub.listen():
                            if message.get("type") == "message":
                                try:
                                    await self._show(message["data"], hub)
                                except Exception:  # one message's trouble must not end the relay
                                    log.exception("web_relay_show_failed")
                except (aioredis.RedisError, OSError) as failure:
                    # Meanwhile workers find no chat open and leave messages waiting: nothing lost.
                    log.warning("web_relay_unavailable", error=type(failure).__name__)
                    await asyncio.sleep(5)
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher

    async def _show(self, data: bytes, hub: SocketHub) -> None:
        try:
            message = json.loads(data)
            chat_key, frame, ids = message["chat_key"], message["frame"], message["outbox_ids"]
        except (ValueError, KeyError, TypeError):
            log.warning("web_relay_bad_message")
            return
        if hub.has(chat_key) and await hub.send(chat_key, frame):
            await self.redis.set(self._shown + ids[0], "1", ex=OPEN_FOR_SECONDS)  # the worker waits for this

    async def _keep_open(self, hub: SocketHub) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            for chat_key in hub.chat_keys():
                with contextlib.suppress(Exception):
                    await self.opened(chat_key)
