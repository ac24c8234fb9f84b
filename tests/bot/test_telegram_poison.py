"""Telegram: one chat cannot stall another, and updates that cannot be used are finished once.

Real webhook requests into the app, aiogram talking to the fake Bot API."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from sqlalchemy import select

from backend.models import InboxMessage
from bot.app import create_app
from bot.telegram.settings import TelegramSettings
from conversations.messages import Reply
from tests.bot import test_telegram_e2e
from tests.bot.test_telegram_e2e import SECRET, _telegram_settings, _update_ids
from tests.fakes.telegram_api import FakeTelegram

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "content-type": "application/json"}
# The same fake Bot API and app as the end-to-end tests.
fake, harness = test_telegram_e2e.fake, test_telegram_e2e.harness


def _update(chat_id: int, **message) -> dict:
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "A"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "A"},
            **message,
        },
    }


async def _post(http: httpx.AsyncClient, body: dict | bytes) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()  # \ud800 stays escaped
    return await http.post("/webhooks/telegram", content=content, headers=HEADERS)


def _texts_to(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [c.params["text"] for c in fake.calls_to("sendMessage") if c.ok and c.params["chat_id"] == chat_id]


async def _failures(app) -> dict[str, str]:
    async with app.state.sessions() as session:
        rows = (await session.scalars(select(InboxMessage).where(InboxMessage.failed_at.is_not(None)))).all()
    return {row.platform_id: row.failure for row in rows}


# --- one chat cannot stall another ---------------------------------------------------------


async def test_a_burst_in_one_chat_does_not_hold_up_another_chats_answer(settings):
    # Telegram's real limits on both sides: 1 message a second per chat, 30 per bot.
    async with FakeTelegram() as fake:
        telegram = TelegramSettings(
            _env_file=None, bot_token=fake.token, webhook_secret=SECRET, api_base_url=fake.base_url
        )
        assert telegram.per_chat_per_second == 1
        app = create_app(settings, telegram)
        engine = app.state.engine
        real_handle = engine.handle

        async def echoing(inbound, **kwargs):  # the real engine's work, and a reply that says which
            await real_handle(inbound, **kwargs)
            return [Reply(text=f"echo {inbound.text}")]

        engine.handle = echoing
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                burst = [_post(http, _update(8001, text=f"a{n}")) for n in range(30)]
                assert {r.status_code for r in await asyncio.gather(*burst)} == {200}
                started = time.monotonic()
                assert (await _post(http, _update(8002, text="b0"))).status_code == 200
                for _ in range(500):  # up to 10 s
                    if _texts_to(fake, 8002):
                        break
                    await asyncio.sleep(0.02)
                waited = time.monotonic() - started
                assert _texts_to(fake, 8002) == ["echo b0"]
                assert waited < 2, f"chat B waited {waited:.1f} s behind chat A's burst"
                await app.state.telegram.idle()
    assert _texts_to(fake, 8001) == [f"echo a{n}" for n in range(30)], "chat A's replies in order"
    assert all(c.status != 429 for c in fake.calls), "within Telegram's limits"


# --- poison updates ----------------------------------------------------------------------------


def _deep(depth: int, chat_id: int) -> bytes:
    update = json.dumps(_update(chat_id, text="hi"))
    return (update[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}").encode()


async def test_poison_updates_in_a_batch_are_finished_once_and_the_valid_ones_answered(settings, harness):
    fake, app = harness.fake, harness.app
    missing = {"file_id": "F-gone", "file_unique_id": "u1", "file_name": "a.pdf", "file_size": 10}
    fake.fail_next("getFile", status=400, description="Bad Request: invalid file_id")
    broken = fake.add_file(b"%PDF-1.4", "documents/b.pdf")
    fake.fail_next("download", status=500, description="Internal Server Error")
    unreadable = {"file_id": broken, "file_unique_id": "u2", "file_name": "b.pdf", "file_size": 8}
    poison = {
        "surrogate": (_update(9101, text="\ud800"), 400),
        "deep_1000": (_deep(1000, 9102), 400),  # past the JSON parser's own recursion limit
        "deep_100": (_deep(100, 9103), 400),
        "message_5": ({"update_id": next(_update_ids), "message": 5}, 200),
        "number_text": (_update(9104, text=5), 200),
        "getfile_fails": (_update(9105, document=missing), 200),
        "download_fails": (_update(9106, document=unreadable), 200),
    }
    valid = [_update(9200 + n, text="/start") for n in range(12)]
    bodies = [body for body, _ in poison.values()] + valid
    responses = await asyncio.gather(*(_post(harness.http, body) for body in bodies))
    await harness.channel.idle()

    statuses = [r.status_code for r in responses]
    assert statuses == [status for _, status in poison.values()] + [200] * len(valid), statuses
    assert "surrogate" in responses[0].json()["error"] and "deep" in responses[1].json()["error"]
    assert all("Welcome" in _texts_to(fake, 9200 + n)[0] for n in range(12)), "every valid one answered"
    assert _texts_to(fake, 9101) == [
        "Sorry, I couldn't read that message. Please send it again, or type menu."
    ]
    assert _texts_to(fake, 9103) == _texts_to(fake, 9104) == _texts_to(fake, 9101)
    assert _texts_to(fake, 9105) == ["Sorry, I couldn't fetch the file you sent. Please send it again."]
    assert _texts_to(fake, 9106) == _texts_to(fake, 9105)
    assert _texts_to(fake, 9102) == _texts_to(fake, 9101), "too deep to parse, yet finished and told"
    failures = await _failures(app)
    assert sorted(failures.values()) == [
        "file_unavailable",
        "file_unavailable",
        "lone_surrogate",
        "malformed_update",
        "malformed_update",
        "too_deep",
        "too_deep",
    ]
    async with app.state.sessions() as session:
        failed = (
            await session.scalars(select(InboxMessage).where(InboxMessage.failed_at.is_not(None)))
        ).all()
    assert all(row.payload_enc is None and row.processed_at is not None for row in failed)

    # A redelivery, and a restart, run none of them again and tell nobody twice.
    sent = len(fake.calls_to("sendMessage"))
    for body, _ in poison.values():
        await _post(harness.http, body)
    await harness.channel.idle()
    again = create_app(settings, _telegram_settings(fake))
    async with again.router.lifespan_context(again):
        assert await again.state.telegram.resume_pending() == 0
        await again.state.telegram.idle()
    assert len(fake.calls_to("sendMessage")) == sent


async def test_an_engine_failure_is_finished_once_and_not_retried_on_restart(settings, harness, monkeypatch):
    from conversations import commands

    async def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(commands, "run", broken)
    update = _update(9301, text="help")
    assert (await _post(harness.http, update)).status_code == 200
    await harness.channel.idle()
    assert _texts_to(harness.fake, 9301) == [
        "Sorry, something went wrong on our side. Nothing was lost — please try again."
    ]
    assert (await _failures(harness.app)) == {f"u{update['update_id']}": "engine_error"}
    monkeypatch.undo()
    again = create_app(settings, _telegram_settings(harness.fake))
    async with again.router.lifespan_context(again):
        assert await again.state.telegram.resume_pending() == 0
        await again.state.telegram.idle()
    assert len(_texts_to(harness.fake, 9301)) == 1


async def test_polling_skips_an_update_it_cannot_store_and_goes_on(settings, harness):
    channel = harness.channel
    with pytest.raises(ValueError, match="surrogate"):
        await channel.receive(_update(9401, text="ok \udfff"))
    assert await channel.receive(_update(9402, text="/start"))
    await channel.idle()
    assert "Welcome" in _texts_to(harness.fake, 9402)[0]
    assert list((await _failures(harness.app)).values()) == ["lone_surrogate"]
