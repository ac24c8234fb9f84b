"""Booking on WhatsApp, end to end: the app served over real HTTP, the patient's and the doctor's
messages as Twilio's signed webhooks, replies through twilio's client to the fake Twilio. The patient
books with numbered replies and pays on the sandbox checkout page; the doctor accepts the request by
typing the code it shows. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from backend.models import AppointmentStatus
from tests.bot.test_whatsapp_e2e import CONTENT, Harness, WhatsAppUser, _harness, serving
from tests.e2e.journeys import (
    appointments_of,
    is_control,
    ledger_total,
    local_time,
    make_doctor,
    make_patient,
    open_all_hours,
)
from tests.fakes.twilio_api import FakeTwilio

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:twilio")

PATIENT, DOCTOR = "+447700900123", "+919800000001"
LINK = re.compile(r"(https?://\S+/pay/sandbox/sbx_[A-Za-z0-9_-]+)")
WHATSAPP_MAX_BODY = 1600


@pytest.fixture
async def fake():
    async with FakeTwilio(content=CONTENT) as server:
        yield server


@pytest.fixture
async def harness(settings, fake):
    app, base = await _harness(settings, fake)
    async with serving(app, int(base.rsplit(":", 1)[1])), app.router.lifespan_context(app):
        yield Harness(fake, app, base, base)


async def _setup(harness: Harness, cipher, settings) -> dict:
    async with harness.app.state.sessions() as session, session.begin():
        doctor = await make_doctor(session, name="Asha Nair", chats=(("whatsapp", DOCTOR),))
        await open_all_hours(session, doctor, settings.booking_horizon_days)
        patient = await make_patient(
            session, cipher, name="Ravi Kumar", chats=(("whatsapp", PATIENT),), timezone="Europe/London"
        )
    return {"doctor": doctor, "patient": patient}


def _numbered(user: WhatsAppUser) -> dict[str, str]:
    """The last numbered list we were sent: label → number."""
    for text in reversed(user.received()):
        options = {}
        for line in text.splitlines():
            number, dot, label = line.partition(". ")
            if dot and number.isdigit():
                options[label] = number
        if options:
            return options
    return {}


def _picks(user: WhatsAppUser) -> list[str]:
    return [label for label in _numbered(user) if not is_control(label)]


async def _received_with(harness: Harness, user: WhatsAppUser, text: str, seconds: float = 10) -> str:
    for _ in range(int(seconds / 0.05)):
        await harness.settle()
        found = next((body for body in user.received() if text in body), None)
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing with {text!r} to {user.number}: {[b[:60] for b in user.received()]}")


async def test_a_patient_books_and_pays_on_whatsapp_and_the_doctor_accepts_by_typing(
    harness, cipher, settings
):
    cast = await _setup(harness, cipher, settings)
    ravi, asha = harness.user(PATIENT), harness.user(DOCTOR)
    await asha.say("hi")  # the doctor wrote today: free-form messages may reach them

    await ravi.say("menu")
    await ravi.pick("Find a doctor")
    await ravi.say("genral medicine")
    await ravi.pick("Asha Nair")
    await ravi.pick("Book")
    await ravi.say(_numbered(ravi)[_picks(ravi)[3]])  # three days on
    await ravi.say(_numbered(ravi)[_picks(ravi)[0]])
    await ravi.say("Itchy rash on both arms")
    await ravi.pick("Hold it and pay")
    link = LINK.search(ravi.received()[-1])
    assert link, ravi.received()[-1]
    # WhatsApp has no URL button without an approved template: the link is in the text, named.
    assert f"💳 Pay ₹500: {link.group(1)}" in ravi.received()[-1], ravi.received()[-1]

    async with httpx.AsyncClient() as browser:
        page = await browser.get(link.group(1))
        assert page.status_code == 200 and "₹500" in page.text
        assert "Paid" in (await browser.post(link.group(1) + "/pay")).text
    await _received_with(harness, ravi, "Payment of ₹500 received")

    request = await _received_with(harness, asha, "New consultation request")
    assert "Ravi Kumar" in request and "Itchy rash" in request
    code = re.search(r"“(Accept \d+)”", request)
    assert code, request
    await asha.say(code.group(1))
    assert "Accepted" in "\n".join(asha.received()[-3:])
    confirmed_patient = await _received_with(harness, ravi, "Confirmed")
    confirmed_doctor = await _received_with(harness, asha, "Confirmed")

    async with harness.app.state.sessions() as session:
        (appointment,) = await appointments_of(session, cast["patient"].id)
        totals = await ledger_total(session)
    assert appointment.status is AppointmentStatus.CONFIRMED and totals == {"INR": 0}
    assert local_time(appointment.starts_at, "Europe/London") in confirmed_patient
    assert local_time(appointment.starts_at, "Asia/Kolkata") in confirmed_doctor
    assert all(len(body) <= WHATSAPP_MAX_BODY for body in ravi.received() + asha.received())
