"""Money: payments through a gateway, refunds, webhook events seen, the ledger and payouts.

Amounts are integer minor units (paise, cents) with an ISO currency code; never floats."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, enum_type


class PaymentStatus(enum.StrEnum):
    CREATED = "created"  # link issued, not paid
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"  # the link lapsed unpaid
    REFUNDED = "refunded"  # fully; a partial refund keeps PAID with `refunded_minor` > 0


class Payment(IdMixin, CreatedMixin, Base):
    __tablename__ = "payments"

    appointment_id: Mapped[str] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True, nullable=False
    )
    patient_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    gateway: Mapped[str] = mapped_column(String(16), nullable=False)  # sandbox | stripe
    # The gateway's id of the checkout (Stripe Checkout Session "cs_…"; sandbox: our own id).
    checkout_ref: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The gateway's id of the money movement (Stripe PaymentIntent "pi_…"), used for refunds.
    charge_ref: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(1000))
    # What the patient pays for, Stripe's line item ("Consultation, Sat, 12 Dec 2026, 10:00 am (Asia/Kolkata)").
    description: Mapped[str | None] = mapped_column(String(200))
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    commission_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    status: Mapped[PaymentStatus] = mapped_column(
        enum_type(PaymentStatus), default=PaymentStatus.CREATED, nullable=False
    )
    destination_account: Mapped[str | None] = mapped_column(String(64))  # Stripe Connect split
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Refund(IdMixin, CreatedMixin, Base):
    __tablename__ = "refunds"

    payment_id: Mapped[str] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True, nullable=False
    )
    # Why, stable per cause ("appointment:<id>:cancel"), so one cause refunds once.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reason: Mapped[str] = mapped_column(String(64), nullable=False)
    gateway_ref: Mapped[str | None] = mapped_column(String(255))  # Stripe "re_…"
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)


class PaymentEvent(IdMixin, Base):
    """A gateway webhook event already handled: the same event id again is acknowledged and
    ignored."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("gateway", "event_id", name="uq_payment_events_gateway_event"),)

    gateway: Mapped[str] = mapped_column(String(16), nullable=False)
    event_id: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class LedgerEntry(IdMixin, CreatedMixin, Base):
    """One line of a double-entry transaction. The lines of a `txn_id` sum to zero per currency.
    Accounts: "gateway" (cash at the payment provider), "patient:<user>", "platform:commission",
    "doctor:<doctor>:payable", "doctor:<doctor>:paid_out"."""

    __tablename__ = "ledger_entries"

    txn_id: Mapped[str] = mapped_column(String(32), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # charge | refund | payout | ...
    account: Mapped[str] = mapped_column(String(80), index=True, nullable=False)
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)  # debit > 0, credit < 0
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    appointment_id: Mapped[str | None] = mapped_column(String(32), index=True)
    payment_id: Mapped[str | None] = mapped_column(String(32))


class Payout(IdMixin, CreatedMixin, Base):
    __tablename__ = "payouts"

    doctor_id: Mapped[str] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), index=True, nullable=False
    )
    amount_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="paid", nullable=False)
    # The admin client's Idempotency-Key: a retried request records the payout once.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
