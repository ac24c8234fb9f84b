"""A double booking is impossible at the database level: 50 patients trying one slot at the
same moment, each in their own transaction, give exactly one booking. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from backend.appointments import service as appointments
from backend.appointments.service import BookingError
from backend.models import Appointment
from tests.appointments.factories import NOW, make_doctor, make_patient, make_slot

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
