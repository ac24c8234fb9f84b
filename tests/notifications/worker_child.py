"""A notification worker in its own process, for the tests that kill one or run two at once.

    python -m tests.notifications.worker_child CONFIG.json

CONFIG: {"database_url", "keys_json", "sink": "http://…/send" | "file:/path", "lease_seconds",
"batch_size", "drain": bool, "wait_for_go": bool}. With an http sink each message is POSTed (the fake platform in the
test decides when it is accepted); with a file sink each outbox id is appended as a line."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import timedelta

import httpx

from backend import logs
from backend.crypto import FieldCipher, KeyRing
from backend.db import create_engine, create_sessionmaker
from notifications.dispatcher import Dispatcher, DispatchSettings
from notifications.sender import Delivery, Notice


class HttpSink:
    channel = "telegram"
    chat_interval = 0.0

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(timeout=120)

    async def deliver(self, address: str, notice: Notice) -> Delivery:
        response = await self.http.post(self.url, json={"chat": address, "outbox_id": notice.outbox_id})
        return Delivery.sent(response.json()["message_id"])


class FileSink:
    channel = "telegram"
    chat_interval = 0.0

    def __init__(self, path: str) -> None:
        self.file = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    async def deliver(self, address: str, notice: Notice) -> Delivery:
        self.file.write(notice.outbox_id + "\n")
        return Delivery.sent()


async def main(config: dict) -> None:
    # Logs to stderr, warnings only: stdout is the test's line to us, and nobody reads it after
    # "ready" (a full pipe would block this process).
    logs.configure("WARNING", False, dev_codes_allowed=True)
    engine = create_engine(config["database_url"])
    cipher = FieldCipher(KeyRing.from_json(config["keys_json"]))
    sink = config["sink"]
    sender = FileSink(sink.removeprefix("file:")) if sink.startswith("file:") else HttpSink(sink)
    settings = DispatchSettings(
        lease=timedelta(seconds=config.get("lease_seconds", 120)),
        batch_size=config.get("batch_size", 200),
        poll_seconds=0.2,
    )
    dispatcher = Dispatcher(create_sessionmaker(engine, cipher.ring), cipher, {"telegram": sender}, settings)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, dispatcher.stop)
    print("ready", flush=True)
    if config.get("wait_for_go"):
        # The test starts every worker first, then lets them go together ("go" on stdin), so a
        # slow start on a busy machine cannot leave one worker nothing to do.
        await asyncio.to_thread(sys.stdin.readline)
    try:
        if config.get("drain"):
            await dispatcher.drain()
        else:
            await dispatcher.run()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        asyncio.run(main(json.load(handle)))
