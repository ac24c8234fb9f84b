"""WhatsApp: one chat cannot stall another, and messages that cannot be used are finished once.

The app served over real HTTP, Twilio's signed form posts into it, twilio's client talking to the
fake Twilio (with Twilio's real throughput: 80 messages a second per sender)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import select

from backend.models import InboxMessage
from conversations.messages import Reply
from tests.bot import test_whatsapp_e2e
from tests.bot.test_whatsapp_e2e import Harness, _harness
from tests.fakes.twilio_api import FakeTwilio

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:twilio")
# The same fake Twilio and app as the end-to-end tests.
fake, harness = test_whatsapp_e2e.fake, test_whatsapp_e2e.harness
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _bodies_to(fake: FakeTwilio, number: str) -> list[str]:
    return [m.rendered for m in fake.messages_to("whatsapp:" + number)]


async def _post(h: Harness, number: str, body: str = "", **fields) -> httpx.Response:
    params = h.fake.inbound_params(number, body, **fields)
    return await h.fake.post_inbound(h.base + "/webhooks/whatsapp", params)


async def test_a_burst_in_one_chat_does_not_hold_up_another_chats_answer(harness):
    assert harness.channel.settings.per_sender_per_second == harness.fake.per_sender_per_second == 80
    engine = harness.app.state.engine
    real_handle = engine.handle

    async def echoing(inbound, **kwargs):  # the real engine's work, and a reply that says which
        await real_handle(inbound, **kwargs)
        return [Reply(text=f"echo {inbound.text}")]

    engine.handle = echoing
    a, b = "+919800000001", "+919800000002"
    burst = await asyncio.gather(*(_post(harness, a, f"a{n}") for n in range(30)))
    assert {r.status_code for r in burst} == {200}
    started = time.monotonic()
    assert (await _post(harness, b, "b0")).status_code == 200
    for _ in range(500):  # up to 10 s
        if _bodies_to(harness.fake, b):
            break
        await asyncio.sleep(0.02)
    waited = time.monotonic() - started
    assert _bodies_to(harness.fake, b) == ["echo b0"]
    assert waited < 2, f"chat B waited {waited:.1f} s behind chat A's burst"
    await harness.settle()
    assert _bodies_to(harness.fake, a) == [f"echo a{n}" for n in range(30)], "chat A's replies in order"


async def _failures(app) -> dict[str, str]:
    async with app.state.sessions() as session:
        rows = (await session.scalars(select(InboxMessage).where(InboxMessage.failed_at.is_not(None)))).all()
    return {row.platform_id: row.failure for row in rows}


async def test_poison_messages_in_a_batch_are_finished_once_and_the_valid_ones_answered(settings, harness):
    fake = harness.fake
    gone = fake.inbound_params("+919811100001", "", media=[(b"\x89PNG....", "image/png")])
    del fake.media[gone["MediaUrl0"]]  # Twilio no longer has it: the fetch gets a 404
    foreign = fake.inbound_params("+919811100002", "", media=[(b"\x89PNG....", "image/png")])
    foreign["MediaUrl0"] = "https://media.example.org/not-twilio.png"
    url = harness.base + "/webhooks/whatsapp"
    surrogate = (
        b"MessageSid=SM00000000000000000000000000000001&From=whatsapp%3A%2B919811100003&Body=%ED%A0%80"
    )
    http = httpx.AsyncClient()
    requests = [
        fake.post_inbound(url, gone),
        fake.post_inbound(url, foreign),
        http.post(url, content=surrogate, headers={**FORM, "X-Twilio-Signature": "x"}),
        http.post(url, content=b"&&=&", headers={**FORM, "X-Twilio-Signature": "x"}),
        *(_post(harness, f"+9198222000{n:02}", "hi") for n in range(12)),
    ]
    responses = await asyncio.gather(*requests)
    await http.aclose()
    await harness.settle()

    assert [r.status_code for r in responses] == [200, 200, 400, 400] + [200] * 12
    assert "UTF-8" in responses[2].json()["error"] and "form" in responses[3].json()["error"]
    assert all("Welcome" in _bodies_to(fake, f"+9198222000{n:02}")[0] for n in range(12))
    apology = "Sorry, I couldn't fetch the file you sent. Please send it again."
    assert _bodies_to(fake, "+919811100001") == _bodies_to(fake, "+919811100002") == [apology]
    assert _bodies_to(fake, "+919811100003") == []
    assert await _failures(harness.app) == {
        gone["MessageSid"]: "file_unavailable",
        foreign["MessageSid"]: "file_unavailable",
    }

    # A redelivery, and a restart, run neither again and tell nobody twice.
    assert (await fake.post_inbound(url, gone)).status_code == 200
    await harness.settle()
    again, _base = await _harness(settings, fake)
    async with again.router.lifespan_context(again):
        assert await again.state.whatsapp.resume_pending() == 0
        await again.state.whatsapp.idle()
    assert _bodies_to(fake, "+919811100001") == [apology]


async def test_an_engine_failure_is_finished_once_and_not_retried_on_restart(settings, harness, monkeypatch):
    from conversations import commands

    async def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(commands, "run", broken)
    response = await _post(harness, "+919833300001", "help")
    await harness.settle()
    assert _bodies_to(harness.fake, "+919833300001") == [
        "Sorry, something went wrong on our side. Nothing was lost — please try again."
    ]
    assert list((await _failures(harness.app)).values()) == ["engine_error"]
    assert response.status_code == 200
    monkeypatch.undo()
    again, _base = await _harness(settings, harness.fake)
    async with again.router.lifespan_context(again):
        assert await again.state.whatsapp.resume_pending() == 0
        await again.state.whatsapp.idle()
    assert len(_bodies_to(harness.fake, "+919833300001")) == 1
