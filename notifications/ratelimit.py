"""Send rate limits, per key ("telegram:bot", "telegram:chat:42"), waited for before each call.

- In one process (the default): aiolimiter's leaky bucket per key.
- Across processes (`TELECARE_REDIS_URL` set): the `limits` library's moving window in Redis, so
  every worker and web process draws from one budget per bot and per chat.

Both keep a little under the platform's rate (`HEADROOM`): the platform counts arrivals, which
jitter by a few milliseconds against our clock, and a 429 costs far more than 2 % of the rate.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiolimiter import AsyncLimiter
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)
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

    def __init__(
        self, url: str, *, headroom: float = HEADROOM, prefix: str = "telecare", connections: int = 32
    ) -> None:
        from limits import RateLimitItemPerSecond
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter
        from redis.asyncio import BlockingConnectionPool

        plain = url.removeprefix("async+")
        # A pool that waits for a free connection: many senders at once must queue, not fail
        # (redis-py's default pool raises MaxConnectionsError past its size).
        self._pool = BlockingConnectionPool.from_url(plain, max_connections=connections, timeout=30)
        storage = RedisStorage(
            f"async+{plain}", implementation="redispy", key_prefix=prefix, connection_pool=self._pool
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._item = RateLimitItemPerSecond
        self._headroom = headroom
        self._fallback = LocalLimits(headroom)
        self._warned = False

    async def acquire(self, key: str, rate: Rate) -> None:
        try:
            await self._acquire(key, rate)
        except RedisError as failure:
            # Redis away: keep sending within this process's own budget rather than not at all
            # (chat replies and codes go through here too).
            if not self._warned:
                log.warning("rate_limits_redis_unavailable", error=type(failure).__name__)
                self._warned = True
            await self._fallback.acquire(key, rate)
        else:
            self._warned = False

    async def _acquire(self, key: str, rate: Rate) -> None:
        item = self._window(rate)
        while not await self._limiter.hit(item, key):
            stats = await self._limiter.get_window_stats(item, key)
            # Wake when the oldest call leaves the window; a little jitter so that waiters do not
            # all ask Redis again in the same millisecond.
            await asyncio.sleep(max(0.001, stats.reset_time - time.time()) + random.uniform(0, 0.005))

    def _window(self, rate: Rate):
        """N calls per whole-second window, N under the rate by the headroom where a whole call
        can be spared (98 of 100; but 1 of 1: a window cannot hold 0.98 calls). A rate under one
        per window becomes one call per window of several seconds (1/3 per second: 1 per 4 s)."""
        if rate.count >= 1:
            return self._item(max(1, int(rate.count * self._headroom)), rate.seconds)
        return self._item(1, math.ceil(rate.seconds / (rate.count * self._headroom)))

    async def close(self) -> None:
        await self._pool.aclose()


def build(redis_url: str | None) -> RateLimits:
    return RedisLimits(redis_url) if redis_url else LocalLimits()
