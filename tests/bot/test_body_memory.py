"""A real `telecare serve`, fed a 200 MB chunked body at every HTTP entry at once, stays within
64 MB of the memory it started with: each body is cut at its entry's limit, answered 413, and the
rest is never read.

The server runs in its own process, started as an operator starts it, so its resident memory
(/proc/<pid>/status) is the server's alone: not the test's client, its generated bodies or
pytest's own. The peak is what counts, not the memory left at the end (a body read whole and freed
again would leave no trace there): the kernel's high-water mark (VmHWM, reset through clear_refs
just before the flood) and, besides, VmRSS sampled every 10 ms."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bot.body_limits import MAX_FRAME_BYTES, limit_for

TELECARE = str(Path(sys.executable).parent / "telecare")
MB = 1024 * 1024
FLOOD_BYTES = 200 * MB
GROWTH_ALLOWED = 64 * MB
SECRET = "memory-test-Secret"
NOWHERE = "http://127.0.0.1:9"
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
# Each entry with the headers its route would read the body with (the right Telegram secret, a
# form for Twilio), so that before the limits the whole body was read.
TARGETS = {
    "/api/payments/webhooks/sandbox": JSON,
    "/webhooks/telegram": {**JSON, "X-Telegram-Bot-Api-Secret-Token": SECRET},
    "/webhooks/whatsapp": {**FORM, "X-Twilio-Signature": "bm90IHNpZ25lZA=="},
    "/webhooks/whatsapp/status": {**FORM, "X-Twilio-Signature": "bm90IHNpZ25lZA=="},
    "/web/upload": {"content-type": "multipart/form-data; boundary=b"},
    "/api/admin/applications/doctor/x/reject": JSON,
    "/web/persona": JSON,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status(pid: int, field: str) -> int:
    """A memory field of /proc/<pid>/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


def _reset_peak(pid: int) -> bool:
    """Set VmHWM back to the current RSS (Linux 4.0+); False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def server(tmp_path_factory, sqlite_template, key_ring):
    """`telecare serve` on a free port, Telegram (webhook) and WhatsApp on; nothing it would send
    to either platform is sent in these tests."""
    home = tmp_path_factory.mktemp("serve")
    shutil.copyfile(sqlite_template, home / "telecare.db")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELECARE_", "TELEGRAM_", "TWILIO_", "STRIPE_"))
    }
    env.update(
        TELECARE_ENV="development",
        TELECARE_DATABASE_URL=f"sqlite+aiosqlite:///{home}/telecare.db",
        TELECARE_KEYS_JSON=key_ring.to_json(),
        TELECARE_PUBLIC_BASE_URL=base,
        TELEGRAM_BOT_TOKEN="123456:TEST",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_API_BASE_URL=NOWHERE,
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="twilio-auth-token",
        TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
        TWILIO_API_BASE_URL=NOWHERE,
    )
    log = (home / "serve.log").open("w")
    process = subprocess.Popen(
        [TELECARE, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=home,  # no .env of ours
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_up(base, process)
        yield base, process, home / "serve.log"
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def _wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "telecare serve exited"
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError("telecare serve did not come up")


class Flood:
    """FLOOD_BYTES of generated body, streamed in chunks; counts what the server accepted."""

    def __init__(self) -> None:
        self.sent = 0

    async def body(self):
        chunk = b"x" * (64 * 1024)
        while self.sent < FLOOD_BYTES:
            self.sent += len(chunk)
            yield chunk


async def _flood(client: httpx.AsyncClient, url: str, headers: dict) -> tuple[str, int]:
    flood = Flood()
    try:
        response = await client.post(url, content=flood.body(), headers=headers)
        outcome = str(response.status_code)
    except httpx.TransportError as error:  # closed under us: the 413 was lost with the rest
        outcome = type(error).__name__
    return outcome, flood.sent


async def _sample_peak(pid: int, stop: asyncio.Event) -> int:
    peak = 0
    while not stop.is_set():
        peak = max(peak, _status(pid, "VmRSS"))
        await asyncio.sleep(0.01)
    return peak


async def test_200_mb_chunked_bodies_at_every_entry_leave_memory_flat(server):
    base, process, log = server
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for path, headers in TARGETS.items():  # warm up: every route has run once
            await client.post(path, content=b"{}", headers=headers)
        start = _status(process.pid, "VmRSS")
        peak_was_reset = _reset_peak(process.pid)
        stop = asyncio.Event()
        sampler = asyncio.create_task(_sample_peak(process.pid, stop))
        floods = [_flood(client, path, headers) for path, headers in TARGETS.items()]
        results = dict(zip(TARGETS, await asyncio.wait_for(asyncio.gather(*floods), 120), strict=True))
        stop.set()
        peak = await sampler
        if peak_was_reset:
            peak = max(peak, _status(process.pid, "VmHWM"))
        assert (await client.get("/healthz")).status_code == 200
    assert process.poll() is None
    growth = peak - start
    assert growth <= GROWTH_ALLOWED, f"grew {growth / MB:.0f} MB from {start / MB:.0f} MB: {results}"
    for path, (outcome, sent) in results.items():
        # Cut at the limit: what got through is the limit and the sockets' buffers, not 200 MB.
        assert sent < limit_for(path).max_bytes + 32 * MB, (path, outcome, sent)
        assert outcome in ("413", "WriteError", "ReadError", "RemoteProtocolError"), (path, outcome)
    assert "Traceback" not in log.read_text()


async def test_telecare_serve_refuses_a_websocket_frame_over_the_limit_itself(server):
    """`telecare serve` gives uvicorn the frame limit: the frame is refused as it arrives."""
    base, _process, _log = server
    url = base.replace("http://", "ws://") + "/ws"
    async with connect(
        url, additional_headers={"Cookie": "telecare_session=" + "a" * 40}, max_size=None
    ) as ws:
        await asyncio.wait_for(ws.recv(), 10)  # the welcome
        await ws.send("x" * (MAX_FRAME_BYTES + 1))
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 10)
    assert ws.close_code == 1009
    assert f"{MAX_FRAME_BYTES} bytes" in ws.close_reason  # uvicorn's words, not the app's


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(server):
    """A sender that asks first (Expect: 100-continue, as curl does for large bodies) is told 413
    at once and never sends its 300 MB."""
    base, _process, _log = server
    host, port = base.removeprefix("http://").split(":")
    request = (
        "POST /webhooks/telegram HTTP/1.1\r\n"
        f"Host: {host}\r\nContent-Type: application/json\r\nContent-Length: {300 * MB}\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\nExpect: 100-continue\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        answer = b""
        while chunk := sock.recv(65536):  # the server closes after its answer
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in head and b"connection: close" in head.lower()
    assert body == b'{"detail": "A Telegram update is never this large."}'
