"""The built-in sandbox gateway: the embedded default, so the whole journey works with no account
anywhere.

Its checkout is a page on our own server (`/pay/sandbox/{ref}`, served by backend/api/payments.py)
with Pay / Fail buttons. A press makes an event, signs it the way an outside gateway would
(`Telecare-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`) and hands it to the same
webhook code as a POST to /api/payments/webhooks/sandbox. The signing secret is derived from the
key ring's index key, which never rotates, so every process agrees on it without a setting of its
own. The sandbox keeps no state: whether a link was paid is the payment row itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend.crypto import KeyRing
from backend.models import Payment
from backend.payments.gateway import Checkout, EventType, GatewayEvent, InvalidEvent, InvalidSignature, header

NAME = "sandbox"
SIGNATURE_HEADER = "Telecare-Signature"
TOLERANCE_SECONDS = 300
# The sandbox's own event names, as they appear in the signed body.
RAW_TYPES = {
    "checkout.paid": EventType.PAID,
    "checkout.failed": EventType.FAILED,
    "checkout.expired": EventType.EXPIRED,
    "refund.succeeded": EventType.REFUNDED,
}


def webhook_secret(ring: KeyRing) -> bytes:
    """The sandbox's signing key: HKDF of the index key with a purpose of its own."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"telecare|sandbox-webhook").derive(
        ring.index_key
    )


def new_ref() -> str:
    """A checkout id nobody can guess (it is the capability to pay that link)."""
    return "sbx_" + secrets.token_urlsafe(24)


class SandboxGateway:
    name = NAME
    instant_refunds = True

    def __init__(self, public_base_url: str, secret: bytes) -> None:
        self._base = public_base_url.rstrip("/")
        self._secret = secret

    async def create_checkout(
        self, *, payment: Payment, description: str, destination: str | None, application_fee_minor: int
    ) -> Checkout:
        ref = new_ref()
        return Checkout(ref=ref, url=f"{self._base}/pay/sandbox/{ref}")

    async def cancel_checkout(self, payment: Payment) -> None:
        """Nothing to tell anyone: the page reads the payment's status, which the service sets."""

    async def refund(self, *, payment: Payment, amount_minor: int, idempotency_key: str) -> str:
        return "re_sbx_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]

    # ---- events

    def event_body(self, payment: Payment, raw_type: str) -> bytes:
        """The event a press of Pay or Fail makes. Its id is fixed per link and outcome, so a
        second press (another tab, a double click) is a duplicate event, never a second payment."""
        data: dict[str, Any] = {
            "checkout_ref": payment.checkout_ref,
            "amount_minor": payment.amount_minor,
            "currency": payment.currency,
        }
        if raw_type == "checkout.paid":
            data["charge_ref"] = (
                "ch_sbx_" + hashlib.sha256(str(payment.checkout_ref).encode()).hexdigest()[:24]
            )
        body = {"id": f"evt_sbx_{raw_type}_{payment.checkout_ref}", "type": raw_type, "data": data}
        return json.dumps(body, separators=(",", ":")).encode()

    def sign(self, body: bytes, now: datetime) -> dict[str, str]:
        timestamp = int(now.timestamp())
        return {SIGNATURE_HEADER: f"t={timestamp},v1={self._digest(timestamp, body)}"}

    def parse_event(self, body: bytes, headers: Mapping[str, str], now: datetime) -> GatewayEvent:
        self._verify(body, header(headers, SIGNATURE_HEADER), now)
        try:
            payload = json.loads(body)
            event_id, raw_type, data = payload["id"], payload["type"], payload.get("data") or {}
            if not isinstance(event_id, str) or not event_id or len(event_id) > 255:
                raise ValueError("bad id")
            if not isinstance(raw_type, str) or not isinstance(data, dict):
                raise ValueError("bad type or data")
            amount = data.get("amount_minor")
            if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
                raise ValueError("bad amount")
            return GatewayEvent(
                event_id=event_id,
                type=RAW_TYPES.get(raw_type, EventType.OTHER),
                checkout_ref=_optional_str(data.get("checkout_ref")),
                charge_ref=_optional_str(data.get("charge_ref")),
                amount_minor=amount,
                currency=_optional_str(data.get("currency")),
                refund_ref=_optional_str(data.get("refund_ref")),
                raw_type=raw_type[:64],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidEvent(f"not a sandbox event: {exc}") from exc

    def _digest(self, timestamp: int, body: bytes) -> str:
        return hmac.new(self._secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()

    def _verify(self, body: bytes, header: str | None, now: datetime) -> None:
        if not header:
            raise InvalidSignature("no signature")
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        try:
            timestamp = int(parts["t"])
        except (KeyError, ValueError) as exc:
            raise InvalidSignature("no timestamp") from exc
        if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
            raise InvalidSignature("stale or future timestamp")
        if not hmac.compare_digest(parts.get("v1", ""), self._digest(timestamp, body)):
            raise InvalidSignature("signature does not match")


def _optional_str(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 255:
        raise ValueError("expected a short string")
    return value
