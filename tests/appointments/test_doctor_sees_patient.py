"""The doctor sees the patient: the request notification and the appointment card carry the
patient's summary (age, sex, allergies, medications, conditions, history), read only while an
appointment joins them and audited; Accept on a request opens that request's card. Through the
dispatcher and the chat, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from backend.access import Actor
from backend.appointments import service as appointments
from backend.models import Appointment, AppointmentStatus, AuditEntry, Role, User, new_id
from backend.records import service as records
from backend.records.summary import age_on
from bot.whatsapp.notify import MAX_BODY
from notifications.dispatcher import Dispatcher
from tests.appointments.factories import (
    NOW,
    make_doctor,
    make_patient,
    make_slot,
    paid_urgent_for,
    settle_paid,
)
from tests.chat import ChatDriver
from tests.notifications.helpers import RecordingSender


async def fill_profile(session, cipher, patient, lists: dict[str, list[str]]) -> None:
    me = Actor(patient.id, Role.PATIENT)
    for name, items in lists.items():
        for item in items:
            await records.add_item(session, cipher, me, patient.id, name, item)


ASHA = {"allergies": ["penicillin — rash", "peanuts"], "medications": ["metformin 500 mg"]}


async def request(
    sessions, cipher, settings, gateways, *, doctor=None, lists=ASHA, reason="sore throat", days=3
):
    """Asha's paid request to the doctor (Meera Rao unless given), her profile filled first."""
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher, chat=f"patient-{new_id()[:6]}")
        await fill_profile(session, cipher, patient, lists)
        doctor = doctor or await make_doctor(session)
        slot = await make_slot(session, doctor, NOW + timedelta(days=days))
        held = await appointments.hold(
            session, cipher, settings, patient_id=patient.id, slot_id=slot.id, reason=reason, now=NOW
        )
        payment = await appointments.pay_link(session, settings, gateways, held, now=NOW)
    await settle_paid(sessions, cipher, settings, gateways, payment, at=NOW)
    return patient, doctor, held


async def deliver(sessions, cipher) -> RecordingSender:
    web = RecordingSender("web")
    await Dispatcher(sessions, cipher, {"web": web}, clock=lambda: NOW).drain()
    return web


def the_request(web: RecordingSender):
    return next((a, n) for a, n in web.sent if n.template == "appointment_request")


def age_at(held: Appointment) -> int:
    return age_on(datetime(1990, 4, 23).date(), held.starts_at.astimezone(ZoneInfo("Asia/Kolkata")).date())


async def profile_reads(sessions, patient_id: str) -> list[tuple]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEntry.actor_id, AuditEntry.outcome, AuditEntry.purpose)
            .where(
                AuditEntry.patient_id == patient_id,
                AuditEntry.resource_type == "patient_profile",
                AuditEntry.action == "read",
            )
            .order_by(AuditEntry.seq)
        )
        return [tuple(row) for row in rows]


async def test_the_doctors_request_shows_the_patients_allergies_and_the_read_is_audited(
    sessions, cipher, settings, gateways
):
    patient, doctor, held = await request(sessions, cipher, settings, gateways)
    _, notice = the_request(await deliver(sessions, cipher))
    assert "Reason: sore throat" in notice.text
    assert f"Age: {age_at(held)} · Sex: female" in notice.text
    assert "Allergies: penicillin — rash; peanuts" in notice.text
    assert "Current medications: metformin 500 mg" in notice.text
    assert "Conditions: none recorded" in notice.text and "Medical history: none recorded" in notice.text
    # The approved WhatsApp template gets the same, one line per variable.
    assert notice.variables["7"] == "penicillin — rash; peanuts" and notice.variables["6"] == "female"
    assert all("\n" not in value for value in notice.variables.values())
    assert await profile_reads(sessions, patient.id) == [(doctor.user_id, "success", "appointment_request")]


async def test_the_request_is_in_the_doctors_language(sessions, cipher, settings, gateways):
    async with sessions() as session, session.begin():
        doctor = await make_doctor(session)
        await session.execute(update(User).where(User.id == doctor.user_id).values(locale="hi"))
    await request(sessions, cipher, settings, gateways, doctor=doctor, lists={"allergies": ["penicillin"]})
    _, notice = the_request(await deliver(sessions, cipher))
    assert "लिंग: महिला" in notice.text and "एलर्जी: penicillin" in notice.text
    assert "मेडिकल इतिहास: कुछ दर्ज नहीं है" in notice.text


async def test_a_full_profile_keeps_the_request_within_one_whatsapp_message(
    sessions, cipher, settings, gateways
):
    full = {name: [f"{name} {i} " + "x" * 280 for i in range(50)] for name in ("allergies", "history")}
    full |= {name: [f"{name} item {i}" for i in range(50)] for name in ("medications", "conditions")}
    await request(
        sessions, cipher, settings, gateways, lists=full, reason="r" * appointments.MAX_REASON_CHARS
    )
    _, notice = the_request(await deliver(sessions, cipher))
    assert len(notice.text) + len("\n\n") + len(notice.typed_hint) <= MAX_BODY  # nothing is cut off
    assert "more" in notice.text and "Please accept or reject by" in notice.text
    assert "medications item 0; medications item 1" in notice.text


async def open_card(chat: ChatDriver, who: str) -> str:
    await chat.open()
    await chat.tap("My appointments")
    await chat.tap(who)
    return chat.text()


def doctor_chat(engine, otp_sender, doctor) -> ChatDriver:
    return ChatDriver(engine, otp_sender, chat_id=f"web-{doctor.user_id[:8]}-0", pinned=NOW)


async def test_the_doctors_card_shows_the_patients_allergies_read_live(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    patient, doctor, _ = await request(sessions, cipher, settings, gateways)
    async with sessions() as session, session.begin():  # added after the request was sent
        await fill_profile(session, cipher, patient, {"conditions": ["asthma"]})
    card = await open_card(doctor_chat(engine, otp_sender, doctor), "Asha Verma")
    assert "Allergies: penicillin — rash; peanuts" in card and "Conditions: asthma" in card
    reads = await profile_reads(sessions, patient.id)
    assert reads[-1] == (doctor.user_id, "success", "view_appointment")


async def test_the_card_of_a_cancelled_appointment_shows_no_summary_and_the_refusal_is_audited(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    patient, doctor, held = await request(sessions, cipher, settings, gateways)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Appointment).where(Appointment.id == held.id).values(status=AppointmentStatus.CANCELLED)
        )
    card = await open_card(doctor_chat(engine, otp_sender, doctor), "Asha Verma")
    assert "Status: cancelled" in card and "penicillin" not in card
    assert "shown only while you have an active appointment" in card
    reads = await profile_reads(sessions, patient.id)
    assert reads[-1] == (doctor.user_id, "denied", "view_appointment")


async def test_accept_on_a_request_shows_the_accepted_card_not_an_earlier_cancelled_one(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    _, doctor, earlier = await request(sessions, cipher, settings, gateways, reason="old knee pain")
    async with sessions() as session, session.begin():
        await session.execute(
            update(Appointment).where(Appointment.id == earlier.id).values(status=AppointmentStatus.CANCELLED)
        )
    await deliver(sessions, cipher)  # the first request's message, long gone
    chat = doctor_chat(engine, otp_sender, doctor)
    assert "Status: cancelled" in await open_card(chat, "Asha Verma")  # the doctor left it open
    _, _, held = await request(
        sessions, cipher, settings, gateways, doctor=doctor, reason="fever for two days", days=4
    )
    _, notice = the_request(await deliver(sessions, cipher))
    await chat.tap_token(notice.actions[0].token)  # Accept
    shown = chat.text()
    assert "Accepted" in shown and "Reason: fever for two days" in shown and "Status: confirmed" in shown
    assert "old knee pain" not in shown and "cancelled" not in shown
    assert "Allergies: penicillin — rash; peanuts" in shown
    await chat.tap("Cancel appointment")  # the buttons are the accepted appointment's
    await chat.tap("Yes, cancel")
    async with sessions() as session:
        assert (await session.get(Appointment, held.id)).status is AppointmentStatus.CANCELLED


async def test_the_urgent_consult_shows_the_summary_once_taken_not_in_the_offer(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    async with sessions() as session, session.begin():
        doctor = await make_doctor(session, on_call=True)
        patient = await make_patient(session, cipher, chat="patient-urgent")
        await fill_profile(session, cipher, patient, ASHA)
    await paid_urgent_for(sessions, cipher, settings, gateways, patient.id, at=NOW)
    offer = next(n for _, n in (await deliver(sessions, cipher)).sent if n.template == "urgent_offer")
    assert "penicillin" not in offer.text and await profile_reads(sessions, patient.id) == []
    chat = doctor_chat(engine, otp_sender, doctor)
    await chat.tap_token(offer.actions[0].token)
    assert "It is yours" in chat.text() and "Allergies: penicillin — rash; peanuts" in chat.text()
    assert (await profile_reads(sessions, patient.id))[-1][:2] == (doctor.user_id, "success")
