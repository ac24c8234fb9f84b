"""The send-rate windows and the local fallback of the Redis limiter."""

from __future__ import annotations

import time

from notifications.ratelimit import LocalLimits, Rate, RedisLimits


def test_redis_windows_keep_under_the_rate_without_starving_a_chat():
    limits = RedisLimits("redis://127.0.0.1:6379/15")  # nothing is connected until used
    window = limits._window
    assert (window(Rate(100)).amount, window(Rate(100)).get_expiry()) == (98, 1)
    # One per second stays one per second: 0.98 of a call cannot be allowed (a bug once made it
    # one per two seconds, halving every busy chat's pace).
    assert (window(Rate(1)).amount, window(Rate(1)).get_expiry()) == (1, 1)
    assert (window(Rate(1 / 3)).amount, window(Rate(1 / 3)).get_expiry()) == (1, 4)


async def test_an_unreachable_redis_falls_back_to_this_processs_own_budget():
    limits = RedisLimits("redis://127.0.0.1:1/0")  # nothing listens there
    started = time.monotonic()
    for _ in range(3):
        await limits.acquire("chat:1", Rate(10))  # still paced, never an error
    assert time.monotonic() - started < 5
    await limits.close()


async def test_local_limits_pace_a_key():
    limits = LocalLimits()
    started = time.monotonic()
    for _ in range(3):
        await limits.acquire("chat:1", Rate(5))
    assert time.monotonic() - started >= 0.39  # the 2nd and 3rd wait about 0.2 s each
