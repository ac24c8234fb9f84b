"""The Stripe gateway against the fake Stripe API, and Stripe's webhooks through the route."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from backend.api import payments as payments_api
from backend.appointments import service as appointments_service
from backend.models import LedgerEntry, Payment, PaymentEvent, PaymentStatus, Refund
from backend.payments import build_gateways, ledger
from backend.payments import service as payments
from backend.payments.gateway import GatewayError
from backend.settings import PaymentGatewayName
from tests.backend.test_payments import FEE, make_appointment, make_doctor
from tests.fakes.stripe_api import FakeStripe

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WEBHOOK = "/api/payments/webhooks/stripe"


@pytest.fixture
async def fake():
    async with FakeStripe() as fake:
        yield fake


@pytest.fixture
def app(sessions, settings, cipher, fake) -> FastAPI:
    stripe_settings = settings.model_copy(
        update={
            "payment_gateway": PaymentGatewayName.STRIPE,
            "stripe_api_key": fake.api_key,
            "stripe_webhook_secret": fake.webhook_secret,
            "stripe_api_base_url": fake.base_url,
        }
    )
    app = FastAPI()
    app.state.dispatcher = SimpleNamespace(wake=lambda: None)  # nothing to wake here
    app.state.settings = stripe_settings
    app.state.sessions = sessions
    app.state.cipher = cipher
    app.state.gateways = build_gateways(stripe_settings, cipher)
    app.include_router(payments_api.router)
    return app


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


@pytest.fixture(autouse=True)
def settled(monkeypatch) -> list[payments.PaymentChange]:
    calls: list[payments.PaymentChange] = []

    async def settle(session, cipher, settings, gateways, change, *, now):
        calls.append(change)

    monkeypatch.setattr(appointments_service, "settle", settle, raising=False)
    return calls


async def start(app, *, split: bool = False) -> tuple[Payment, str]:
    state = app.state
    async with state.sessions() as session, session.begin():
        doctor = await make_doctor(session, stripe_account="acct_doctor1" if split else None)
        appointment = await make_appointment(session, doctor=doctor)
        payment = await payments.start_payment(
            session,
            state.settings,
            state.gateways,
            appointment,
            description="Consultation with Dr Asha Rao",
            destination=doctor.stripe_account_id,
            now=NOW,
        )
        return payment, doctor.id


async def reload(app, payment_id: str) -> Payment:
    async with app.state.sessions() as session:
        return await session.get(Payment, payment_id)


async def refund(app, payment_id: str, amount: int, key: str) -> Refund | None:
    state = app.state
    async with state.sessions() as session, session.begin():
        payment = await session.get(Payment, payment_id)
        return await payments.refund(
            session,
            state.settings,
            state.gateways,
            payment,
            amount_minor=amount,
            key=key,
            reason="cancel",
            now=NOW,
        )


async def test_checkout_session_carries_the_appointment_and_no_split_without_an_account(app, fake):
    before = int(time.time())
    payment, _ = await start(app)
    assert payment.gateway == "stripe" and payment.checkout_ref.startswith("cs_test_")
    assert payment.url == fake.sessions[payment.checkout_ref]["url"]
    sent = fake.posts("/v1/checkout/sessions")[0]
    params = sent.params
    assert params["mode"] == "payment"
    assert params["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "inr",
                "unit_amount": str(FEE),
                "product_data": {"name": "Consultation with Dr Asha Rao"},
            },
        }
    ]
    assert params["client_reference_id"] == payment.appointment_id
    assert params["metadata"] == {"payment_id": payment.id, "appointment_id": payment.appointment_id}
    assert params["success_url"].startswith("http://testserver/pay/done")
    assert params["cancel_url"] == "http://testserver/pay/cancelled"
    assert before + 30 * 60 <= int(params["expires_at"]) <= int(time.time()) + 32 * 60
    assert "application_fee_amount" not in params["payment_intent_data"]
    assert "transfer_data" not in params["payment_intent_data"]
    assert sent.headers["Idempotency-Key"] == f"checkout-{payment.id}"


async def test_a_connect_split_sends_the_commission_as_application_fee(app, fake):
    payment, _ = await start(app, split=True)
    intent_data = fake.posts("/v1/checkout/sessions")[0].params["payment_intent_data"]
    assert intent_data["application_fee_amount"] == "12000"
    assert intent_data["transfer_data"] == {"destination": "acct_doctor1"}
    assert payment.destination_account == "acct_doctor1"


async def test_paid_through_the_webhook_records_the_payment_intent(app, client, fake, settled):
    payment, doctor_id = await start(app)
    body, headers = fake.pay(payment.checkout_ref)
    answer = await client.post(WEBHOOK, content=body, headers=headers)
    assert answer.status_code == 200
    paid = await reload(app, payment.id)
    assert paid.status is PaymentStatus.PAID
    assert paid.charge_ref == fake.sessions[payment.checkout_ref]["payment_intent"]
    assert [c.first_time for c in settled] == [True]
    # Stripe retries: the same event again is acknowledged and ignored.
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    assert len(settled) == 1
    async with app.state.sessions() as session:
        assert await ledger.balance(session, ledger.payable(doctor_id), "INR") == -(FEE - 12_000)


@pytest.mark.parametrize("case", ["other secret", "stale", "tampered", "missing", "garbage"])
async def test_bad_stripe_signatures_are_400_and_change_nothing(app, client, fake, settled, case):
    payment, _ = await start(app)
    body, headers = fake.pay(payment.checkout_ref)
    if case == "other secret":
        headers = fake.sign(body, secret="whsec_attacker")
    elif case == "stale":
        headers = fake.sign(body, timestamp=int(time.time()) - 301)
    elif case == "tampered":
        body = body.replace(b'"paid"', b'"unpaid"', 1)
    elif case == "missing":
        headers = {}
    else:
        headers = {"Stripe-Signature": "nonsense"}
    answer = await client.post(WEBHOOK, content=body, headers=headers)
    assert answer.status_code == 400
    assert (await reload(app, payment.id)).status is PaymentStatus.CREATED and not settled
    async with app.state.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PaymentEvent)) == 0


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"id": "evt_1", "type": "x", "data": []}'])
async def test_a_signed_malformed_stripe_body_is_400(client, fake, body):
    assert (await client.post(WEBHOOK, content=body, headers=fake.sign(body))).status_code == 400


async def test_an_unmatched_or_unknown_event_is_acknowledged(client, fake, settled):
    body, headers = fake.signed("customer.created", {"id": "cus_1", "object": "customer"})
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    body, headers = fake.signed(
        "checkout.session.completed", {"id": "cs_test_unknown", "payment_status": "paid"}
    )
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    assert not settled


async def test_delayed_payment_is_paid_only_when_it_succeeds(app, client, fake, settled):
    payment, _ = await start(app)
    body, headers = fake.start_async_payment(payment.checkout_ref)
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    assert (await reload(app, payment.id)).status is PaymentStatus.CREATED and not settled
    body, headers = fake.async_event(payment.checkout_ref, succeeded=True)
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    assert (await reload(app, payment.id)).status is PaymentStatus.PAID


async def test_a_failed_delayed_payment_fails(app, client, fake, settled):
    payment, _ = await start(app)
    await client.post(
        WEBHOOK, content=(sent := fake.start_async_payment(payment.checkout_ref))[0], headers=sent[1]
    )
    body, headers = fake.async_event(payment.checkout_ref, succeeded=False)
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    assert (await reload(app, payment.id)).status is PaymentStatus.FAILED
    assert [(c.type.value, c.first_time) for c in settled] == [("failed", True)]


async def test_a_split_refund_reverses_the_transfer_and_the_fee_and_is_confirmed_by_its_event(
    app, client, fake
):
    payment, doctor_id = await start(app, split=True)
    body, headers = fake.pay(payment.checkout_ref)
    await client.post(WEBHOOK, content=body, headers=headers)
    made = await refund(app, payment.id, 30_000, "appointment:x:late-cancel")
    assert made.status == "pending" and made.gateway_ref.startswith("re_")
    sent = fake.posts("/v1/refunds")[0]
    assert sent.params["reverse_transfer"] == "true" and sent.params["refund_application_fee"] == "true"
    assert sent.params["amount"] == "30000"
    assert sent.headers["Idempotency-Key"] == "appointment:x:late-cancel"
    again = await refund(app, payment.id, 30_000, "appointment:x:late-cancel")
    assert again.id == made.id and len(fake.posts("/v1/refunds")) == 1
    body, headers = fake.refund_event(made.gateway_ref)
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    async with app.state.sessions() as session:
        assert (await session.get(Refund, made.id)).status == "succeeded"
        earnings = await ledger.doctor_earnings(session, doctor_id)
        # The share went to the doctor's Stripe account at once; the refund took back its part.
        assert earnings.earned_minor == 68_000 - 25_500 and earnings.pending_payout_minor == 0
        assert earnings.refunded_minor == 25_500 and earnings.paid_out_minor == 68_000 - 25_500


async def test_an_unsplit_refund_sends_neither_flag_and_charge_refunded_confirms_it(app, client, fake):
    payment, _ = await start(app)
    await client.post(WEBHOOK, content=(sent := fake.pay(payment.checkout_ref))[0], headers=sent[1])
    made = await refund(app, payment.id, FEE, "appointment:y:doctor-cancel")
    params = fake.posts("/v1/refunds")[0].params
    assert "reverse_transfer" not in params and "refund_application_fee" not in params
    assert (await reload(app, payment.id)).status is PaymentStatus.REFUNDED
    body, headers = fake.charge_refunded_event(params["payment_intent"])
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    async with app.state.sessions() as session:
        assert (await session.get(Refund, made.id)).status == "succeeded"
        assert await session.scalar(select(func.sum(LedgerEntry.amount_minor))) == 0


async def test_a_refund_event_before_the_payment_event_is_harmless(app, client, fake, settled):
    payment, _ = await start(app)
    paid_body, paid_headers = fake.pay(payment.checkout_ref)
    intent = fake.sessions[payment.checkout_ref]["payment_intent"]
    refunded_body, refunded_headers = fake.charge_refunded_event(intent)
    assert (await client.post(WEBHOOK, content=refunded_body, headers=refunded_headers)).status_code == 200
    assert (await reload(app, payment.id)).status is PaymentStatus.CREATED
    assert (await client.post(WEBHOOK, content=paid_body, headers=paid_headers)).status_code == 200
    assert (await reload(app, payment.id)).status is PaymentStatus.PAID and settled[-1].first_time


async def test_cancel_checkout_expires_the_session_and_the_expired_event_changes_nothing_more(
    app, client, fake, settled
):
    payment, _ = await start(app)
    async with app.state.sessions() as session, session.begin():
        await payments.cancel_checkout(session, app.state.gateways, await session.get(Payment, payment.id))
    assert fake.sessions[payment.checkout_ref]["status"] == "expired"
    assert (await reload(app, payment.id)).status is PaymentStatus.EXPIRED
    body, headers = fake.expire_event(payment.checkout_ref)
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    assert [c.first_time for c in settled] == [False]


async def test_paid_after_a_failed_expiry_is_still_recorded(app, client, fake, settled):
    """The patient paid just as the hold lapsed: Stripe refuses to expire a completed session
    (logged, not raised), and the PAID event records the money for the lead to refund."""
    payment, _ = await start(app)
    body, headers = fake.pay(payment.checkout_ref)
    async with app.state.sessions() as session, session.begin():
        await payments.cancel_checkout(session, app.state.gateways, await session.get(Payment, payment.id))
    assert (await reload(app, payment.id)).status is PaymentStatus.CREATED
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    assert (await reload(app, payment.id)).status is PaymentStatus.PAID and settled[0].first_time


async def test_stripe_unreachable_raises_gateway_error_on_start(app, fake):
    await fake.stop()
    with pytest.raises(GatewayError):
        await start(app)


async def test_gateways_close_their_http_clients(app, fake):
    await start(app)
    await app.state.gateways.close()
    with pytest.raises(GatewayError):  # the closed client sends nothing more
        await start(app)


async def test_a_refund_that_fails_at_stripe_is_owed_to_the_patient_and_reported(app, client, fake, settled):
    payment, _ = await start(app)
    await client.post(WEBHOOK, content=(sent := fake.pay(payment.checkout_ref))[0], headers=sent[1])
    made = await refund(app, payment.id, FEE, "appointment:z:doctor-cancel")
    assert (await reload(app, payment.id)).status is PaymentStatus.REFUNDED
    fake.refunds[made.gateway_ref].status = "failed"  # e.g. the card was closed meanwhile
    body, headers = fake.refund_event(made.gateway_ref)
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200
    assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200  # a replay
    again = await reload(app, payment.id)
    # Still counted as refunded (nothing refunds it twice); the money is owed to the patient.
    assert again.status is PaymentStatus.REFUNDED and again.refunded_minor == FEE
    async with app.state.sessions() as session:
        assert (await session.get(Refund, made.id)).status == "failed"
        assert await session.scalar(select(func.sum(LedgerEntry.amount_minor))) == 0
        kept = await ledger.balance(session, ledger.GATEWAY, "INR")
        owed = await ledger.balance(session, ledger.refund_owed(again.patient_id), "INR")
    assert kept == FEE and owed == -FEE  # at the gateway, on our side, and owed back by hand
    assert [(c.type.value, c.first_time) for c in settled][-1] == ("refund_failed", True)
