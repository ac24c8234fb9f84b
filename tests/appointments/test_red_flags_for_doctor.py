"""The doctor of a later appointment sees the red flags the patient raised in chat, on the request
they receive and on the appointment's card: the last 90 days before the request (and since),
newest first, at most five, dates in the doctor's timezone, in the doctor's language. Read through
the summary's access rule and audited like it; another doctor is refused (and audited); nothing
is shown when there are none. SQLite and PostgreSQL, on a pinned clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.access import AccessDenied, Action, Actor
from backend.appointments import service as appointments
from backend.models import Appointment, AppointmentStatus, AuditEntry, Role, User
from backend.safety import flags
from notifications.dispatcher import Dispatcher
from tests.appointments.factories import NOW, make_doctor, make_patient, make_slot, settle_paid
from tests.chat import ChatDriver
from tests.notifications.helpers import RecordingSender, make_user

# NOW is 2 Jun 2031, 12:00 in Kolkata. 31 May 20:00 UTC is already 1 Jun (01:30) there.
CARDIAC_AT = NOW.replace(month=5, day=31, hour=20)
STROKE_AT = NOW - timedelta(days=7)  # 26 May, history
LINE_EN = "⚠️ Red flags this patient raised in chat: cardiac 1 Jun; history: stroke 26 May"


async def raise_flag(
    session, cipher, user_id: str | None, category: str, at, *, history: bool = False
) -> None:
    await flags.record(
        session,
        cipher,
        actor=None,
        user_id=user_id,
        conversation_id=None,
        channel="web",
        category=category,
        history=history,
        at=at,
    )


async def requested(sessions, cipher, settings, gateways, *, flagged: bool = True):
    """A patient (with a cardiac flag and an older stroke history flag, unless not `flagged`) pays
    for a request to a doctor at NOW; (patient, doctor, appointment)."""
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher, chat="patient-chat")
        doctor = await make_doctor(session)
        if flagged:
            await raise_flag(session, cipher, patient.id, "stroke", STROKE_AT, history=True)
            await raise_flag(session, cipher, patient.id, "cardiac", CARDIAC_AT)
        slot = await make_slot(session, doctor, NOW + timedelta(days=3))
        held = await appointments.hold(
            session, cipher, settings, patient_id=patient.id, slot_id=slot.id, reason="follow-up", now=NOW
        )
        payment = await appointments.pay_link(session, settings, gateways, held, now=NOW)
    await settle_paid(sessions, cipher, settings, gateways, payment, at=NOW)
    async with sessions() as session:
        return patient, doctor, await session.get(Appointment, held.id)  # as paid: a request now


async def the_request(sessions, cipher) -> tuple[str, str]:
    """(the doctor's chat address, the text of the request they were sent)."""
    web = RecordingSender("web")
    await Dispatcher(sessions, cipher, {"web": web}, clock=lambda: NOW).drain()
    return next((address, n.text) for address, n in web.sent if n.template == "appointment_request")


async def flag_reads(session, patient_id: str) -> list[tuple[str, str, str]]:
    rows = await session.execute(
        select(AuditEntry.actor_id, AuditEntry.outcome, AuditEntry.purpose)
        .where(
            AuditEntry.patient_id == patient_id,
            AuditEntry.resource_type == "red_flags",
            AuditEntry.action == Action.READ.value,
        )
        .order_by(AuditEntry.seq)
    )
    return [tuple(row) for row in rows]


@pytest.mark.parametrize(
    ("locale", "line"),
    [("en", LINE_EN), ("hi", "⚠️ इस मरीज़ ने चैट में ये ख़तरे के संकेत बताए: हृदय 1 जून; पहले हुआ: स्ट्रोक/लकवा 26 मई")],
)
async def test_the_doctors_request_shows_the_flags_in_their_language_and_timezone(
    sessions, cipher, settings, gateways, locale, line
):
    patient, doctor, _ = await requested(sessions, cipher, settings, gateways)
    async with sessions() as session, session.begin():
        (await session.get(User, doctor.user_id)).locale = locale
    _, text = await the_request(sessions, cipher)
    assert line in text.splitlines(), text
    async with sessions() as session:
        assert await flag_reads(session, patient.id) == [(doctor.user_id, "success", "appointment_request")]


async def test_the_doctors_card_shows_the_flags_and_the_view_is_audited(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    patient, doctor, _ = await requested(sessions, cipher, settings, gateways)
    address, _ = await the_request(sessions, cipher)
    doctor_chat = ChatDriver(engine, otp_sender, chat_id=address, pinned=NOW)
    await doctor_chat.open()
    await doctor_chat.tap("My appointments")
    await doctor_chat.tap("needs your answer")
    assert LINE_EN in doctor_chat.text().splitlines(), doctor_chat.text()
    async with sessions() as session:
        reads = await flag_reads(session, patient.id)
    assert reads[-1] == (doctor.user_id, "success", "view_appointment")


async def test_nothing_is_shown_when_the_patient_raised_no_flags(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    await requested(sessions, cipher, settings, gateways, flagged=False)
    address, text = await the_request(sessions, cipher)
    assert "Red flags" not in text and "Reason: follow-up\nAge:" in text
    doctor_chat = ChatDriver(engine, otp_sender, chat_id=address, pinned=NOW)
    await doctor_chat.open()
    await doctor_chat.tap("My appointments")
    await doctor_chat.tap("needs your answer")
    assert "Red flags" not in doctor_chat.text() and "Patient summary" in doctor_chat.text()


async def test_the_last_90_days_newest_first_at_most_five_and_only_this_patients(
    sessions, cipher, settings, gateways
):
    patient, doctor, appointment = await requested(sessions, cipher, settings, gateways, flagged=False)
    async with sessions() as session, session.begin():
        other = await make_patient(session, cipher, name="Ravi Kumar")
        await raise_flag(session, cipher, other.id, "cardiac", NOW - timedelta(hours=1))
        await raise_flag(session, cipher, None, "cardiac", NOW - timedelta(hours=2))  # nobody signed in
        await raise_flag(session, cipher, patient.id, "neuro", NOW - timedelta(days=91))  # too old
        older = {"obstetric": 89, "breathing": 40, "poisoning": 30, "stroke": 20, "neuro": 10, "cardiac": 5}
        for category, days in older.items():
            await raise_flag(session, cipher, patient.id, category, NOW - timedelta(days=days))
        await raise_flag(session, cipher, patient.id, "mental_health", NOW + timedelta(hours=1))  # after now
        shown = await flags.for_doctor(
            session,
            cipher,
            Actor(doctor.user_id, Role.DOCTOR),
            appointment,
            now=NOW,
            channel=None,
            purpose="p",
        )
    assert [(flag.category, NOW - flag.at) for flag in shown] == [
        ("cardiac", timedelta(days=5)),
        ("neuro", timedelta(days=10)),
        ("stroke", timedelta(days=20)),
        ("poisoning", timedelta(days=30)),
        ("breathing", timedelta(days=40)),
    ]


async def test_flags_raised_after_the_request_are_shown_too(sessions, cipher, settings, gateways):
    patient, doctor, appointment = await requested(sessions, cipher, settings, gateways, flagged=False)
    later = NOW + timedelta(days=1)
    async with sessions() as session, session.begin():
        await raise_flag(session, cipher, patient.id, "breathing", later - timedelta(hours=1))
        shown = await flags.for_doctor(
            session,
            cipher,
            Actor(doctor.user_id, Role.DOCTOR),
            appointment,
            now=later,
            channel=None,
            purpose="p",
        )
    assert [flag.category for flag in shown] == ["breathing"]


async def test_another_doctor_and_an_admin_are_refused_and_audited(sessions, cipher, settings, gateways):
    patient, _, appointment = await requested(sessions, cipher, settings, gateways)
    async with sessions() as session:
        async with session.begin():
            other = await make_doctor(session, name="Vikram Shah")
            admin = await make_user(session, role=Role.ADMIN)
        for actor in (Actor(other.user_id, Role.DOCTOR), Actor(admin.id, Role.ADMIN)):
            async with session.begin():  # the refusal is kept: the caller commits after catching it
                with pytest.raises(AccessDenied):
                    await flags.for_doctor(
                        session,
                        cipher,
                        actor,
                        appointment,
                        now=NOW,
                        channel="web",
                        purpose="view_appointment",
                    )
        reads = await flag_reads(session, patient.id)
    assert reads[-2:] == [
        (other.user_id, "denied", "view_appointment"),
        (admin.id, "denied", "view_appointment"),
    ]


async def test_a_cancelled_appointments_doctor_is_refused(sessions, cipher, settings, gateways):
    _, doctor, appointment = await requested(sessions, cipher, settings, gateways)
    async with sessions() as session:
        async with session.begin():
            fresh = await session.get(Appointment, appointment.id)
            fresh.status = AppointmentStatus.CANCELLED
        async with session.begin():
            with pytest.raises(AccessDenied):
                await flags.for_doctor(
                    session,
                    cipher,
                    Actor(doctor.user_id, Role.DOCTOR),
                    fresh,
                    now=NOW,
                    channel=None,
                    purpose="p",
                )
