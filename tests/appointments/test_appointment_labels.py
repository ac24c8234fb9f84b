"""'My appointments' list labels fit in 60 characters without cutting the status ("waiting for
the docto"): the status is short in the list ("awaiting doctor"), and a name too long for the
rest gives way, cut with an ellipsis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.appointments import service as appointments
from conversations.labels import LABEL_CHARS, list_label
from tests.appointments.factories import make_doctor, make_patient, make_slot
from tests.chat import ChatDriver

NOW = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)  # Monday 7 December 2026, 10:00 IST


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("Dr Meera Rao", "Mon, 14 Dec, 10:30 AM · Dr Meera Rao · confirmed"),
        ("Dr Meera Rao", "Mon, 14 Dec, 10:30 AM · Dr Meera… · waiting for the doctor"),
        # Cutting at a word would leave only "Dr": cut inside the name instead.
        ("Dr Venkataraghavan Subramaniam", "Mon, 14 Dec, 10:30 AM · Dr Venkata… · waiting for the doctor"),
        ("Dr Venkataraghavanasubramaniam", "Mon, 14 Dec, 10:30 AM · Dr Venkata… · waiting for the doctor"),
    ],
)
def test_labels_keep_time_and_status_whole_and_cut_the_name(who, expected):
    status = expected.rsplit(" · ", 1)[1]
    label = list_label("Mon, 14 Dec, 10:30 AM", who, status)
    assert label == expected
    assert len(label) <= LABEL_CHARS


async def test_my_appointments_shows_the_whole_status(sessions, cipher, settings, engine, otp_sender):
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher, chat="patient-chat")
        doctor = await make_doctor(session, name="Venkataraghavan Subramaniam Iyer")
        slot = await make_slot(session, doctor, NOW + timedelta(days=7))  # Mon 14 Dec, 10:00 IST
        await appointments.hold(
            session, cipher, settings, patient_id=patient.id, slot_id=slot.id, reason="sore throat", now=NOW
        )
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat", skew=NOW - datetime.now(UTC))
    await chat.open()
    await chat.tap("My appointments")
    label = next(label for label in chat.labels() if "Dr " in label)
    assert label.endswith(" · awaiting payment"), label
    assert "· Dr Venkataraghav… ·" in label and len(label) <= LABEL_CHARS


async def test_a_request_waiting_for_the_doctor_shows_the_name_and_the_whole_status(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    from tests.appointments.test_booking_chat import requested

    await requested(sessions, cipher, settings, gateways)
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat")
    await chat.open()
    await chat.tap("My appointments")
    label = next(label for label in chat.labels() if "Dr " in label)
    assert label.endswith(" · Dr Meera Rao · awaiting doctor"), label
