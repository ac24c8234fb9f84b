"""The emergency pause in the web chat, end to end (issue 14, item 1): an honest chest-pain
follow-up typed as the booking reason shows the emergency card once; after "I am safe —
continue" the reason is kept, the booking completes, and the doctor sees the reason marked, on
the request and on the appointment. Red-flag words typed again at the reason never pause it again.
SQLite and PostgreSQL; everything through HTTP (the chat's WebSocket, the sandbox checkout)."""

from __future__ import annotations

import pytest

from backend.models import AppointmentStatus
from tests.e2e.journeys import (
    appointments_of,
    make_doctor,
    make_patient,
    open_all_hours,
    pay_on_sandbox,
    run,
    serving,
    signed_in,
    to_the_reason,
)

DOCTOR_EMAIL, PATIENT_EMAIL = "dr.asha@example.com", "ravi@example.com"
FOLLOW_UP = "chest pain again since this morning after my angioplasty"
MARK_FOR_DOCTOR = "Red-flag words in the reason"
MARK_ON_CARD = "red-flag words in the reason"


@pytest.fixture
def client(settings):
    with serving(settings) as client:
        yield client


def _clinic(client, cipher, settings) -> str:
    """Dr Asha Nair, open every hour, and the patient Ravi Kumar; returns Ravi's user id."""

    async def work(session):
        doctor = await make_doctor(session, cipher, name="Asha Nair", email=DOCTOR_EMAIL)
        await open_all_hours(session, doctor, settings.booking_horizon_days)
        patient = await make_patient(session, cipher, name="Ravi Kumar", email=PATIENT_EMAIL)
        return patient.id

    return run(client, work)


def _the_appointment(client, patient_id: str):
    async def work(session):
        (appointment,) = await appointments_of(session, patient_id)
        return appointment

    return run(client, work)


def test_a_chest_pain_follow_up_books_after_i_am_safe_and_the_doctor_sees_the_reason_marked(
    client, cipher, settings
):
    patient_id = _clinic(client, cipher, settings)
    doctor = signed_in(client, DOCTOR_EMAIL, "doctor")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    to_the_reason(patient)

    card = patient.send(FOLLOW_UP)
    assert card[0]["urgent"] and "112" in card[0]["text"], patient.text()
    assert any("I am safe" in label for label in patient.labels())
    patient.tap("I am safe")
    assert "Please check" in patient.text(), "the reason was kept: the summary, not the question again"
    assert f"Reason: {FOLLOW_UP}" in patient.text() and "your doctor will see it marked" in patient.text()

    patient.tap("Hold it and pay")
    patient.use()
    assert "Paid" in pay_on_sandbox(client, patient.payment_ref()).text
    patient.notice("received")
    request = doctor.notice("New consultation request")
    assert FOLLOW_UP in request["text"] and MARK_FOR_DOCTOR in request["text"], request["text"]
    doctor.press_notice(request, "Accept")
    appointment = _the_appointment(client, patient_id)
    assert appointment.status is AppointmentStatus.CONFIRMED and appointment.reason_red_flag

    doctor.send("menu")
    doctor.tap("My appointments")
    doctor.tap("Ravi Kumar")
    assert FOLLOW_UP in doctor.text() and MARK_ON_CARD in doctor.text(), doctor.text()


def test_red_flag_words_at_the_reason_after_i_am_safe_never_pause_the_booking_again(client, cipher, settings):
    patient_id = _clinic(client, cipher, settings)
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    to_the_reason(patient)

    too_long = f"{FOLLOW_UP}. " + "The stent was placed in the left artery and I feel fine now. " * 9
    assert patient.send(too_long)[0]["urgent"]
    patient.tap("I am safe")
    assert "under 500 characters" in patient.text(), "the kept words went to the step, which asks again"
    replies = patient.send(FOLLOW_UP)  # the same red-flag words again: a note, not the card and the pause
    assert not any(r.get("urgent") for r in replies), patient.text()
    assert not any("I am safe" in label for label in patient.labels()), patient.text()
    assert "If this is happening now, call 112" in patient.text()
    assert "Please check" in patient.text() and f"Reason: {FOLLOW_UP}" in patient.text()
    patient.tap("Hold it and pay")
    assert "held for you" in patient.text(), patient.text()
    assert _the_appointment(client, patient_id).reason_red_flag
