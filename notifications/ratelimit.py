"""Send rate limits, per key ("telegram:bot", "telegram:chat:42"), waited for before each call.

- In one process (the default): aiolimiter's leaky bucket per key.
- Across processes (`TELECARE_REDIS_URL` set): the `limits` library's moving window in Redis, so
  every worker and web process draws from one budget per bot and per chat.

Both keep a little under the platform's rate (`HEADROOM`): the platform counts arrivals, which
jitter by a few milliseconds against our clock, and a 429 costs far more than 2 % of the rate.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from aiolimiter import AsyncLimiter

HEADROOM = 0.98
MAX_LOCAL_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class Rate:
    count: float  # messages …
    seconds: int = 1  # … per this many seconds
    # Sent back to back at most: small bursts keep arrivals even (aiolimiter's bucket size).
    burst: int = 1

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


class RateLimits(Protocol):
    async def acquire(self, key: str, rate: Rate) -> None:
        """Wait until one more call under `key` keeps within `rate`."""

    async def close(self) -> None: ...


class LocalLimits:
    def __init__(self, headroom: float = HEADROOM) -> None:
        self._headroom = headroom
        self._limiters: OrderedDict[str, AsyncLimiter] = OrderedDict()

    def _limiter(self, key: str, rate: Rate) -> AsyncLimiter:
        limiter = self._limiters.pop(key, None)
        if limiter is None:
            burst = max(1, rate.burst)
            limiter = AsyncLimiter(burst, burst / (rate.per_second * self._headroom))
        self._limiters[key] = limiter  # most recently used last; the oldest are forgotten
        while len(self._limiters) > MAX_LOCAL_KEYS:
            self._limiters.popitem(last=False)
        return limiter

    async def acquire(self, key: str, rate: Rate) -> None:
        await self._limiter(key, rate).acquire()

    async def close(self) -> None:
        self._limiters.clear()


class RedisLimits:
    """A moving window per key in Redis (the `limits` library, on redis-py's asyncio client)."""

    def __init__(self, url: str, *, headroom: float = HEADROOM, prefix: str = "telecare") -> None:
        from limits import RateLimitItemPerSecond
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter

        uri = url if url.startswith("async+") else f"async+{url}"
        self._storage = RedisStorage(uri, implementation="redispy", key_prefix=prefix)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._item = RateLimitItemPerSecond
        self._headroom = headroom

    async def acquire(self, key: str, rate: Rate) -> None:
        item = self._item(max(1, int(rate.count * self._headroom)), rate.seconds)
        while not await self._limiter.hit(item, key):
            stats = await self._limiter.get_window_stats(item, key)
            # Wake when the oldest call leaves the window; a little jitter so that waiters do not
            # all ask Redis again in the same millisecond.
            await asyncio.sleep(max(0.001, stats.reset_time - time.time()) + random.uniform(0, 0.005))

    async def close(self) -> None:
        client = getattr(self._storage, "storage", None)
        close = getattr(client, "aclose", None)
        if close is not None:
            await close()


def build(redis_url: str | None) -> RateLimits:
    return RedisLimits(redis_url) if redis_url else LocalLimits()
