"""Booking paid through Stripe, end to end: the web chat's payment link is a Checkout Session of
the fake Stripe API; the test completes it there and posts the signed `checkout.session.completed`
to /api/payments/webhooks/stripe, as Stripe would. A doctor with a connected account gets the
Connect split (application fee + destination); a doctor's cancellation refunds through Stripe with
the transfer reversed and the fee given back. SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from backend.models import AppointmentStatus, PaymentStatus, Refund
from backend.settings import PaymentGatewayName
from tests.e2e.journeys import (
    Tab,
    appointments_of,
    ledger_total,
    local_time,
    make_doctor,
    make_patient,
    open_all_hours,
    payments_of,
    run,
    serving,
    signed_in,
    to_the_reason,
)

WEBHOOK = "/api/payments/webhooks/stripe"
DOCTOR_EMAIL, PATIENT_EMAIL = "dr.asha@example.com", "ravi@example.com"
CONNECTED = "acct_1AshaNairConnect"


@pytest.fixture
def fake():
    from tests.e2e.journeys import fake_stripe_in_a_thread

    with fake_stripe_in_a_thread() as fake:
        yield fake


@pytest.fixture
def client(settings, fake):
    stripe = settings.model_copy(
        update={
            "payment_gateway": PaymentGatewayName.STRIPE,
            "stripe_api_key": fake.api_key,
            "stripe_webhook_secret": fake.webhook_secret,
            "stripe_api_base_url": fake.base_url,
        }
    )
    with serving(stripe) as client:
        yield client


def _clinic(client, cipher, settings, *, connected: str | None) -> dict:
    async def work(session):
        doctor = await make_doctor(
            session, cipher, name="Asha Nair", email=DOCTOR_EMAIL, stripe_account_id=connected
        )
        await open_all_hours(session, doctor, settings.booking_horizon_days)
        patient = await make_patient(session, cipher, name="Ravi Kumar", email=PATIENT_EMAIL)
        return {"doctor": doctor, "patient": patient}

    return run(client, work)


def _hold(patient: Tab) -> str:
    """Book the first time three days on; returns the payment link button's URL."""
    to_the_reason(patient)
    patient.send("Sore throat and a cough")
    patient.tap("Hold it and pay")
    (link,) = [r["link"]["url"] for r in patient.last if r.get("link")]
    assert "http" not in patient.text(), "the link is a button, not a bare URL in the text"
    return link


def _post(client, event: tuple[bytes, dict]):
    body, headers = event
    client.cookies.clear()
    return client.post(WEBHOOK, content=body, headers={**headers, "content-type": "application/json"})


def _refunds(client, payment_id: str) -> list[Refund]:
    async def work(session):
        return list(await session.scalars(select(Refund).where(Refund.payment_id == payment_id)))

    return run(client, work)


def test_stripe_is_told_the_date_and_time_of_the_consultation_but_not_the_doctor(
    client, cipher, settings, fake
):
    # A doctor's name can say what the patient is seen for (a psychiatrist): it stays on our side.
    cast = _clinic(client, cipher, settings, connected=None)
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _hold(patient)
    (appointment,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    (created,) = fake.posts("/v1/checkout/sessions")
    (item,) = created.params["line_items"]
    name = item["price_data"]["product_data"]["name"]
    assert name == f"Consultation, {local_time(appointment.starts_at, 'Asia/Kolkata')} (Asia/Kolkata)", name
    assert "Asha" not in name and "Nair" not in name and "Dr" not in name


def test_a_connect_split_payment_and_a_doctor_cancellation_refunded_through_stripe(
    client, cipher, settings, fake
):
    cast = _clinic(client, cipher, settings, connected=CONNECTED)
    doctor = signed_in(client, DOCTOR_EMAIL, "doctor")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    link = _hold(patient)

    (appointment,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    (payment,) = run(client, lambda s: payments_of(s, appointment.id))
    session = fake.sessions[payment.checkout_ref]
    assert link == session["url"], "the chat's link is the Checkout Session"
    assert session["client_reference_id"] == appointment.id and session["amount_total"] == 50_000
    (created,) = fake.posts("/v1/checkout/sessions")
    intent_data = created.params["payment_intent_data"]
    commission = 50_000 * settings.commission_bps // 10_000
    assert intent_data["application_fee_amount"] == str(commission)
    assert intent_data["transfer_data"] == {"destination": CONNECTED}

    assert _post(client, fake.pay(payment.checkout_ref)).status_code == 200
    patient.notice("Payment of ₹500 received")
    doctor.press_notice(doctor.notice("New consultation request"), "Accept")
    patient.notice("Confirmed")
    intent = fake.intents[fake.sessions[payment.checkout_ref]["payment_intent"]]
    assert (intent.application_fee_amount, intent.destination) == (commission, CONNECTED)

    doctor.send("menu")
    doctor.tap("My appointments")
    doctor.tap("Ravi Kumar")
    doctor.tap("Cancel appointment")
    doctor.tap("Yes, cancel")
    assert "Cancelled" in doctor.text(), doctor.text()
    assert "refunded in full" in patient.notice("had to cancel")["text"]
    (refund_call,) = fake.posts("/v1/refunds")
    assert refund_call.params["payment_intent"] == intent.id and refund_call.params["amount"] == "50000"
    assert refund_call.params["reverse_transfer"] == "true"
    assert refund_call.params["refund_application_fee"] == "true"
    assert refund_call.headers.get("Idempotency-Key"), "a retried refund is never a second refund"

    (refund,) = _refunds(client, payment.id)
    assert refund.status == "pending", "confirmed only by Stripe's event"
    assert _post(client, fake.refund_event(refund.gateway_ref)).status_code == 200
    (refund,) = _refunds(client, payment.id)
    assert refund.status == "succeeded" and refund.amount_minor == 50_000
    (appointment,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    assert appointment.status is AppointmentStatus.CANCELLED
    assert run(client, ledger_total) == {"INR": 0}


def test_without_a_connected_account_there_is_no_split_and_a_patient_refund_reverses_nothing(
    client, cipher, settings, fake
):
    cast = _clinic(client, cipher, settings, connected=None)
    doctor = signed_in(client, DOCTOR_EMAIL, "doctor")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _hold(patient)
    (appointment,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    (payment,) = run(client, lambda s: payments_of(s, appointment.id))
    (created,) = fake.posts("/v1/checkout/sessions")
    assert "application_fee_amount" not in created.params.get("payment_intent_data", {})
    assert "transfer_data" not in created.params.get("payment_intent_data", {})

    assert _post(client, fake.pay(payment.checkout_ref)).status_code == 200
    doctor.notice("New consultation request")
    patient.send("menu")
    patient.tap("My appointments")
    patient.tap("Asha Nair")
    patient.tap("Cancel appointment")
    patient.tap("Yes, cancel")
    assert "₹500 is being refunded" in patient.text(), patient.text()
    (refund_call,) = fake.posts("/v1/refunds")
    assert "reverse_transfer" not in refund_call.params
    assert run(client, ledger_total) == {"INR": 0}


def test_stripe_webhooks_forged_stale_replayed_and_out_of_order(client, cipher, settings, fake):
    cast = _clinic(client, cipher, settings, connected=CONNECTED)
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _hold(patient)
    (appointment,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    (payment,) = run(client, lambda s: payments_of(s, appointment.id))

    paid_body, paid_headers = fake.pay(payment.checkout_ref)
    assert _post(client, (paid_body, fake.sign(paid_body, secret="whsec_not_ours"))).status_code == 400
    stale = fake.sign(paid_body, timestamp=int(fake.clock()) - 600)
    assert _post(client, (paid_body, stale)).status_code == 400
    assert _post(client, (paid_body.replace(b"50000", b"5"), paid_headers)).status_code == 400

    # Stripe's refund news overtakes the payment's: acknowledged, and nothing moves.
    intent_id = fake.sessions[payment.checkout_ref]["payment_intent"]
    assert _post(client, fake.charge_refunded_event(intent_id)).status_code == 200
    (still,) = run(client, lambda s: payments_of(s, appointment.id))
    assert still.status is PaymentStatus.CREATED and run(client, ledger_total) == {}

    assert _post(client, (paid_body, paid_headers)).status_code == 200
    patient.notice("Payment of ₹500 received")
    assert _post(client, (paid_body, fake.sign(paid_body))).status_code == 200, "a replay: 200, no change"
    (paid,) = run(client, lambda s: payments_of(s, appointment.id))
    assert paid.status is PaymentStatus.PAID and paid.refunded_minor == 0
    (appointment,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    assert appointment.status is AppointmentStatus.REQUESTED
    assert run(client, ledger_total) == {"INR": 0}
    assert json.loads(paid_body)["type"] == "checkout.session.completed"


def test_the_patient_is_told_once_when_stripe_confirms_the_refund(client, cipher, settings, fake):
    from tests.e2e.journeys import outbox_templates, quiet_hours_off

    cast = _clinic(client, cipher, settings, connected=None)
    run(client, lambda s: quiet_hours_off(s, cast["patient"].id))  # not urgent: whatever the hour
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _hold(patient)
    (appointment,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    (payment,) = run(client, lambda s: payments_of(s, appointment.id))
    assert _post(client, fake.pay(payment.checkout_ref)).status_code == 200
    patient.notice("Payment of ₹500 received")
    patient.send("menu")
    patient.tap("My appointments")
    patient.tap("Asha Nair")
    patient.tap("Cancel appointment")
    patient.tap("Yes, cancel")
    assert "₹500 is being refunded" in patient.text(), patient.text()
    (refund,) = _refunds(client, payment.id)
    assert refund.status == "pending"
    assert "refund_completed" not in run(client, lambda s: outbox_templates(s, cast["patient"].id))

    intent_id = fake.sessions[payment.checkout_ref]["payment_intent"]
    assert _post(client, fake.charge_refunded_event(intent_id)).status_code == 200
    done = patient.notice("Refund complete")["text"]
    assert "₹500" in done and "Dr Asha Nair" in done, done
    # Stripe tells again (refund.updated, then a replay): still one message.
    assert _post(client, fake.refund_event(refund.gateway_ref)).status_code == 200
    assert _post(client, fake.charge_refunded_event(intent_id)).status_code == 200
    templates = run(client, lambda s: outbox_templates(s, cast["patient"].id))
    assert templates.count("refund_completed") == 1
