"""Booking in the chat: the doctor's Accept / Reject buttons on a request, the appointments list
and its actions, cancelling with the policy's refund said first. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from backend.appointments import service as appointments
from backend.models import Appointment, AppointmentStatus, Payment, User
from backend.payments import service as payments
from notifications.dispatcher import Dispatcher
from tests.appointments.factories import make_doctor, make_patient, make_slot, paid_event
from tests.chat import ChatDriver
from tests.notifications.helpers import RecordingSender


def now() -> datetime:
    return datetime.now(UTC)


async def requested(sessions, cipher, settings, gateways, *, days: float = 3, reason_red_flag: bool = False):
    """A patient's paid request to a doctor; the patient's and doctor's chat addresses."""
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher, chat="patient-chat")
        doctor = await make_doctor(session)
        slot = await make_slot(session, doctor, now().replace(microsecond=0) + timedelta(days=days))
        held = await appointments.hold(
            session,
            cipher,
            settings,
            patient_id=patient.id,
            slot_id=slot.id,
            reason="sore throat",
            now=now(),
            reason_red_flag=reason_red_flag,
        )
        payment = await appointments.pay_link(session, settings, gateways, held, now=now())
    async with sessions() as session, session.begin():
        fresh = await session.get(Payment, payment.id)
        change = await payments.record_event(
            session, fresh.gateway, paid_event(fresh), settings=settings, now=now()
        )
        await appointments.settle(session, cipher, settings, gateways, change, now=now())
    return patient, doctor, held


async def open_the_only_appointment(chat: ChatDriver, status: str) -> None:
    """Tap the one appointment in "My appointments" and check its status on its page. Not by the
    status in its button: labels are cut at 60 characters, and on a two-digit day at 10, 11 or
    12 o'clock the status loses its last letters ("waiting for the docto")."""
    await chat.tap("Dr Meera Rao")
    assert f"Status: {status}" in chat.text(), chat.text()


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
    await doctor_chat.tap("needs your answer")
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
    await open_the_only_appointment(chat, "waiting for the doctor")
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


async def hold_in_chat(chat: ChatDriver) -> None:
    """The patient finds Dr Meera Rao and holds the first time of the fourth day offered."""
    await chat.open()
    await chat.send("menu")
    await chat.tap("Find a doctor")
    await chat.send("general medicine")
    await chat.tap("Meera Rao")
    await chat.tap("Book")
    days = [label for label in chat.labels() if "," in label]
    await chat.tap(days[min(3, len(days) - 1)])
    await chat.tap(chat.labels()[0])
    await chat.send("sore throat for a week")
    await chat.tap("Hold it and pay")


async def book_in_chat(chat: ChatDriver) -> None:
    """... and is on the payment step."""
    await hold_in_chat(chat)
    assert "The fee is ₹500" in chat.text() and "/pay/sandbox/" in chat.link_url(), chat.text()


async def open_hours(sessions, settings, doctor) -> None:
    from backend.models import AvailabilityRule
    from backend.scheduling import service as scheduling

    async with sessions() as session, session.begin():
        for weekday in range(7):
            session.add(
                AvailabilityRule(doctor_id=doctor.id, weekday=weekday, start_time=time(9), end_time=time(17))
            )
        await session.flush()
        fresh = await session.get(type(doctor), doctor.id)
        await scheduling.generate_slots(session, fresh, now=now(), horizon_days=settings.booking_horizon_days)


async def test_a_cancel_left_on_the_payment_step_does_not_cancel_a_paid_booking(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    async with sessions() as session, session.begin():
        await make_patient(session, cipher, chat="patient-chat")
        doctor = await make_doctor(session)
    await open_hours(sessions, settings, doctor)
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat")
    await book_in_chat(chat)
    cancel = chat.token("Cancel")
    async with sessions() as session, session.begin():
        payment = await session.scalar(select(Payment))
        change = await payments.record_event(
            session, "sandbox", paid_event(payment), settings=settings, now=now()
        )
        await appointments.settle(session, cipher, settings, gateways, change, now=now())
    await chat.tap_token(cancel)
    assert "open 'My appointments'" in chat.text()
    async with sessions() as session:
        assert (await session.scalar(select(Appointment))).status is AppointmentStatus.REQUESTED
        assert (await session.scalar(select(Payment))).refunded_minor == 0


async def test_a_failed_payment_is_said_and_a_new_link_given(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    from backend.payments.gateway import EventType

    async with sessions() as session, session.begin():
        await make_patient(session, cipher, chat="patient-chat")
        doctor = await make_doctor(session)
    await open_hours(sessions, settings, doctor)
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat")
    await book_in_chat(chat)
    first_link = chat.link_url()
    async with sessions() as session, session.begin():
        payment = await session.scalar(select(Payment))
        event = paid_event(payment, type_=EventType.FAILED)
        change = await payments.record_event(session, "sandbox", event, settings=settings, now=now())
        await appointments.settle(session, cipher, settings, gateways, change, now=now())
    await chat.tap("I have paid")
    assert "did not go through, and nothing was charged" in chat.text()
    new_link = chat.link_url()
    assert new_link != first_link


async def test_a_failed_payment_is_told_as_it_is_and_pay_again_gives_a_new_link_button(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    """The message about a failed payment says nothing was charged and never asks the patient to
    tap "I have paid" (they have not); its Pay again button opens the pay step with a new link."""
    from backend.payments.gateway import EventType

    async with sessions() as session, session.begin():
        await make_patient(session, cipher, chat="patient-chat")
        doctor = await make_doctor(session)
    await open_hours(sessions, settings, doctor)
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat")
    await book_in_chat(chat)
    first_link = chat.link_url()
    async with sessions() as session, session.begin():
        payment = await session.scalar(select(Payment))
        event = paid_event(payment, type_=EventType.FAILED)
        change = await payments.record_event(session, "sandbox", event, settings=settings, now=now())
        await appointments.settle(session, cipher, settings, gateways, change, now=now())
    web = await deliver(sessions, cipher)
    (failed,) = [n for _, n in web.sent if n.template == "appointment_payment_failed"]
    assert "did not go through, and nothing was charged" in failed.text, failed.text
    assert "with Dr Meera Rao" in failed.text, "the notice names whom the payment was for"
    assert "I have paid" not in failed.text
    assert [a.label for a in failed.actions] == ["Pay again"]

    await chat.send("menu")  # wherever the patient is now
    await chat.tap_token(failed.actions[0].token)
    assert "held for you until" in chat.text(), chat.text()
    assert chat.link_url() != first_link and "/pay/sandbox/" in chat.link_url()


PINNED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def confirmed(sessions, cipher, settings, gateways, starts_at: datetime) -> None:
    """A patient's appointment at `starts_at`, held, paid and accepted at PINNED."""
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher, chat="patient-chat")
        doctor = await make_doctor(session)
        slot = await make_slot(session, doctor, starts_at)
        held = await appointments.hold(
            session,
            cipher,
            settings,
            patient_id=patient.id,
            slot_id=slot.id,
            reason="sore throat",
            now=PINNED,
        )
        payment = await appointments.pay_link(session, settings, gateways, held, now=PINNED)
    async with sessions() as session, session.begin():
        fresh = await session.get(Payment, payment.id)
        change = await payments.record_event(
            session, fresh.gateway, paid_event(fresh), settings=settings, now=PINNED
        )
        await appointments.settle(session, cipher, settings, gateways, change, now=PINNED)
        await appointments.accept(session, cipher, doctor, held.id, now=PINNED)


@pytest.mark.parametrize(
    ("before_start", "quote", "refunded"),
    [
        (timedelta(hours=24, minutes=1), "You will get ₹500 back (full refund up to 24 hours", "₹500"),
        (
            timedelta(hours=23, minutes=59),
            "less than 24 hours, so you will get ₹250 back: 50% of the ₹500",
            "₹250",
        ),
    ],
    ids=["a minute before the notice", "a minute inside it"],
)
async def test_the_cancel_confirmation_quotes_the_rule_that_applies_then_and_its_amount(
    sessions, cipher, settings, gateways, engine, otp_sender, before_start, quote, refunded
):
    assert (settings.free_cancel_hours, settings.late_cancel_refund_percent) == (24, 50)
    starts_at = PINNED + timedelta(days=3)
    await confirmed(sessions, cipher, settings, gateways, starts_at)
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat", pinned=starts_at - before_start)
    await chat.open()
    await chat.send("menu")
    await chat.tap("My appointments")
    await open_the_only_appointment(chat, "confirmed")
    await chat.tap("Cancel appointment")
    assert quote in chat.text(), chat.text()
    await chat.tap("Yes, cancel")
    assert f"{refunded} is being refunded" in chat.text(), chat.text()


async def test_a_request_not_yet_accepted_is_quoted_in_full_for_that_reason(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    await requested(sessions, cipher, settings, gateways, days=0.5)  # inside the notice, not accepted
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat")
    await chat.open()
    await chat.tap("My appointments")
    await open_the_only_appointment(chat, "waiting for the doctor")
    await chat.tap("Cancel appointment")
    assert "The doctor has not accepted it yet, so you will get all ₹500 back" in chat.text(), chat.text()


async def test_moving_is_not_offered_inside_the_cancellation_notice(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    await requested(sessions, cipher, settings, gateways, days=0.5)  # 12 hours away
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat")
    await chat.open()
    await chat.send("menu")
    await chat.tap("My appointments")
    await open_the_only_appointment(chat, "waiting for the doctor")
    assert "Cancel appointment" in " ".join(chat.labels())
    assert not [label for label in chat.labels() if "Move" in label]


async def test_a_time_the_doctor_cancelled_is_not_offered_again(sessions, cipher, settings, gateways):
    from backend.models import Slot
    from backend.scheduling import service as scheduling

    async with sessions() as session, session.begin():
        doctor = await make_doctor(session)
    await open_hours(sessions, settings, doctor)
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)
        slot = (
            await scheduling.free_slots(
                session, doctor.id, start=now() + timedelta(days=2), end=now() + timedelta(days=3), now=now()
            )
        )[0]
        held = await appointments.hold(
            session, cipher, settings, patient_id=patient.id, slot_id=slot.id, reason="cough", now=now()
        )
        payment = await appointments.pay_link(session, settings, gateways, held, now=now())
    async with sessions() as session, session.begin():
        change = await payments.record_event(
            session,
            "sandbox",
            paid_event(await session.get(Payment, payment.id)),
            settings=settings,
            now=now(),
        )
        await appointments.settle(session, cipher, settings, gateways, change, now=now())
        await appointments.cancel_by_doctor(
            session,
            cipher,
            settings,
            gateways,
            await session.get(type(doctor), doctor.id),
            held.id,
            now=now(),
        )
    async with sessions() as session, session.begin():
        await scheduling.generate_slots(
            session, await session.get(type(doctor), doctor.id), now=now(), horizon_days=14
        )
        assert (await session.get(Slot, slot.id)).status == scheduling.WITHDRAWN
        free = await scheduling.free_slots(
            session, doctor.id, start=now(), end=now() + timedelta(days=14), now=now()
        )
    assert slot.id not in {s.id for s in free}


async def test_a_slot_starting_within_the_booking_lead_cannot_be_held(sessions, cipher, settings):
    from backend.appointments.service import BOOKING_LEAD, BookingError

    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)
        doctor = await make_doctor(session)
        soon = await make_slot(session, doctor, now() + BOOKING_LEAD - timedelta(minutes=5))
        with pytest.raises(BookingError) as refused:
            await appointments.hold(
                session, cipher, settings, patient_id=patient.id, slot_id=soon.id, reason="cough", now=now()
            )
    assert refused.value.code == "slot_past"


async def test_an_unpaid_urgent_consult_is_paid_from_my_appointments_on_its_own_pay_step(
    sessions, cipher, settings, engine, otp_sender
):
    async with sessions() as session, session.begin():
        await make_patient(session, cipher, chat="patient-chat")
        await make_doctor(session, on_call=True)
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat")
    await chat.open()
    await chat.send("menu")
    await chat.tap("Urgent consult")
    await chat.tap("General Medicine")
    await chat.send("high fever since morning")
    assert "ask the doctors on call" in chat.text()
    await chat.send("menu")
    await chat.tap("My appointments")
    await chat.tap("awaiting payment")
    await chat.tap("Pay")
    assert "ask the doctors on call" in chat.text() and "/pay/sandbox/" in chat.link_url(), chat.text()


class CheckoutAway:
    """The sandbox, except that making a checkout fails (the gateway is not answering)."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.instant_refunds = inner, inner.name, inner.instant_refunds

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def create_checkout(self, **_):
        from backend.payments.gateway import GatewayError

        raise GatewayError("gateway away")


async def test_a_gateway_not_answering_keeps_the_hold_and_the_next_try_makes_the_link(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    from backend.payments.gateway import Gateways

    async with sessions() as session, session.begin():
        await make_patient(session, cipher, chat="patient-chat")
        doctor = await make_doctor(session)
    await open_hours(sessions, settings, doctor)
    engine.gateways = Gateways(default=CheckoutAway(gateways.default))
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat")
    await hold_in_chat(chat)
    assert "not answering" in chat.text()
    async with sessions() as session:
        assert (await session.scalar(select(Appointment))).status is AppointmentStatus.HELD
        assert await session.scalar(select(Payment)) is None  # nothing half-made is kept
    engine.gateways = gateways
    await chat.tap("Try again")
    assert "The fee is ₹500" in chat.text() and "/pay/sandbox/" in chat.link_url()


@pytest.mark.parametrize(
    ("locale", "flagged", "mark"),
    [
        ("en", True, "⚠️ Red-flag words in the reason"),
        ("hi", True, "⚠️ कारण में ख़तरे के संकेत वाले शब्द"),
        ("en", False, None),
    ],
)
async def test_a_red_flag_reason_is_marked_on_the_doctors_request_in_the_doctors_language(
    sessions, cipher, settings, gateways, locale, flagged, mark
):
    _, doctor, _ = await requested(sessions, cipher, settings, gateways, reason_red_flag=flagged)
    async with sessions() as session, session.begin():
        (await session.get(User, doctor.user_id)).locale = locale
    web = await deliver(sessions, cipher)
    request = next(n for _, n in web.sent if n.template == "appointment_request")
    assert "sore throat" in request.text
    if mark:
        assert mark in request.text, request.text
    else:
        assert "⚠️" not in request.text, request.text


async def test_the_patients_own_card_tells_them_of_their_red_flag_reason_in_the_second_person(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    await requested(sessions, cipher, settings, gateways, reason_red_flag=True)
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat")
    await chat.open()
    await chat.tap("My appointments")
    await open_the_only_appointment(chat, "waiting for the doctor")
    text = chat.text()
    assert (
        "You saw the emergency guidance and said you were safe; your doctor will see the reason marked"
        in text
    )
    assert "the patient saw" not in text
