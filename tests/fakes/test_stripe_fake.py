"""The fake Stripe API answers stripe-python the way Stripe does (auth, checks, idempotency, events)."""

from __future__ import annotations

import time

import pytest
import stripe

from tests.fakes.stripe_api import FakeStripe


@pytest.fixture
async def fake():
    async with FakeStripe() as fake:
        yield fake


def client_for(fake: FakeStripe, key: str | None = None) -> stripe.StripeClient:
    return stripe.StripeClient(
        key or fake.api_key,
        base_addresses={"api": fake.base_url},
        http_client=stripe.HTTPXClient(),
        max_network_retries=0,
    )


def session_params(**overrides):
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {"currency": "inr", "unit_amount": 80_000, "product_data": {"name": "Consult"}},
            }
        ],
        "client_reference_id": "appt_1",
        "metadata": {"payment_id": "pay_1"},
        "success_url": "http://testserver/pay/done",
        "expires_at": int(time.time()) + 31 * 60,
    }
    params.update(overrides)
    return params


async def test_requests_without_the_right_key_are_401(fake):
    with pytest.raises(stripe.AuthenticationError):
        await client_for(fake, "sk_test_wrong").v1.checkout.sessions.create_async(session_params())
    with pytest.raises(stripe.AuthenticationError):
        await client_for(fake, "sk_live_" + fake.api_key[8:]).v1.checkout.sessions.create_async(
            session_params()
        )
    assert not fake.sessions and {r.status for r in fake.requests} == {401}


async def test_a_session_is_created_from_form_encoded_params_retrieved_and_expired(fake):
    client = client_for(fake)
    split = {"application_fee_amount": 12_000, "transfer_data": {"destination": "acct_doc"}}
    session = await client.v1.checkout.sessions.create_async(session_params(payment_intent_data=split))
    assert session.id.startswith("cs_test_") and session.status == "open" and session.amount_total == 80_000
    assert session.client_reference_id == "appt_1" and session.metadata["payment_id"] == "pay_1"
    sent = fake.posts("/v1/checkout/sessions")[0].params
    assert sent["line_items"][0]["price_data"]["unit_amount"] == "80000"
    assert sent["payment_intent_data"]["transfer_data"]["destination"] == "acct_doc"
    assert (await client.v1.checkout.sessions.retrieve_async(session.id)).id == session.id
    assert (await client.v1.checkout.sessions.expire_async(session.id)).status == "expired"
    with pytest.raises(stripe.InvalidRequestError, match="can be expired"):
        await client.v1.checkout.sessions.expire_async(session.id)
    with pytest.raises(stripe.InvalidRequestError, match=r"No such checkout\.session"):
        await client.v1.checkout.sessions.retrieve_async("cs_test_nope")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"expires_at": int(time.time()) + 29 * 60}, "at least 30 minutes"),
        ({"expires_at": int(time.time()) + 25 * 3600}, "less than 24 hours"),
        ({"mode": None}, "Missing required param: mode"),
        ({"line_items": None}, "line_items"),
        ({"payment_intent_data": {"application_fee_amount": 100}}, "application_fee_amount"),
        (
            {
                "payment_intent_data": {
                    "application_fee_amount": 90_000,
                    "transfer_data": {"destination": "acct_d"},
                }
            },
            "cannot be greater",
        ),
        ({"payment_intent_data": {"transfer_data": {"destination": "bank_1"}}}, "No such destination"),
        ({"surprise": "1"}, "unknown parameter: surprise"),
        ({"metadata": {"k" * 41: "v"}}, "40 characters"),
        (
            {
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {"currency": "inr", "unit_amount": 10, "product_data": {"name": "x"}},
                    }
                ]
            },
            "minimum charge amount",
        ),
    ],
)
async def test_invalid_sessions_are_refused_with_stripes_envelope(fake, overrides, message):
    with pytest.raises(stripe.InvalidRequestError, match=message) as refused:
        await client_for(fake).v1.checkout.sessions.create_async(session_params(**overrides))
    assert (
        refused.value.http_status == 400
        and refused.value.json_body["error"]["type"] == "invalid_request_error"
    )
    assert not fake.sessions


async def test_idempotency_keys_return_the_same_object_or_refuse_other_params(fake):
    client = client_for(fake)
    params = session_params()
    first = await client.v1.checkout.sessions.create_async(params, {"idempotency_key": "checkout-1"})
    again = await client.v1.checkout.sessions.create_async(params, {"idempotency_key": "checkout-1"})
    assert again.id == first.id and len(fake.sessions) == 1
    with pytest.raises(stripe.IdempotencyError):
        await client.v1.checkout.sessions.create_async(
            session_params(client_reference_id="other"), {"idempotency_key": "checkout-1"}
        )


async def test_refunds_are_checked_against_what_was_paid(fake):
    client = client_for(fake)
    split = {"application_fee_amount": 12_000, "transfer_data": {"destination": "acct_doc"}}
    session = await client.v1.checkout.sessions.create_async(session_params(payment_intent_data=split))
    fake.pay(session.id)
    intent = fake.sessions[session.id]["payment_intent"]
    with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded"):
        await client.v1.refunds.create_async({"payment_intent": intent, "amount": 90_000})
    with pytest.raises(stripe.InvalidRequestError, match="payment_intent or charge"):
        await client.v1.refunds.create_async({"amount": 100})
    with pytest.raises(stripe.InvalidRequestError, match="No such payment_intent"):
        await client.v1.refunds.create_async({"payment_intent": "pi_nope"})
    part = await client.v1.refunds.create_async(
        {
            "payment_intent": intent,
            "amount": 30_000,
            "reverse_transfer": True,
            "refund_application_fee": True,
        },
        {"idempotency_key": "refund-1"},
    )
    assert part.amount == 30_000 and part.status == "succeeded"
    assert fake.refunds[part.id].reverse_transfer and fake.refunds[part.id].refund_application_fee
    same = await client.v1.refunds.create_async(
        {
            "payment_intent": intent,
            "amount": 30_000,
            "reverse_transfer": True,
            "refund_application_fee": True,
        },
        {"idempotency_key": "refund-1"},
    )
    assert same.id == part.id and fake.intents[intent].amount_refunded == 30_000
    rest = await client.v1.refunds.create_async({"payment_intent": intent})
    assert rest.amount == 50_000
    with pytest.raises(stripe.InvalidRequestError, match="already been refunded"):
        await client.v1.refunds.create_async({"payment_intent": intent, "amount": 1})


async def test_reverse_transfer_needs_a_transfer(fake):
    client = client_for(fake)
    session = await client.v1.checkout.sessions.create_async(session_params())
    fake.pay(session.id)
    intent = fake.sessions[session.id]["payment_intent"]
    with pytest.raises(stripe.InvalidRequestError, match="no transfer"):
        await client.v1.refunds.create_async({"payment_intent": intent, "reverse_transfer": True})


async def test_events_are_signed_as_stripe_signs_them(fake):
    client = client_for(fake)
    session = await client.v1.checkout.sessions.create_async(session_params())
    body, headers = fake.pay(session.id)
    event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], fake.webhook_secret)
    assert event.type == "checkout.session.completed"
    assert event.data.object.payment_status == "paid" and event.data.object.payment_intent.startswith("pi_")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_other")
    stale = fake.sign(body, timestamp=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, stale["Stripe-Signature"], fake.webhook_secret)
    with pytest.raises(AssertionError):
        fake.pay(session.id)  # a completed session cannot be paid again


async def test_unknown_urls_are_404(fake):
    with pytest.raises(stripe.InvalidRequestError, match="Unrecognized request URL"):
        await client_for(fake).raw_request_async("get", "/v1/nothing")
