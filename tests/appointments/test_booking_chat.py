"""Booking in the chat: the doctor's Accept / Reject buttons on a request, the appointments list
and its actions, cancelling with the policy's refund said first. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.appointments import service as appointments
from backend.models import Appointment, AppointmentStatus, Payment
from backend.payments import service as payments
from notifications.dispatcher import Dispatcher
from tests.appointments.factories import make_doctor, make_patient, make_slot, paid_event
from tests.chat import ChatDriver
from tests.notifications.helpers import RecordingSender


def now() -> datetime:
    return datetime.now(UTC)


async def requested(sessions, cipher, settings, gateways, *, days: float = 3):
    """A patient's paid request to a doctor; the patient's and doctor's chat addresses."""
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher, chat="patient-chat")
        doctor = await make_doctor(session)
        slot = await make_slot(session, doctor, now().replace(microsecond=0) + timedelta(days=days))
        held = await appointments.hold(
            session, cipher, settings, patient_id=patient.id, slot_id=slot.id, reason="sore throat", now=now()
        )
        payment = await appointments.pay_link(session, settings, gateways, held, now=now())
    async with sessions() as session, session.begin():
        fresh = await session.get(Payment, payment.id)
        change = await payments.record_event(
            session, fresh.gateway, paid_event(fresh), settings=settings, now=now()
        )
        await appointments.settle(session, cipher, settings, gateways, change, now=now())
    return patient, doctor, held


async def deliver(sessions, cipher) -> RecordingSender:
    web = RecordingSender("web")
    await Dispatcher(sessions, cipher, {"web": web}).drain()
    return web


async def test_the_doctor_accepts_from_the_request_and_its_reject_then_no_longer_works(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    _, _, held = await requested(sessions, cipher, settings, gateways)
    web = await deliver(sessions, cipher)
    address, request = next((a, n) for a, n in web.sent if n.template == "appointment_request")
    assert "Asha Verma" in request.text and "sore throat" in request.text
    assert [a.label for a in request.actions] == ["Accept", "Reject"]
    doctor_chat = ChatDriver(engine, otp_sender, chat_id=address)
    await doctor_chat.tap_token(request.actions[0].token)
    assert "Accepted" in doctor_chat.text()
    await doctor_chat.tap_token(request.actions[1].token)
    assert "no longer valid" in doctor_chat.text()
    async with sessions() as session:
        assert (await session.get(Appointment, held.id)).status is AppointmentStatus.CONFIRMED
    confirmations = await deliver(sessions, cipher)
    texts = {n.template: n.text for _, n in confirmations.sent}
    assert "Dr Meera Rao (MBBS, MD; Reg. No. KMC-" in texts["appointment_confirmed_patient"]


async def test_a_reject_pressed_after_accept_in_my_appointments_is_refused(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    _, _, held = await requested(sessions, cipher, settings, gateways)
    web = await deliver(sessions, cipher)
    address, request = next((a, n) for a, n in web.sent if n.template == "appointment_request")
    doctor_chat = ChatDriver(engine, otp_sender, chat_id=address)
    await doctor_chat.open()
    await doctor_chat.tap("My appointments")
    await doctor_chat.tap("waiting for the doctor")
    assert "sore throat" in doctor_chat.text()
    # Meanwhile the doctor accepts from the notification (another device).
    await ChatDriver(engine, otp_sender, chat_id=address).tap_token(request.actions[0].token)
    await doctor_chat.tap("Reject")  # the button on screen from before: it no longer applies
    assert "expired" in doctor_chat.text() and "Status: confirmed" in doctor_chat.text()
    assert not [label for label in doctor_chat.labels() if "Reject" in label]
    async with sessions() as session:
        assert (await session.get(Appointment, held.id)).status is AppointmentStatus.CONFIRMED
        assert (
            await session.get(Payment, (await payments.paid_payment(session, held.id)).id)
        ).refunded_minor == 0


async def test_the_patient_sees_the_refund_before_cancelling_and_the_doctor_is_told(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    await requested(sessions, cipher, settings, gateways)
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat")
    await chat.open()
    await chat.tap("My appointments")
    await chat.tap("waiting for the doctor")
    await chat.tap("Cancel appointment")
    assert "₹500 back" in chat.text()
    await chat.tap("Yes, cancel")
    assert "₹500 is being refunded" in chat.text()
    web = await deliver(sessions, cipher)
    assert any(n.template == "appointment_cancelled_by_patient" for _, n in web.sent)


async def test_a_doctor_cancelling_in_chat_refunds_and_offers_the_patient_other_times(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    _, doctor, held = await requested(sessions, cipher, settings, gateways)
    async with sessions() as session, session.begin():
        await make_slot(session, doctor, held.starts_at + timedelta(hours=2))
    web = await deliver(sessions, cipher)
    address, request = next((a, n) for a, n in web.sent if n.template == "appointment_request")
    doctor_chat = ChatDriver(engine, otp_sender, chat_id=address)
    await doctor_chat.tap_token(request.actions[0].token)  # accept
    await doctor_chat.send("menu")
    await doctor_chat.tap("My appointments")
    await doctor_chat.tap("confirmed")
    await doctor_chat.tap("Cancel appointment")
    await doctor_chat.tap("Yes, cancel")
    assert "Cancelled" in doctor_chat.text()
    told = await deliver(sessions, cipher)
    notice = next(n for a, n in told.sent if n.template == "appointment_cancelled_by_doctor")
    assert "refunded in full" in notice.text and notice.actions[0].label == "Pick a time"
    # "Pick a time" goes straight to that doctor's free days.
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat")
    await chat.tap_token(notice.actions[0].token)
    assert "Which day would you like to see Dr Meera Rao" in chat.text()
