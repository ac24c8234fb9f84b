"""Junk on the web chat's WebSocket: a binary frame closes it with 1003, a frame over the size limit
with 1009; bad or deeply nested JSON gets an error frame and the socket goes on. Never a
traceback, also over a real uvicorn configured as `telecare serve` runs it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket

import pytest
import uvicorn
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from backend.models import InboxMessage
from bot.app import create_app
from bot.body_limits import MAX_FRAME_BYTES, SERVER_LIMITS
from bot.web.routes import COOKIE, chat_address
from tests.bot.test_web import Browser, web_client

DEEP = "[" * 2000 + "]" * 2000
JUNK = [
    DEEP,
    '{"text": ' * 2000 + '"x"' + "}" * 2000,
    "not json",
    '{"type": "text", "text": "\\ud800"}',  # a lone surrogate: no database stores it
    '{"type": "text"',
]
# Under MAX_FRAME_BYTES in characters but over it in UTF-8 bytes, as the server counts.
TOO_BIG = "é" * (MAX_FRAME_BYTES // 2 + 1)


@pytest.fixture
def client(settings):
    with web_client(create_app(settings)) as client:
        yield client


def closed_with(tab: Browser) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        tab.socket.receive_text()
    tab.close()
    return closed.value.code


def test_a_binary_frame_closes_the_socket_with_1003(client):
    tab = Browser(client)
    tab.socket.send_bytes(b"\x00\x01binary")
    assert closed_with(tab) == 1003


def test_a_frame_over_the_size_limit_closes_the_socket_with_1009(client):
    tab = Browser(client)
    tab.socket.send_text(TOO_BIG)
    assert closed_with(tab) == 1009


def test_a_frame_at_the_size_limit_is_read(client):
    tab = Browser(client)
    frame = json.dumps({"type": "text", "text": "", "id": "at-limit"})
    frame = frame.replace('"text": ""', '"text": "' + "x" * (MAX_FRAME_BYTES - len(frame)) + '"')
    assert len(frame.encode()) == MAX_FRAME_BYTES
    tab.socket.send_text(frame)
    assert tab.receive_replies()  # answered like any message (the welcome asks again)
    tab.close()


def test_a_message_id_with_any_characters_is_answered_and_kept_only_as_a_hash(client, in_db):
    """Browsers choose their ids: NUL (which PostgreSQL text refuses) or an emoji is answered like
    any id, the same id twice is one message, and what is stored is a hash that does not hold
    the chat's address."""
    tab = Browser(client)
    weird = "a\u0000b😀"
    assert tab.send("hello", message_id=weird)  # answered (the welcome asks again)
    tab.socket.send_text(json.dumps({"type": "text", "text": "hello", "id": weird}))
    tab.socket.send_text(json.dumps({"type": "text", "text": "again", "id": "next"}))
    assert tab.receive_replies() == [], "the replayed id is dropped"
    assert tab.receive_replies(), "the next message is answered"
    tab.close()

    async def stored(sessions):
        async with sessions() as session:
            return (await session.scalars(select(InboxMessage.platform_id))).all()

    ids = in_db(stored)
    address = chat_address(client.cookies.get(COOKIE))
    assert len(ids) == 2 and all(len(i) == 64 and address[:16] not in i for i in ids)


@pytest.mark.parametrize("junk", JUNK, ids=["deep array", "deep object", "not json", "surrogate", "cut"])
def test_junk_text_gets_an_error_frame_and_the_socket_goes_on(client, junk):
    tab = Browser(client)
    tab.socket.send_text(junk)
    assert tab.socket.receive_json() == {"type": "error", "text": "Malformed message."}
    assert "agree" in tab.tap("sign up")[-1]["text"].lower()
    tab.close()


# ---- over a real server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(app):
    """uvicorn as `telecare serve` runs it (SERVER_LIMITS); its log goes to the root logger."""
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, log_level="info", lifespan="off", **SERVER_LIMITS
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            raise RuntimeError("uvicorn did not start")
        await asyncio.sleep(0.01)
    try:
        async with app.router.lifespan_context(app):
            yield f"ws://127.0.0.1:{port}/ws"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def _chat(url: str):
    cookie = f"{COOKIE}={secrets.token_urlsafe(32)}"
    return connect(url, additional_headers={"Cookie": cookie}, max_size=None, open_timeout=10)


async def _answer(ws) -> dict:
    """The next frame that answers us (notifications and developer frames skipped)."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] in ("replies", "error"):
            return frame


async def _close_code(ws) -> int | None:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    return ws.close_code


async def test_over_a_real_server_junk_frames_leave_no_traceback(settings, caplog, capfd):
    caplog.set_level(logging.INFO)
    app = create_app(settings)  # its structlog output goes to the captured stderr
    async with serving(app) as url:
        async with await _chat(url) as ws:
            assert (await _answer(ws))["type"] == "replies"  # the welcome
            for junk in JUNK:
                await ws.send(junk)
                assert await _answer(ws) == {"type": "error", "text": "Malformed message."}
            await ws.send(json.dumps({"type": "text", "text": "hello", "id": "after-junk"}))
            assert (await _answer(ws))["type"] == "replies"
        async with await _chat(url) as ws:
            await _answer(ws)
            await ws.send(b"\x00\x01binary")
            assert await _close_code(ws) == 1003
        async with await _chat(url) as ws:
            await _answer(ws)
            await ws.send(TOO_BIG)
            assert await _close_code(ws) == 1009
            assert f"{MAX_FRAME_BYTES} bytes" in ws.close_reason  # uvicorn's ws_max_size refused it
        async with await _chat(url) as ws:
            await _answer(ws)
            await ws.send(b'{"type": "text", "text": "\xed\xa0\x80"}', text=True)  # not UTF-8
            assert await _close_code(ws) == 1007  # uvicorn refuses it before our handler
    errors = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert "Exception in ASGI application" not in caplog.text
