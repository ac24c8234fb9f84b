"""README.md's "Try it", step 4, literally, in the web chat: a new patient books Dr Ananya Rao and
pays on the sandbox checkout page; only then is the demo doctor persona opened in another browser.
The doctor has had no chat until that moment: the request waited for them, and its Accept works.
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend import demo
from backend.models import OutboxMessage, OutboxStatus
from tests.e2e.journeys import Tab, book_from_search, eventually, pay_on_sandbox, run, serving


@pytest.fixture
def client(settings, cipher):
    with serving(settings) as client:

        async def load(session):
            await demo.load(session, cipher)

        run(client, load)
        yield client


def _request_row(client) -> OutboxMessage | None:
    async def work(session):
        return await session.scalar(
            select(OutboxMessage).where(OutboxMessage.template == "appointment_request")
        )

    return run(client, work)


def test_the_doctor_persona_opened_after_the_payment_gets_the_request_and_accepts_it(client):
    patient = Tab(client, "patient")
    patient.sign_up("Asha Verma", "asha@example.com")
    book_from_search(
        patient, specialty_typed="general physican", doctor="Ananya Rao", reason="fever for 3 days"
    )
    patient.use()
    pay_on_sandbox(client, patient.payment_ref())
    patient.notice("has gone to Dr Ananya Rao")

    # The dispatcher met a doctor with no chat at all: the request waits, it is not dropped.
    row = eventually(
        lambda: (
            (found := _request_row(client)) is not None and found.status is not OutboxStatus.PENDING and found
        ),
        "the request to be dispatched",
    )
    assert (row.status, row.channel, row.delivery_status) == (OutboxStatus.SENT, None, "waiting")

    doctor = Tab(client, "doctor", persona="doctor")  # "in a private window pick ... (doctor)"
    request = doctor.notice("New consultation request from Asha Verma")
    assert [c["label"] for c in request["choices"]] == ["Accept", "Reject"]
    doctor.press_notice(request, "Accept")
    assert "Accepted" in doctor.text(), doctor.text()
    assert doctor.notice("Confirmed: consultation with Asha Verma")
    assert patient.notice("Confirmed: your consultation with Dr Ananya Rao")
    shown = _request_row(client)
    assert (shown.channel, shown.delivery_status) == ("web", "delivered")
