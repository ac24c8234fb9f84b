"""Engine throughput on the embedded default (SQLite): many chats talking at once.

Run with `make bench`. Prints messages per second and latency percentiles; nothing here is a test
(speed goals are measured here, not asserted in the suite). Usage:
    python bench/engine_throughput.py [--chats 50] [--messages 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from backend.crypto import FieldCipher, KeyRing
from backend.db import create_engine, create_sessionmaker
from backend.migrate import upgrade_async
from backend.settings import Settings
from conversations.engine import Engine
from conversations.messages import Inbound


class NullOtpSender:
    def supports(self, kind: str) -> bool:
        return True

    async def send(self, **_kwargs) -> None:
        return None


async def one_chat(engine: Engine, chat: int, messages: int, latencies: list[float]) -> None:
    await engine.current_prompt("web", f"bench-{chat}")
    script = ["sign up", "I agree", "Bench User", "01-01-1990", "Female"]
    script += ["help", "back", "language", "English"] * messages
    for i, text in enumerate(script[: max(messages, 5)]):
        started = time.perf_counter()
        await engine.handle(Inbound("web", f"bench-{chat}", text=text, platform_id=f"{chat}-{i}"))
        latencies.append(time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        db = create_engine(url)
        settings = Settings(_env_file=None, database_url=url, keys_json=KeyRing.generate().to_json())
        ring = KeyRing.from_json(settings.keys_json)
        engine = Engine(
            create_sessionmaker(db, ring),
            FieldCipher(ring),
            settings,
            NullOtpSender(),
        )
        latencies: list[float] = []
        started = time.perf_counter()
        await asyncio.gather(*(one_chat(engine, c, args.messages, latencies) for c in range(args.chats)))
        elapsed = time.perf_counter() - started
        await db.dispose()
    latencies.sort()
    print(f"{len(latencies)} messages from {args.chats} concurrent chats in {elapsed:.2f} s")
    print(f"throughput: {len(latencies) / elapsed:.0f} messages/s")
    print(
        f"latency: p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
