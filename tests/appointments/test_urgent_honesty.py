"""An accepted urgent consult says what is true: consultations in the chat and by video are not
built, and the doctor gets no phone or email, so neither side is told "the doctor will see you
now"; the patient is told where to get care now. Through the doctor's chat and the patient's
notification, at a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifications.dispatcher import Dispatcher
from tests.appointments.test_urgent import paid_urgent, team  # noqa: F401  (team: a fixture)
from tests.chat import ChatDriver
from tests.notifications.helpers import RecordingSender

AT = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # Monday 7 December 2026, 11:30 IST


async def test_the_accepted_urgent_consult_tells_both_sides_the_truthful_next_step(
    sessions,
    cipher,
    settings,
    gateways,
    engine,
    otp_sender,
    team,  # noqa: F811
):
    await paid_urgent(sessions, cipher, settings, gateways, at=AT)
    web = RecordingSender("web")
    await Dispatcher(sessions, cipher, {"web": web}, clock=lambda: AT).drain()
    address, offer = next((a, n) for a, n in web.sent if n.template == "urgent_offer")
    doctor_chat = ChatDriver(
        engine, otp_sender, chat_id=address, skew=AT + timedelta(minutes=1) - datetime.now(UTC)
    )
    await doctor_chat.tap_token(offer.actions[0].token)
    told_doctor = doctor_chat.text()
    assert "It is yours" in told_doctor
    assert "you cannot reach them through telecare yet" in told_doctor
    assert "will see them now" not in told_doctor

    web = RecordingSender("web")
    await Dispatcher(sessions, cipher, {"web": web}, clock=lambda: AT + timedelta(minutes=2)).drain()
    accepted = next(n for _, n in web.sent if n.template == "urgent_accepted")
    assert "telecare cannot connect you with the doctor yet" in accepted.text
    assert "go to the nearest clinic" in accepted.text
    assert "will see you now" not in accepted.text


async def test_the_urgent_consult_says_before_payment_that_the_doctor_cannot_talk_here_yet(chat, sessions):
    from tests.appointments.factories import make_doctor

    async with sessions() as session, session.begin():
        await make_doctor(session, on_call=True)
    await chat.sign_up()
    await chat.send("menu")
    await chat.tap("Urgent consult")
    assert "the doctor cannot talk to you through telecare yet" in chat.text()
    assert "sees you now" not in chat.text()
