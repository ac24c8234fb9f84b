"""An accepted urgent consult says how the patient will be seen, and makes it true: consultations in
the chat and by video are not built yet, so the doctor who takes it is given the phone number (or,
without one, the email) the patient verified, to call them now — only that doctor, only while the
consult runs, every read audited — and the patient is told which of their contacts to watch.
Through the doctor's chat and the patient's notification, at a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.accounts.service import set_contact
from backend.models import AuditEntry, User
from notifications.dispatcher import Dispatcher
from tests.appointments.test_urgent import paid_urgent, team  # noqa: F401  (team: a fixture)
from tests.chat import ChatDriver
from tests.notifications.helpers import RecordingSender

AT = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # Monday 7 December 2026, 11:30 IST


@pytest.fixture
def take_it(sessions, cipher, settings, gateways, engine, otp_sender, team):  # noqa: F811
    """`await take_it(contact)`: the patient (with `contact` verified, or none) pays; the first
    doctor on call accepts from the offer. Returns the patient, the doctor's chat, the notice."""

    async def taken(contact):
        return await _take_it(sessions, cipher, settings, gateways, engine, otp_sender, contact)

    return taken


async def _take_it(sessions, cipher, settings, gateways, engine, otp_sender, contact):
    patient, _, _ = await paid_urgent(sessions, cipher, settings, gateways, at=AT)
    if contact:
        async with sessions() as session, session.begin():
            set_contact(cipher, await session.get(User, patient.id), *contact)
    web = RecordingSender("web")
    await Dispatcher(sessions, cipher, {"web": web}, clock=lambda: AT).drain()
    address, offer = next((a, n) for a, n in web.sent if n.template == "urgent_offer")
    doctor = ChatDriver(engine, otp_sender, chat_id=address, pinned=AT + timedelta(minutes=1))
    await doctor.tap_token(offer.actions[0].token)
    web = RecordingSender("web")
    await Dispatcher(sessions, cipher, {"web": web}, clock=lambda: AT + timedelta(minutes=2)).drain()
    told_patient = next(n for _, n in web.sent if n.template.startswith("urgent_accepted"))
    return patient, doctor, told_patient


async def _contact_reads(sessions, patient_id: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(AuditEntry.outcome)
            .where(AuditEntry.resource_type == "patient_contact", AuditEntry.patient_id == patient_id)
            .order_by(AuditEntry.seq)
        )
        return list(rows.all())


async def test_the_doctor_who_takes_it_is_given_the_number_to_call_and_the_patient_is_told(take_it, sessions):
    patient, doctor, told_patient = await take_it(("phone", "+919876543210"))
    assert "It is yours" in doctor.text()
    assert "Please call them now on +91 98765 43210" in doctor.text()  # on the card that follows
    assert "will call you now on +91•••••••210" in told_patient.text
    assert "98765" not in told_patient.text  # the patient's own number, masked in a notification
    assert "will see you now" not in told_patient.text  # the old words, which said no how
    assert await _contact_reads(sessions, patient.id) == ["success"]


async def test_a_patient_with_only_an_email_is_written_to(take_it):
    _, doctor, told_patient = await take_it(("email", "asha@example.com"))
    assert "please write to them now at asha@example.com" in doctor.text()
    assert told_patient.template == "urgent_accepted_email"
    assert "will write to you now at a•••@example.com" in told_patient.text


async def test_a_patient_without_a_verified_contact_is_not_promised_a_call(take_it):
    _, doctor, told_patient = await take_it(None)
    assert told_patient.template == "urgent_accepted_no_contact"
    assert "will call" not in told_patient.text and "nearest clinic" in told_patient.text
    assert "Please call them" not in doctor.text() and "write to them" not in doctor.text()


async def test_after_the_consult_ends_the_card_no_longer_shows_the_number_and_the_refusal_is_audited(
    take_it, sessions
):
    patient, doctor, _ = await take_it(("phone", "+919876543210"))
    doctor.pinned = AT + timedelta(hours=3)  # long past the consult's slot; it is still "confirmed"
    await doctor.send("menu")
    await doctor.tap("appointments")
    await doctor.tap("Asha")
    assert "Allergies" in doctor.text()  # the card itself still opens, with the summary
    assert "98765" not in doctor.text()
    assert await _contact_reads(sessions, patient.id) == ["success", "denied"]


async def test_the_urgent_consult_says_before_payment_how_the_doctor_will_reach_you(chat, sessions):
    from tests.appointments.factories import make_doctor

    async with sessions() as session, session.begin():
        await make_doctor(session, on_call=True)
    await chat.sign_up()
    await chat.send("menu")
    await chat.tap("Urgent consult")
    assert "calls you on the phone number you verified" in chat.text()
