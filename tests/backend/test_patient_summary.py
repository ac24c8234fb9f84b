"""The patient summary a doctor sees: age on the appointment's local date, sex and the profile's
lists cut to fit one WhatsApp message; read only while an appointment joins the doctor and the
patient, and every view audited, allowed or not. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from backend.access import AccessDenied, Actor
from backend.models import Appointment, AppointmentStatus, AuditEntry, Role, new_id
from backend.records import service as records
from backend.records.summary import MAX_ITEM_CHARS, MAX_LIST_CHARS, age_on, cut
from tests.appointments.factories import NOW, make_doctor, make_patient
from tests.notifications.helpers import make_user


async def appointment(session, patient, doctor, status, *, starts_at=NOW + timedelta(days=2)) -> Appointment:
    row = Appointment(
        id=new_id(),
        patient_id=patient.id,
        doctor_id=doctor.id,
        status=status,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        fee_minor=50_000,
        currency="INR",
    )
    session.add(row)
    await session.flush()
    return row


async def with_allergies(session, cipher, patient) -> None:
    me = Actor(patient.id, Role.PATIENT)
    for item in ("penicillin — rash", "peanuts"):
        await records.add_item(session, cipher, me, patient.id, "allergies", item)
    await records.add_item(session, cipher, me, patient.id, "medications", "metformin 500 mg")


def doctor_actor(doctor) -> Actor:
    return Actor(doctor.user_id, Role.DOCTOR)


async def views(session, patient_id: str) -> list[tuple[str, str, str, str]]:
    rows = await session.execute(
        select(AuditEntry.actor_id, AuditEntry.outcome, AuditEntry.purpose, AuditEntry.action).where(
            AuditEntry.patient_id == patient_id,
            AuditEntry.resource_type == "patient_profile",
            AuditEntry.action == "read",
        )
    )
    return [tuple(row) for row in rows]


async def test_the_doctor_of_a_confirmed_appointment_sees_age_sex_and_lists(sessions, cipher):
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)  # born 23 Apr 1990, female
        await with_allergies(session, cipher, patient)
        doctor = await make_doctor(session)
        visit = await appointment(session, patient, doctor, AppointmentStatus.CONFIRMED)
        summary = await records.read_for_doctor(
            session, cipher, doctor_actor(doctor), visit, now=NOW, channel="web", purpose="view_appointment"
        )
        assert summary.age == 41 and summary.sex == "female"
        assert summary.lists["allergies"].items == ("penicillin — rash", "peanuts")
        assert summary.lists["medications"].items == ("metformin 500 mg",)
        assert summary.lists["history"].items == () and summary.lists["conditions"].more == 0
        assert await views(session, patient.id) == [(doctor.user_id, "success", "view_appointment", "read")]


async def test_age_is_counted_on_the_appointments_local_date(sessions, cipher):
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)  # born 23 Apr 1990, Asia/Kolkata
        doctor = await make_doctor(session)
        # 22 Apr 2031, 20:00 UTC is already the 23rd (01:30) in Kolkata: the 41st birthday.
        visit = await appointment(
            session,
            patient,
            doctor,
            AppointmentStatus.REQUESTED,
            starts_at=NOW.replace(month=4, day=22, hour=20),
        )
        summary = await records.read_for_doctor(
            session,
            cipher,
            doctor_actor(doctor),
            visit,
            now=NOW.replace(month=4, day=1),
            channel=None,
            purpose="x",
        )
        assert summary.age == 41


@pytest.mark.parametrize(
    "status",
    [
        AppointmentStatus.CANCELLED,
        AppointmentStatus.REJECTED,
        AppointmentStatus.EXPIRED,
        AppointmentStatus.HELD,
    ],
)
async def test_a_doctor_whose_appointment_ended_badly_is_denied_and_audited(sessions, cipher, status):
    async with sessions() as session:
        async with session.begin():
            patient = await make_patient(session, cipher)
            doctor = await make_doctor(session)
            visit = await appointment(session, patient, doctor, status)
        async with session.begin():  # the refusal is kept: the caller commits after catching it
            with pytest.raises(AccessDenied):
                await records.read_for_doctor(
                    session,
                    cipher,
                    doctor_actor(doctor),
                    visit,
                    now=NOW,
                    channel="web",
                    purpose="view_appointment",
                )
        assert await views(session, patient.id) == [(doctor.user_id, "denied", "view_appointment", "read")]


async def test_another_doctor_and_an_admin_are_denied_and_audited(sessions, cipher):
    async with sessions() as session:
        async with session.begin():
            patient = await make_patient(session, cipher)
            doctor = await make_doctor(session)
            other = await make_doctor(session, name="Vikram Shah")
            admin = await make_user(session, role=Role.ADMIN)
            visit = await appointment(session, patient, doctor, AppointmentStatus.CONFIRMED)
        for actor in (doctor_actor(other), Actor(admin.id, Role.ADMIN)):
            async with session.begin():
                with pytest.raises(AccessDenied):
                    await records.read_for_doctor(
                        session, cipher, actor, visit, now=NOW, channel="web", purpose="p"
                    )
        assert await views(session, patient.id) == [
            (other.user_id, "denied", "p", "read"),
            (admin.id, "denied", "p", "read"),
        ]


async def test_reading_stops_24_hours_after_the_end(sessions, cipher):
    async with sessions() as session:
        async with session.begin():
            patient = await make_patient(session, cipher)
            doctor = await make_doctor(session)
            visit = await appointment(session, patient, doctor, AppointmentStatus.COMPLETED, starts_at=NOW)
        async with session.begin():
            later = visit.ends_at + timedelta(hours=23)
            await records.read_for_doctor(
                session, cipher, doctor_actor(doctor), visit, now=later, channel=None, purpose="p"
            )
        async with session.begin():
            with pytest.raises(AccessDenied):
                await records.read_for_doctor(
                    session,
                    cipher,
                    doctor_actor(doctor),
                    visit,
                    now=later + timedelta(hours=2),
                    channel=None,
                    purpose="p",
                )
        assert [outcome for _, outcome, _, _ in await views(session, patient.id)] == ["success", "denied"]


def test_age_on() -> None:
    born = date(1990, 4, 23)
    assert age_on(born, date(2031, 4, 22)) == 40
    assert age_on(born, date(2031, 4, 23)) == 41
    assert age_on(date(2000, 2, 29), date(2031, 2, 28)) == 30
    assert age_on(date(2000, 2, 29), date(2031, 3, 1)) == 31
    assert age_on(None, date(2031, 1, 1)) is None
    assert age_on(date(2032, 1, 1), date(2031, 1, 1)) is None


def test_long_lists_are_cut_and_say_how_many_were_left_out() -> None:
    assert cut([]).items == () and cut([]).more == 0
    many = [f"allergy number {i} 🌰" for i in range(50)]
    cut_down = cut(many)
    assert 0 < len(cut_down.items) < 50 and cut_down.more == 50 - len(cut_down.items)
    assert len("; ".join(cut_down.items)) <= MAX_LIST_CHARS
    huge = cut(["x" * 300, "y"])
    assert len(huge.items[0]) == MAX_ITEM_CHARS and huge.items[0].endswith("…")


async def test_a_cancelled_appointment_shows_no_summary_even_while_another_is_live(sessions, cipher):
    """The doctor sees the patient through the appointment they look at: the card of a cancelled
    one stays without the summary while a newer request of the same patient is live."""
    async with sessions() as session:
        async with session.begin():
            patient = await make_patient(session, cipher)
            await with_allergies(session, cipher, patient)
            doctor = await make_doctor(session)
            cancelled = await appointment(session, patient, doctor, AppointmentStatus.CANCELLED)
            live = await appointment(
                session, patient, doctor, AppointmentStatus.REQUESTED, starts_at=NOW + timedelta(days=3)
            )
        async with session.begin():
            with pytest.raises(AccessDenied):
                await records.read_for_doctor(
                    session, cipher, doctor_actor(doctor), cancelled, now=NOW, channel=None, purpose="card"
                )
        async with session.begin():
            summary = await records.read_for_doctor(
                session, cipher, doctor_actor(doctor), live, now=NOW, channel=None, purpose="card"
            )
            assert summary.lists["allergies"].items == ("penicillin — rash", "peanuts")
            assert [v[1] for v in await views(session, patient.id)] == ["denied", "success"]
