"""Workers as real processes: one killed mid-batch loses nothing and sends nothing twice; two at
once on PostgreSQL send each of 5,000 messages exactly once; send limits in Redis hold across
processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import func, insert, select

from backend.accounts.chats import sealed_address
from backend.models import ChannelIdentity, OutboxMessage, OutboxStatus, Role, User, new_id, utcnow
from backend.outbox.service import seal_params

ROOT = Path(__file__).resolve().parents[2]


async def seed(sessions, cipher, *, chats: int, per_chat: int) -> list[str]:
    """`chats` users with one Telegram chat each and `per_chat` due messages each."""
    now = utcnow()
    users = [
        {
            "id": new_id(),
            "role": Role.PATIENT,
            "locale": "en",
            "timezone": "UTC",
            "active": True,
            "created_at": now,
        }
        for _ in range(chats)
    ]
    identities = [
        {
            "id": (identity_id := new_id()),
            "channel": "telegram",
            **sealed_address(cipher, "channel_identities", identity_id, "telegram", str(1000 + i)),
            "user_id": u["id"],
            "muted": False,
            "unreachable": False,
            "created_at": now,
        }
        for i, u in enumerate(users)
    ]
    rows = []
    for user in users:
        for n in range(per_chat):
            row_id = new_id()
            rows.append(
                {
                    "id": row_id,
                    "dedupe_key": f"test:{row_id}",
                    "user_id": user["id"],
                    "template": "reminder",
                    "params_enc": seal_params(cipher, row_id, {"what": f"#{n}", "when_at": now.isoformat()}),
                    "kind": "status",
                    "urgent": True,
                    "status": OutboxStatus.PENDING,
                    "due_at": now,
                    "attempts": 0,
                    "tried_channels": "",
                    "updated_at": now,
                    "created_at": now,
                }
            )
    async with sessions() as session, session.begin():
        await session.execute(insert(User), users)
        await session.execute(insert(ChannelIdentity), identities)
        for start in range(0, len(rows), 1000):
            await session.execute(insert(OutboxMessage), rows[start : start + 1000])
    return [row["id"] for row in rows]


async def start_worker(tmp_path: Path, name: str, config: dict) -> asyncio.subprocess.Process:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.notifications.worker_child",
        str(path),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "TELECARE_LOG_LEVEL": "WARNING"},
    )
    assert (await asyncio.wait_for(process.stdout.readline(), 30)).strip() == b"ready"
    return process


class FakePlatform:
    """Accepts messages and counts them by outbox id. While `stall` is set, requests beyond the
    first `accept_first` are held without an answer: a platform that is slow right now."""

    def __init__(self, accept_first: int | None = None) -> None:
        self.accepted: Counter[str] = Counter()
        self.accept_first = accept_first
        self.stalled = 0
        self.released = asyncio.Event()

    async def send(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.accept_first is not None and sum(self.accepted.values()) >= self.accept_first:
            self.stalled += 1
            await self.released.wait()
        self.accepted[body["outbox_id"]] += 1
        return web.json_response({"message_id": str(sum(self.accepted.values()))})


async def serve(platform: FakePlatform) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/send", platform.send)
    runner = web.AppRunner(app, handler_cancellation=True)  # a client that is gone is not accepted
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/send"


async def wait_until(check, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def count(sessions, status: OutboxStatus) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).where(OutboxMessage.status == status))


async def test_killing_a_worker_mid_batch_loses_nothing_and_sends_nothing_twice(
    sessions, cipher, database_url, key_ring, tmp_path
):
    ids = await seed(sessions, cipher, chats=30, per_chat=10)
    platform = FakePlatform(accept_first=100)
    runner, url = await serve(platform)
    config = {
        "database_url": database_url,
        "keys_json": key_ring.to_json(),
        "sink": url,
        "lease_seconds": 3,
        "batch_size": 50,
    }
    first = await start_worker(tmp_path, "first", config)
    try:
        # Mid-batch: 100 accepted and recorded, the next sends waiting on the platform, more claimed.
        await wait_until(lambda: _true(platform.stalled > 0))
        await wait_until(lambda: _eq(sessions, 100))
        assert await count(sessions, OutboxStatus.CLAIMED) > 0
        first.send_signal(signal.SIGKILL)
        await first.wait()
        platform.accept_first = None
        platform.released.set()
        second = await start_worker(tmp_path, "second", config)
        try:
            await wait_until(lambda: _eq(sessions, len(ids)), limit=90)
        finally:
            second.send_signal(signal.SIGTERM)
            await second.wait()
    finally:
        if first.returncode is None:
            first.kill()
        await runner.cleanup()
    assert set(platform.accepted) == set(ids), "every message arrived"
    assert max(platform.accepted.values()) == 1, "and none twice"


async def _eq(sessions, expected: int) -> bool:
    return await count(sessions, OutboxStatus.SENT) == expected


async def _true(value: bool) -> bool:
    return value


@pytest.mark.postgres
async def test_two_workers_on_postgresql_send_each_of_5000_exactly_once(
    sessions, cipher, database_url, key_ring, tmp_path
):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent claimers: PostgreSQL (SQLite has one writer at a time by design)")
    ids = await seed(sessions, cipher, chats=1000, per_chat=5)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [
        await start_worker(
            tmp_path,
            f"w{n}",
            {
                "database_url": database_url,
                "keys_json": key_ring.to_json(),
                "sink": f"file:{log}",
                "batch_size": 100,
                "drain": True,
                "wait_for_go": True,
            },
        )
        for n, log in enumerate(logs)
    ]
    for worker in workers:
        worker.stdin.write(b"go\n")
        await worker.stdin.drain()
    for worker in workers:
        assert await asyncio.wait_for(worker.wait(), 120) == 0
    sent = [line for log in logs for line in log.read_text().split()]
    per_worker = [len(log.read_text().split()) for log in logs]
    assert Counter(sent) == Counter(ids), "each message exactly once: none lost, none twice"
    assert min(per_worker) > 0, f"both workers took a share: {per_worker}"
    assert await count(sessions, OutboxStatus.SENT) == len(ids)


REDIS_URL = os.environ.get("TELECARE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

_RATE_CHILD = """
import asyncio, json, sys, time
from notifications.ratelimit import RedisLimits, LocalLimits, Rate
async def main(url, key, n, shared):
    limits = RedisLimits(url, prefix="telecare-test") if shared else LocalLimits()
    stamps = []
    for _ in range(n):
        await limits.acquire(key, Rate(10))
        stamps.append(time.time())
    await limits.close()
    print(json.dumps(stamps))
asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "redis"))
"""


async def _stamps_from_two_processes(key: str, shared: str) -> list[float]:
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _RATE_CHILD,
            REDIS_URL,
            key,
            "15",
            shared,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [await asyncio.wait_for(child.communicate(), 30) for child in children]
    return sorted(stamp for out, _ in outputs for stamp in json.loads(out))


def _busiest(stamps: list[float], window: float) -> int:
    return max(sum(1 for t in stamps if start <= t < start + window) for start in stamps)


async def test_redis_limits_are_shared_by_two_processes():
    redis = pytest.importorskip("redis.asyncio")
    client = redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")
    finally:
        await client.aclose()
    key = f"test:{new_id()}"
    shared = await _stamps_from_two_processes(key, "redis")
    # 30 calls at 10/s less 2 % headroom: 9 per second across both processes, so three full
    # seconds from the first to the last. (Stamps are taken just after each call is allowed, a
    # few milliseconds late, so windows are measured a little short of a second.)
    assert len(shared) == 30 and _busiest(shared, 0.95) <= 9
    assert shared[-1] - shared[0] >= 2.9
    # Without Redis each process keeps its own budget, and together they go over: what Redis is for.
    separate = await _stamps_from_two_processes(key, "local")
    assert _busiest(separate, 1.0) > 10 and separate[-1] - separate[0] < 2.0
