"""Booking on Telegram, end to end: the patient finds a doctor, books and gets the payment link in
the chat (webhook updates in, the fake Bot API checking every call out), pays on the sandbox
checkout page; the doctor, also on Telegram, accepts from the request's inline button; both read
the confirmation in their own timezone. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from backend.models import AppointmentStatus
from bot.app import create_app
from tests.bot.test_telegram_e2e import Harness, TelegramUser, _telegram_settings
from tests.chat import RecordingOtpSender
from tests.e2e.journeys import (
    appointments_of,
    is_control,
    ledger_total,
    local_time,
    make_doctor,
    make_patient,
    open_all_hours,
)
from tests.fakes.telegram_api import FakeTelegram

PATIENT_CHAT, DOCTOR_CHAT = 7001, 7101
LINK = re.compile(r"https?://testserver(/pay/sandbox/sbx_[A-Za-z0-9_-]+)")
TELEGRAM_MAX_TEXT = 4096


@pytest.fixture
async def fake():
    async with FakeTelegram(
        per_chat_rate=200, per_chat_burst=50, per_bot_rate=1000, per_bot_burst=200
    ) as server:
        yield server


@pytest.fixture
async def harness(settings, fake):
    app = create_app(settings, _telegram_settings(fake))
    otp = RecordingOtpSender()
    app.state.engine.otp_sender = otp
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Harness(fake, app, http, otp)


async def _setup(harness: Harness, cipher, settings) -> dict:
    async with harness.app.state.sessions() as session, session.begin():
        doctor = await make_doctor(session, name="Asha Nair", chats=(("telegram", str(DOCTOR_CHAT)),))
        await open_all_hours(session, doctor, settings.booking_horizon_days)
        patient = await make_patient(
            session,
            cipher,
            name="Ravi Kumar",
            chats=(("telegram", str(PATIENT_CHAT)),),
            timezone="Europe/London",
        )
    return {"doctor": doctor, "patient": patient}


def _picks(user: TelegramUser) -> list[str]:
    """The inline buttons of the last message with a keyboard, without paging and back buttons."""
    for message in reversed(user.sent()):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard")
        if rows:
            return [b["text"] for row in rows for b in row if not is_control(b["text"])]
    return []


async def _message_with(user: TelegramUser, text: str, seconds: float = 10) -> dict:
    """A message (a notification comes on its own time) containing `text`."""
    for _ in range(int(seconds / 0.05)):
        found = next((m for m in user.sent() if text in m.get("text", "")), None)
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"no message with {text!r} to {user.id}: {[m.get('text', '')[:60] for m in user.sent()]}"
    )


async def test_a_patient_books_and_pays_on_telegram_and_the_doctor_accepts_there(harness, cipher, settings):
    cast = await _setup(harness, cipher, settings)
    ravi, asha = harness.user(PATIENT_CHAT), harness.user(DOCTOR_CHAT)

    await ravi.say("menu")
    await ravi.press("Find a doctor")
    await ravi.say("genral medicine")
    await ravi.press("Asha Nair")
    await ravi.press("Book")
    await ravi.press(_picks(ravi)[3])  # three days on: more than 24 hours away, whatever the hour
    await ravi.press(_picks(ravi)[0])
    await ravi.say("Sore throat & fever <3 days>")
    summary = ravi.sent()[-1]["text"]
    assert "Sore throat &amp; fever &lt;3 days&gt;" in summary, "the patient's words are escaped for HTML"
    await ravi.press("Hold it and pay")
    link = LINK.search(ravi.sent()[-1]["text"])
    assert link, ravi.sent()[-1]["text"]

    page = await harness.http.get(link.group(1))
    assert page.status_code == 200 and "₹500" in page.text
    paid = await harness.http.post(link.group(1) + "/pay")
    assert "Paid" in paid.text
    await _message_with(ravi, "Payment of ₹500 received")

    request = await _message_with(asha, "New consultation request")
    assert "Ravi Kumar" in request["text"] and "Sore throat &amp; fever" in request["text"]
    await asha.press("Accept")
    assert "Accepted" in asha.text()
    confirmed_patient = await _message_with(ravi, "Confirmed")
    confirmed_doctor = await _message_with(asha, "Confirmed")

    async with harness.app.state.sessions() as session:
        (appointment,) = await appointments_of(session, cast["patient"].id)
        totals = await ledger_total(session)
    assert appointment.status is AppointmentStatus.CONFIRMED and totals == {"INR": 0}
    assert local_time(appointment.starts_at, "Europe/London") in confirmed_patient["text"]
    assert local_time(appointment.starts_at, "Asia/Kolkata") in confirmed_doctor["text"]

    # Every call was valid for the Bot API; every text and button within Telegram's limits.
    assert [c for c in harness.fake.calls if not c.ok] == []
    for call in harness.fake.calls_to("sendMessage"):
        assert len(call.params["text"]) <= TELEGRAM_MAX_TEXT
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
            assert all(len(b["callback_data"].encode()) <= 64 for b in row)


async def test_a_telegram_patient_cancels_and_the_doctor_is_told(harness, cipher, settings):
    await _setup(harness, cipher, settings)
    ravi, asha = harness.user(PATIENT_CHAT), harness.user(DOCTOR_CHAT)
    await ravi.say("menu")
    await ravi.press("Find a doctor")
    await ravi.say("general medicine")
    await ravi.press("Asha Nair")
    await ravi.press("Book")
    await ravi.press(_picks(ravi)[3])
    await ravi.press(_picks(ravi)[0])
    await ravi.say("Back pain after lifting")
    await ravi.press("Hold it and pay")
    link = LINK.search(ravi.sent()[-1]["text"])
    await harness.http.post(link.group(1) + "/pay")
    await _message_with(asha, "New consultation request")

    await ravi.say("menu")
    await ravi.press("My appointments")
    await ravi.press("Asha Nair")
    await ravi.press("Cancel appointment")
    assert "₹500 back" in ravi.sent()[-1]["text"]
    await ravi.press("Yes, cancel")
    assert "₹500 is being refunded" in ravi.text()
    await _message_with(asha, "cancelled the consultation")
    assert [c for c in harness.fake.calls if not c.ok] == []


@pytest.fixture
async def public_harness(settings, fake):
    """The harness with a public address Telegram takes for a URL button (a dotted host)."""
    public = settings.model_copy(update={"public_base_url": "https://telecare.example"})
    app = create_app(public, _telegram_settings(fake))
    app.state.engine.otp_sender = RecordingOtpSender()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Harness(fake, app, http, app.state.engine.otp_sender)


async def test_the_payment_link_is_a_url_button_beside_the_callback_buttons_not_a_bare_url(
    public_harness, cipher, settings
):
    cast = await _setup(public_harness, cipher, settings)
    ravi = public_harness.user(PATIENT_CHAT)
    await ravi.say("menu")
    await ravi.press("Find a doctor")
    await ravi.say("general medicine")
    await ravi.press("Asha Nair")
    await ravi.press("Book")
    await ravi.press(_picks(ravi)[3])
    await ravi.press(_picks(ravi)[0])
    await ravi.say("Sore throat")
    await ravi.press("Hold it and pay")

    pay = ravi.sent()[-1]
    assert "http" not in pay["text"] and "₹500" in pay["text"], pay["text"]
    (url_row, *callback_rows) = pay["reply_markup"]["inline_keyboard"]
    assert url_row[0]["text"] == "💳 Pay ₹500" and "callback_data" not in url_row[0]
    assert re.fullmatch(r"https://telecare\.example/pay/sandbox/sbx_[\w-]+", url_row[0]["url"])
    assert [row[0]["text"] for row in callback_rows] == ["🔄 I have paid — check", "✖️ Cancel"]
    assert [c for c in public_harness.fake.calls if not c.ok] == [], "the fake Bot API took the URL button"

    # The button opens the checkout, which names the doctor and the time in the patient's zone.
    async with public_harness.app.state.sessions() as session:
        (appointment,) = await appointments_of(session, cast["patient"].id)
    page = await public_harness.http.get(url_row[0]["url"].removeprefix("https://telecare.example"))
    assert page.status_code == 200 and "Dr Asha Nair" in page.text and "₹500" in page.text
    assert local_time(appointment.starts_at, "Europe/London") in page.text


async def test_a_link_telegram_would_refuse_as_a_button_goes_in_the_text(harness, cipher, settings):
    """http://testserver has no dot in its host: Telegram answers BUTTON_URL_INVALID for such a
    button and the whole message would be lost, so the URL is written out instead."""
    await _setup(harness, cipher, settings)
    ravi = harness.user(PATIENT_CHAT)
    await ravi.say("menu")
    await ravi.press("Find a doctor")
    await ravi.say("general medicine")
    await ravi.press("Asha Nair")
    await ravi.press("Book")
    await ravi.press(_picks(ravi)[3])
    await ravi.press(_picks(ravi)[0])
    await ravi.say("Sore throat")
    await ravi.press("Hold it and pay")
    pay = ravi.sent()[-1]
    assert re.search(r"💳 Pay ₹500: http://testserver/pay/sandbox/sbx_", pay["text"]), pay["text"]
    buttons = [b for row in pay["reply_markup"]["inline_keyboard"] for b in row]
    assert all("url" not in b for b in buttons)
    assert [c for c in harness.fake.calls if not c.ok] == []
