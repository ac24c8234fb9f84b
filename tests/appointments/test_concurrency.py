"""A double booking is impossible at the database level: 50 patients trying one slot at the
same moment, each in their own transaction, give exactly one booking. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.access import Actor
from backend.appointments import service as appointments
from backend.appointments.service import BookingError
from backend.models import Appointment, AppointmentStatus, Payment, Role
from backend.payments import service as payments
from tests.appointments.factories import NOW, make_doctor, make_patient, make_slot, paid_event

ATTEMPTS = 50


async def test_fifty_concurrent_attempts_at_one_slot_give_exactly_one_booking(sessions, cipher, settings):
    async with sessions() as session, session.begin():
        doctor = await make_doctor(session)
        slot = await make_slot(session, doctor, NOW + timedelta(days=1))
        patients = [
            await make_patient(session, cipher, name=f"Patient {chr(65 + i % 26)}") for i in range(ATTEMPTS)
        ]
    start = asyncio.Event()

    async def attempt(patient_id: str) -> str:
        await start.wait()  # everyone leaves the line together
        try:
            async with sessions() as session, session.begin():
                await appointments.hold(
                    session, cipher, settings, patient_id=patient_id, slot_id=slot.id, reason="cough", now=NOW
                )
            return "booked"
        except BookingError as refused:
            return refused.code

    tasks = [asyncio.create_task(attempt(p.id)) for p in patients]
    start.set()
    results = await asyncio.gather(*tasks)
    assert results.count("booked") == 1
    assert results.count("slot_taken") == ATTEMPTS - 1
    async with sessions() as session:
        live = await session.scalar(select(func.count()).where(Appointment.slot_lock == slot.id))
        rows = await session.scalar(select(func.count()).select_from(Appointment))
    assert live == 1 and rows == 1


@pytest.mark.parametrize("rival", ["sweep", "new_hold", "cancel"])
async def test_a_payment_landing_as_its_hold_lapses_waits_for_its_rival_instead_of_deadlocking(
    sessions, cipher, settings, gateways, database_url, rival
):
    """The webhook and whatever else touches the appointment at that moment (the sweep, another
    patient holding the slot, the patient cancelling) lock the appointment before its payment,
    so on PostgreSQL one waits for the other; the money ends either kept for a live request or
    refunded."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writing transaction at a time: there is no lock order to get wrong")
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)
        other = await make_patient(session, cipher, name="Ravi Kumar")
        slot = await make_slot(session, await make_doctor(session), NOW + timedelta(days=1))
        held = await appointments.hold(
            session, cipher, settings, patient_id=patient.id, slot_id=slot.id, reason="cough", now=NOW
        )
        payment = await appointments.pay_link(session, settings, gateways, held, now=NOW)
    later = NOW + timedelta(minutes=settings.hold_minutes + 1)

    async def webhook():
        async with sessions() as session, session.begin():
            change = await payments.record_event(
                session, "sandbox", paid_event(payment), settings=settings, now=later
            )
            await asyncio.sleep(0.3)  # the rival starts meanwhile
            await appointments.settle(session, cipher, settings, gateways, change, now=later)

    async def rival_work():
        await asyncio.sleep(0.1)
        # Losing to the payment is a fine answer ("someone has just taken that time"); a deadlock is not.
        with contextlib.suppress(BookingError):
            async with sessions() as session, session.begin():
                if rival == "sweep":
                    await appointments.sweep_one(session, cipher, settings, gateways, held.id, now=later)
                elif rival == "new_hold":
                    await appointments.hold(
                        session,
                        cipher,
                        settings,
                        patient_id=other.id,
                        slot_id=slot.id,
                        reason="flu",
                        now=later,
                        gateways=gateways,
                    )
                else:
                    await appointments.cancel_by_patient(
                        session,
                        cipher,
                        settings,
                        gateways,
                        Actor(patient.id, Role.PATIENT),
                        held.id,
                        now=later,
                    )

    await asyncio.wait_for(asyncio.gather(webhook(), rival_work()), timeout=30)
    async with sessions() as session:
        appointment = await session.get(Appointment, held.id)
        paid = await session.get(Payment, payment.id)
    kept = appointment.status is AppointmentStatus.REQUESTED and paid.refunded_minor == 0
    refunded = (
        appointment.status is not AppointmentStatus.REQUESTED and paid.refunded_minor == paid.amount_minor
    )
    assert kept or refunded, (appointment.status, paid.status, paid.refunded_minor)
