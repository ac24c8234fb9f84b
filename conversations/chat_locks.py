"""One lock per chat, so a chat's messages are handled (and its replies sent) one at a time, in
order. The engine holds it around each message; the Telegram and WhatsApp channels hold it from
storing an update to sending its replies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ChatLocks:
    """One asyncio lock per chat, dropped when nobody holds or waits for it. On PostgreSQL the
    identity row is also locked (FOR UPDATE), which serialises a chat across processes."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def wait_turn(self, key: str) -> None:
        """Return once everything already holding or queued for this chat's lock is done."""
        async with self.hold(key):
            return

    def __len__(self) -> int:
        return len(self._locks)
