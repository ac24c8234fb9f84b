"""Urgent consults: offered at once to every verified doctor on call with a fitting specialty;
the first to accept takes it and the others' buttons stop working; nobody in time → refunded and
told where to go. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.appointments import service as appointments
from backend.appointments import urgent
from backend.appointments.service import BookingError
from backend.models import Appointment, AppointmentStatus, Doctor, Payment, VerificationStatus
from backend.outbox import service as outbox
from backend.payments import ledger
from notifications.dispatcher import Dispatcher
from tests.appointments.factories import (
    make_doctor,
    make_patient,
    outbox_for,
    paid_event,
    paid_urgent_for,
    urgent_with_pay_link,
)
from tests.chat import ChatDriver
from tests.notifications.helpers import RecordingSender


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def team(sessions):
    async with sessions() as session, session.begin():
        doctors = {
            "asha": await make_doctor(session, name="Asha Nair", on_call=True),
            "bela": await make_doctor(session, name="Bela Shah", on_call=True),
            "skin": await make_doctor(session, name="Chitra Das", on_call=True, specialties=("Dermatology",)),
            "off": await make_doctor(session, name="Dev Iyer", on_call=False),
            "pending": await make_doctor(
                session, name="Esha Roy", on_call=True, status=VerificationStatus.PENDING
            ),
        }
    return doctors


async def paid_urgent(sessions, cipher, settings, gateways, *, at=None):
    at = at or now()
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher, chat="patient-chat")
    held, payment = await paid_urgent_for(sessions, cipher, settings, gateways, patient.id, at=at)
    return patient, held, payment


async def test_nobody_on_call_is_said_before_any_payment(sessions, cipher, settings):
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)
        await make_doctor(session, on_call=False)
        with pytest.raises(BookingError) as refused:
            await urgent.request(
                session,
                cipher,
                settings,
                patient_id=patient.id,
                specialty="General Medicine",
                reason="fever",
                now=now(),
            )
    assert refused.value.code == "nobody_on_call"


async def test_the_offer_goes_to_fitting_doctors_on_call_and_the_first_to_accept_wins(
    sessions, cipher, settings, gateways, engine, otp_sender, team
):
    patient, held, _payment = await paid_urgent(sessions, cipher, settings, gateways)
    async with sessions() as session:
        offered = {
            m.user_id
            for m in (await outbox_for(session, team["asha"].user_id))
            + (await outbox_for(session, team["bela"].user_id))
        }
        for name in ("skin", "off", "pending"):
            assert not [
                m for m in await outbox_for(session, team[name].user_id) if m.template == "urgent_offer"
            ]
        waiting = [m for m in await outbox_for(session, patient.id) if m.template == "urgent_waiting"]
        assert outbox.open_params(cipher, waiting[0])["position"] == 1
    assert offered == {team["asha"].user_id, team["bela"].user_id}

    web = RecordingSender("web")
    await Dispatcher(sessions, cipher, {"web": web}).drain()
    offers = {address: notice for address, notice in web.sent if notice.template == "urgent_offer"}
    assert len(offers) == 2

    def chat_of(doctor: Doctor) -> ChatDriver:
        address = next(a for a in offers if a.startswith(f"web-{doctor.user_id[:8]}"))
        return ChatDriver(engine, otp_sender, chat_id=address), offers[address].actions[0].token

    asha_chat, asha_token = chat_of(team["asha"])
    bela_chat, bela_token = chat_of(team["bela"])
    await asha_chat.tap_token(asha_token)
    assert "It is yours" in asha_chat.text()
    await bela_chat.tap_token(bela_token)
    assert "Another doctor has already taken this consult" in bela_chat.text()

    async with sessions() as session:
        taken = await session.get(Appointment, held.id)
        assert taken.status is AppointmentStatus.CONFIRMED and taken.doctor_id == team["asha"].id
        assert any(m.template.startswith("urgent_accepted") for m in await outbox_for(session, patient.id))
        # The doctor's share moved from the holding account to the doctor who took it.
        assert await ledger.balance(session, ledger.UNASSIGNED, "INR") == 0
        assert await ledger.balance(session, ledger.payable(team["asha"].id), "INR") < 0


async def test_two_doctors_accepting_at_once_give_one_winner(sessions, cipher, settings, gateways, team):
    _, held, _ = await paid_urgent(sessions, cipher, settings, gateways)

    async def take(name: str) -> str:
        try:
            async with sessions() as session, session.begin():
                doctor = await session.get(Doctor, team[name].id)
                await urgent.accept(session, cipher, doctor, held.id, now=now())
            return name
        except BookingError as refused:
            return refused.code

    results = await asyncio.gather(take("asha"), take("bela"))
    assert sorted(results, key=len) in (["asha", "already_taken"], ["bela", "already_taken"])
    async with sessions() as session:
        assert (await session.get(Appointment, held.id)).doctor_id in (team["asha"].id, team["bela"].id)


async def test_a_doctor_of_another_specialty_cannot_take_it(sessions, cipher, settings, gateways, team):
    _, held, _ = await paid_urgent(sessions, cipher, settings, gateways)
    async with sessions() as session, session.begin():
        doctor = await session.get(Doctor, team["skin"].id)
        with pytest.raises(BookingError) as refused:
            await urgent.accept(session, cipher, doctor, held.id, now=now())
    assert refused.value.code == "not_on_call"


async def test_nobody_in_time_refunds_in_full_and_says_where_to_go(
    sessions, cipher, settings, gateways, team
):
    patient, held, payment = await paid_urgent(sessions, cipher, settings, gateways)
    late = now() + timedelta(minutes=settings.urgent_wait_minutes, seconds=1)
    async with sessions() as session, session.begin():
        await appointments.sweep(session, cipher, settings, gateways, now=late)
    async with sessions() as session:
        assert (await session.get(Appointment, held.id)).status is AppointmentStatus.REJECTED
        assert (await session.get(Payment, payment.id)).refunded_minor == settings.urgent_fee_minor
        timeout = [m for m in await outbox_for(session, patient.id) if m.template == "urgent_timeout"]
        assert len(timeout) == 1
        # Offers not yet sent are withdrawn.
        pending = (
            await session.scalars(
                select(Appointment).where(Appointment.status == AppointmentStatus.REQUESTED)
            )
        ).all()
        assert pending == []
    async with sessions() as session, session.begin():
        doctor = await session.get(Doctor, team["asha"].id)
        with pytest.raises(BookingError):
            await urgent.accept(session, cipher, doctor, held.id, now=late)


async def test_the_gateway_is_not_told_the_kind_of_doctor(sessions, cipher, settings, gateways, team):
    # A specialty (psychiatry) says what the patient is seen for: Stripe's line item leaves it out.
    _patient, _held, payment = await paid_urgent(sessions, cipher, settings, gateways)
    async with sessions() as session:
        assert (await session.get(Payment, payment.id)).description == "Urgent consult"


async def test_a_failed_urgent_payment_is_told_in_its_own_words(sessions, cipher, settings, gateways, team):
    from backend.payments import service as payments
    from backend.payments.gateway import EventType

    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)
    _held, payment = await urgent_with_pay_link(sessions, cipher, settings, gateways, patient.id, at=now())
    async with sessions() as session, session.begin():
        event = paid_event(await session.get(Payment, payment.id), type_=EventType.FAILED)
        change = await payments.record_event(session, "sandbox", event, settings=settings, now=now())
        await appointments.settle(session, cipher, settings, gateways, change, now=now())
    async with sessions() as session:
        assert [m.template for m in await outbox_for(session, patient.id)] == ["urgent_payment_failed"]
