"""What every payment gateway offers (the sandbox and Stripe implement it), and the set of them
the app was configured with."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from backend.models import Payment


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A webhook header by name, whatever its case (a plain dict in tests, Starlette's in the app)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


class InvalidSignature(Exception):
    """A webhook whose signature is missing, wrong or too old: answer 400 and change nothing."""


class InvalidEvent(Exception):
    """A correctly signed webhook whose body is not an event we can read: answer 400."""


class GatewayError(Exception):
    """The gateway refused or could not be reached (a checkout, an expiry or a refund)."""


class EventType(enum.StrEnum):
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    REFUND_FAILED = "refund_failed"  # a refund we made did not reach the customer
    OTHER = "other"  # an event we do not act on (acknowledged, recorded)


@dataclass(frozen=True, slots=True)
class Checkout:
    ref: str  # the gateway's checkout id, stored as Payment.checkout_ref
    url: str  # where the patient pays
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    event_id: str
    type: EventType
    checkout_ref: str | None = None
    charge_ref: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    refund_ref: str | None = None
    raw_type: str = ""  # the gateway's own name for it ("checkout.session.completed")


class PaymentGateway(Protocol):
    name: str
    # True when a refund is final as soon as the call returns (the sandbox); otherwise it stays
    # "pending" until the gateway's refund event confirms it.
    instant_refunds: bool

    async def create_checkout(
        self, *, payment: Payment, description: str, destination: str | None, application_fee_minor: int
    ) -> Checkout: ...

    async def cancel_checkout(self, payment: Payment) -> None: ...

    async def refund(self, *, payment: Payment, amount_minor: int, idempotency_key: str) -> str: ...

    def parse_event(self, body: bytes, headers: Mapping[str, str], now: datetime) -> GatewayEvent: ...


@dataclass
class Gateways:
    default: PaymentGateway
    others: dict[str, PaymentGateway] = field(default_factory=dict)

    def get(self, name: str) -> PaymentGateway | None:
        return self.default if name == self.default.name else self.others.get(name)

    async def close(self) -> None:
        """Close the gateways' HTTP clients (at shutdown)."""
        for gateway in (self.default, *self.others.values()):
            close = getattr(gateway, "close", None)
            if close is not None:
                await close()
