"""The Stripe gateway: a Checkout Session per payment, Connect splits, refunds, signed webhooks.

It uses the stripe library's StripeClient with its async methods over httpx, pointed at
`STRIPE_API_BASE_URL` when that is set (the tests' fake Stripe API). Webhooks are verified with
the library (`construct_event`, tolerance 300 s); the event is then read as plain JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe

from backend.models import Payment
from backend.payments.gateway import (
    Checkout,
    EventType,
    GatewayError,
    GatewayEvent,
    InvalidEvent,
    InvalidSignature,
    header,
)

NAME = "stripe"
TOLERANCE_SECONDS = 300
# Stripe's shortest allowed session (30 min), plus a minute so that clock skew between us and
# Stripe never makes it "too soon". The hold itself is shorter; the service expires the link.
CHECKOUT_LIFETIME_SECONDS = 31 * 60

_CHECKOUT_EVENTS = {
    "checkout.session.async_payment_succeeded": EventType.PAID,
    "checkout.session.async_payment_failed": EventType.FAILED,
    "checkout.session.expired": EventType.EXPIRED,
}


class StripeGateway:
    name = NAME
    instant_refunds = False  # confirmed by charge.refunded / refund.updated
    supports_split = True

    def __init__(
        self, *, api_key: str, webhook_secret: str, public_base_url: str, api_base_url: str | None = None
    ) -> None:
        self._webhook_secret = webhook_secret
        self._base = public_base_url.rstrip("/")
        addresses = {"api": api_base_url.rstrip("/")} if api_base_url else None
        self._http = stripe.HTTPXClient()
        self.client = stripe.StripeClient(
            api_key,
            base_addresses=addresses,  # type: ignore[arg-type]
            http_client=self._http,
            max_network_retries=2,
        )

    async def close(self) -> None:
        await self._http.close_async()

    async def create_checkout(
        self, *, payment: Payment, description: str, destination: str | None, application_fee_minor: int
    ) -> Checkout:
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": payment.amount_minor,
                        "product_data": {"name": (description or "Consultation")[:250]},
                    },
                }
            ],
            "client_reference_id": payment.appointment_id,
            "metadata": {"payment_id": payment.id, "appointment_id": payment.appointment_id},
            "success_url": f"{self._base}/pay/done?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{self._base}/pay/cancelled",
            "expires_at": int(time.time()) + CHECKOUT_LIFETIME_SECONDS,
            "payment_intent_data": {
                "metadata": {"payment_id": payment.id, "appointment_id": payment.appointment_id}
            },
        }
        if destination:
            params["payment_intent_data"]["application_fee_amount"] = application_fee_minor
            params["payment_intent_data"]["transfer_data"] = {"destination": destination}
        try:
            session = await self.client.v1.checkout.sessions.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": f"checkout-{payment.id}"},
            )
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe refused the checkout: {exc.user_message or exc}") from exc
        expires_at = getattr(session, "expires_at", None)
        expires = datetime.fromtimestamp(expires_at, UTC) if expires_at else None
        return Checkout(ref=session.id, url=session.url, expires_at=expires)

    async def cancel_checkout(self, payment: Payment) -> None:
        if not payment.checkout_ref:
            return
        try:
            await self.client.v1.checkout.sessions.expire_async(payment.checkout_ref)
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe did not expire the checkout: {exc.user_message or exc}") from exc

    async def refund(self, *, payment: Payment, amount_minor: int, idempotency_key: str) -> str:
        if not payment.charge_ref:
            raise GatewayError(f"payment {payment.id} has no payment intent to refund")
        params: dict[str, Any] = {
            "payment_intent": payment.charge_ref,
            "amount": amount_minor,
            "metadata": {"payment_id": payment.id},
        }
        if payment.destination_account:
            # A destination charge: take the doctor's share back from their account and return
            # the platform's fee, both in proportion to the refund.
            params["reverse_transfer"] = True
            params["refund_application_fee"] = True
        try:
            refund = await self.client.v1.refunds.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe refused the refund: {exc.user_message or exc}") from exc
        return refund.id

    def parse_event(self, body: bytes, headers: Mapping[str, str], now: datetime) -> GatewayEvent:
        """Verified by the library against the raw body (the clock is the library's own: real time)."""
        signature = header(headers, "Stripe-Signature")
        try:
            self.client.construct_event(body, signature, self._webhook_secret, tolerance=TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError as exc:
            raise InvalidSignature(str(exc)) from exc
        except ValueError as exc:  # signed, but not JSON
            raise InvalidEvent(str(exc)) from exc
        try:
            return _to_event(json.loads(body))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidEvent(f"not a Stripe event: {exc}") from exc


def _to_event(payload: dict[str, Any]) -> GatewayEvent:
    event_id, raw_type, obj = payload["id"], payload["type"], payload["data"]["object"]
    if not (isinstance(event_id, str) and event_id and len(event_id) <= 255):
        raise ValueError("bad event id")
    if not isinstance(raw_type, str) or not isinstance(obj, dict):
        raise ValueError("bad type or object")
    base = {"event_id": event_id, "raw_type": raw_type[:64]}
    if raw_type.startswith("checkout.session."):
        kind = _CHECKOUT_EVENTS.get(raw_type, EventType.OTHER)
        if raw_type == "checkout.session.completed":
            # Card payments are paid on completion; delayed methods finish with async_payment_*.
            kind = EventType.PAID if obj.get("payment_status") == "paid" else EventType.OTHER
        return GatewayEvent(
            type=kind,
            checkout_ref=_id(obj.get("id")),
            charge_ref=_id(obj.get("payment_intent")),
            amount_minor=_int(obj.get("amount_total")),
            currency=_currency(obj.get("currency")),
            **base,
        )
    if raw_type == "charge.refunded":
        return GatewayEvent(
            type=EventType.REFUNDED,
            charge_ref=_id(obj.get("payment_intent")),
            amount_minor=_int(obj.get("amount_refunded")),
            currency=_currency(obj.get("currency")),
            **base,
        )
    if raw_type.startswith("refund."):
        # A refund that went through confirms ours; a failed or cancelled one undoes it (the money
        # is still with us); pending ones change nothing yet.
        status = obj.get("status")
        kind = {
            "succeeded": EventType.REFUNDED,
            "failed": EventType.REFUND_FAILED,
            "canceled": EventType.REFUND_FAILED,
        }
        return GatewayEvent(
            type=kind.get(status, EventType.OTHER),
            charge_ref=_id(obj.get("payment_intent")),
            refund_ref=_id(obj.get("id")),
            amount_minor=_int(obj.get("amount")),
            currency=_currency(obj.get("currency")),
            **base,
        )
    return GatewayEvent(type=EventType.OTHER, **base)


def _id(value: object) -> str | None:
    """An id, or an expanded object's id."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 255:
        raise ValueError("bad id")
    return value


def _int(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("bad amount")
    return value


def _currency(value: object) -> str | None:
    return value.upper() if isinstance(value, str) else None
