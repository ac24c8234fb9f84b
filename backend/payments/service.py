"""Payments for appointments: start one, take the gateway's word on it, refund it, expire it.

Callers own the transaction (the engine, a request, the sweep). Gateway calls happen inside it:
a checkout created for a transaction that then rolls back is only an unused link, and a refund is
sent with the caller's idempotency key, so a retried transaction never refunds twice.

Webhooks arrive at least once and in any order. An event id is handled once (`payment_events`),
and each event moves a payment only forward, so every order ends in the same state:
- PAID records the money whatever the payment's state (after EXPIRED or FAILED too: the money is
  real, and the appointments service decides to refund it); a second PAID changes nothing;
- FAILED and EXPIRED only end a payment that was never paid;
- a refund event only confirms refunds we made: amounts and the ledger come from our own refund
  rows, so a refund event that arrives before its payment cannot corrupt anything."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.models import Appointment, Payment, PaymentEvent, PaymentStatus, Refund, new_id
from backend.payments import ledger
from backend.payments.gateway import EventType, GatewayEvent, Gateways, PaymentGateway

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from backend.settings import Settings

log = structlog.get_logger(__name__)

# A refund keeps the payment PAID until everything is given back.
REFUNDABLE = (PaymentStatus.PAID,)


class UnknownGateway(LookupError):
    """A webhook or payment for a gateway this process was not configured with."""


@dataclass(frozen=True)
class PaymentChange:
    type: EventType
    payment: Payment
    first_time: bool  # this event changed the payment's state (e.g. the first PAID): act only then
    refund: Refund | None = None  # the refund a REFUND_FAILED event is about
    confirmed: tuple[Refund, ...] = ()  # the pending refunds a REFUNDED event has just confirmed


def commission_for(fee_minor: int, commission_bps: int) -> int:
    """The platform's share, rounded half up to a whole minor unit."""
    return (fee_minor * commission_bps + 5_000) // 10_000


async def start_payment(
    session: AsyncSession,
    settings: Settings,
    gateways: Gateways,
    appointment: Appointment,
    *,
    description: str,
    destination: str | None,
    now: datetime,
) -> Payment:
    """A new payment link for the appointment's fee, through the default gateway. `destination`
    (a Stripe Connect account) splits the money: the doctor's share goes there, the commission
    stays with the platform. Gateways that cannot split ignore it."""
    gateway = gateways.default
    split_to = destination if getattr(gateway, "supports_split", False) else None
    payment = Payment(
        id=new_id(),
        appointment_id=appointment.id,
        patient_id=appointment.patient_id,
        gateway=gateway.name,
        amount_minor=appointment.fee_minor,
        currency=appointment.currency,
        commission_minor=commission_for(appointment.fee_minor, settings.commission_bps),
        refunded_minor=0,
        status=PaymentStatus.CREATED,
        destination_account=split_to,
        description=description[:200],
    )
    checkout = await gateway.create_checkout(
        payment=payment,
        description=description,
        destination=split_to,
        application_fee_minor=payment.commission_minor if split_to else 0,
    )
    payment.checkout_ref = checkout.ref
    payment.url = checkout.url
    session.add(payment)
    await session.flush()
    log.info("payment_started", payment=payment.id, gateway=gateway.name, amount=payment.amount_minor)
    return payment


async def handle_webhook(
    session: AsyncSession,
    gateways: Gateways,
    settings: Settings,
    gateway_name: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: datetime,
) -> PaymentChange | None:
    """Verify (InvalidSignature / InvalidEvent propagate: the route answers 400 and nothing is
    written), handle each event id once (a duplicate gives None), then record the event."""
    gateway = gateways.get(gateway_name)
    if gateway is None:
        raise UnknownGateway(gateway_name)
    event = gateway.parse_event(body, headers, now)
    if not await _first_sighting(session, gateway.name, event, now):
        log.info("payment_event_duplicate", gateway=gateway.name, event_id=event.event_id)
        return None
    return await record_event(session, gateway.name, event, settings=settings, now=now)


async def _first_sighting(
    session: AsyncSession, gateway_name: str, event: GatewayEvent, now: datetime
) -> bool:
    seen = await session.scalar(
        select(PaymentEvent.id).where(
            PaymentEvent.gateway == gateway_name, PaymentEvent.event_id == event.event_id
        )
    )
    if seen:
        return False
    try:
        async with session.begin_nested():  # a concurrent delivery of the same event loses here
            session.add(
                PaymentEvent(
                    gateway=gateway_name,
                    event_id=event.event_id,
                    type=event.raw_type[:64] or event.type.value,
                    received_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


async def record_event(
    session: AsyncSession, gateway_name: str, event: GatewayEvent, *, settings: Settings, now: datetime
) -> PaymentChange | None:
    """Apply a verified, first-seen event. None when it concerns no payment of ours or is of a
    kind we do not act on."""
    if event.type is EventType.OTHER:
        log.info("payment_event_ignored", gateway=gateway_name, raw_type=event.raw_type)
        return None
    payment = await _find_payment(session, gateway_name, event)
    if payment is None:
        log.warning(
            "payment_event_unmatched", gateway=gateway_name, event_id=event.event_id, type=event.type.value
        )
        return None
    if event.type is EventType.PAID:
        return await _paid(session, payment, event, now)
    if event.type in (EventType.FAILED, EventType.EXPIRED):
        changed = payment.status is PaymentStatus.CREATED
        if changed:
            payment.status = PaymentStatus(event.type.value)
        return PaymentChange(event.type, payment, changed)
    if event.type is EventType.REFUND_FAILED:
        failed = await _refund_failed(session, payment, event)
        return PaymentChange(event.type, payment, failed is not None, refund=failed)
    # REFUNDED: confirm our own refunds; the money was already accounted for when we made them.
    confirmed = await _confirm_refunds(session, payment, event)
    return PaymentChange(event.type, payment, bool(confirmed), confirmed=confirmed)


async def _refund_failed(session: AsyncSession, payment: Payment, event: GatewayEvent) -> Refund | None:
    """One of our refunds did not reach the patient: the money is back at the gateway and we owe
    it to them (to be returned by hand). The doctor's and the commission's part stay refunded —
    the appointment was still refunded — and the payment still counts the refund, so nothing
    refunds it a second time. The refund the first time (the caller tells the patient and the
    admins); None after."""
    if not event.refund_ref:
        return None
    refund = await session.scalar(
        select(Refund).where(Refund.payment_id == payment.id, Refund.gateway_ref == event.refund_ref)
    )
    if refund is None or refund.status == "failed":
        return None
    refund.status = "failed"
    await ledger.post(
        session,
        kind="refund_failed",
        lines=[
            (ledger.GATEWAY, refund.amount_minor),
            (ledger.refund_owed(payment.patient_id), -refund.amount_minor),
        ],
        currency=refund.currency,
        appointment_id=payment.appointment_id,
        payment_id=payment.id,
    )
    log.warning("payment_refund_failed", payment=payment.id, refund=refund.id, amount=refund.amount_minor)
    return refund


async def _find_payment(session: AsyncSession, gateway_name: str, event: GatewayEvent) -> Payment | None:
    """The event's payment, locked — after its appointment, which is locked first: everything
    that touches both (a cancel, the sweep, a new hold freeing a lapsed one) takes them in that
    order, so a webhook racing them waits instead of deadlocking."""
    query = select(Payment.id, Payment.appointment_id).where(Payment.gateway == gateway_name)
    found = None
    if event.checkout_ref:
        found = (await session.execute(query.where(Payment.checkout_ref == event.checkout_ref))).first()
    if found is None and event.charge_ref:
        found = (await session.execute(query.where(Payment.charge_ref == event.charge_ref).limit(1))).first()
    if found is None:
        return None
    payment_id, appointment_id = found
    await session.execute(select(Appointment.id).where(Appointment.id == appointment_id).with_for_update())
    return await session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _paid(session: AsyncSession, payment: Payment, event: GatewayEvent, now: datetime) -> PaymentChange:
    if event.charge_ref and not payment.charge_ref:
        payment.charge_ref = event.charge_ref
    if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        return PaymentChange(EventType.PAID, payment, False)
    if event.amount_minor is not None and event.amount_minor != payment.amount_minor:
        log.warning(
            "payment_amount_mismatch",
            payment=payment.id,
            expected=payment.amount_minor,
            got=event.amount_minor,
        )
    if payment.status is not PaymentStatus.CREATED:
        # Paid after we expired the link or saw it fail: the money is real, so it is recorded;
        # the appointments service refunds it.
        log.warning("payment_paid_late", payment=payment.id, was=payment.status.value)
    payment.status = PaymentStatus.PAID
    payment.paid_at = now
    appointment = await session.get(Appointment, payment.appointment_id)
    doctor_id = appointment.doctor_id if appointment else None
    await _post_charge(session, payment, doctor_id)
    log.info("payment_paid", payment=payment.id, gateway=payment.gateway)
    return PaymentChange(EventType.PAID, payment, True)


async def _post_charge(session: AsyncSession, payment: Payment, doctor_id: str | None) -> None:
    amount, commission = payment.amount_minor, payment.commission_minor
    share_account = ledger.payable(doctor_id) if doctor_id else ledger.UNASSIGNED
    who = ledger.patient(payment.patient_id)
    await ledger.post(
        session,
        kind="charge",
        lines=[
            (who, amount),  # the patient is charged the fee ...
            (ledger.COMMISSION, -commission),  # ... the platform's share
            (share_account, -(amount - commission)),  # ... the doctor's
            (ledger.GATEWAY, amount),  # and pays it through the gateway
            (who, -amount),
        ],
        currency=payment.currency,
        appointment_id=payment.appointment_id,
        payment_id=payment.id,
    )
    if payment.destination_account and doctor_id:
        # Stripe Connect sent the doctor's share straight to their account.
        await ledger.post(
            session,
            kind="transfer",
            lines=[
                (ledger.payable(doctor_id), amount - commission),
                (ledger.paid_out(doctor_id), -(amount - commission)),
            ],
            currency=payment.currency,
            appointment_id=payment.appointment_id,
            payment_id=payment.id,
        )


async def _confirm_refunds(
    session: AsyncSession, payment: Payment, event: GatewayEvent
) -> tuple[Refund, ...]:
    """Our pending refunds the event says went through (one, by its id; or all of the payment's,
    for an event about the whole charge). Only those pending until now: a repeat confirms none."""
    query = select(Refund).where(Refund.payment_id == payment.id, Refund.status == "pending")
    if event.refund_ref:
        query = query.where(Refund.gateway_ref == event.refund_ref)
    confirmed = tuple((await session.scalars(query.order_by(Refund.created_at))).all())
    for refund in confirmed:
        refund.status = "succeeded"
    return confirmed


async def assign_doctor(session: AsyncSession, payment: Payment, doctor_id: str) -> None:
    """An urgent consult was paid before any doctor took it: move the doctor's share (what is
    left of it after refunds) from the platform's holding account to the doctor who accepted."""
    held = -(await ledger.payment_balances(session, payment.id)).get(ledger.UNASSIGNED, 0)
    if held <= 0:
        return
    await ledger.post(
        session,
        kind="assign",
        lines=[(ledger.UNASSIGNED, held), (ledger.payable(doctor_id), -held)],
        currency=payment.currency,
        appointment_id=payment.appointment_id,
        payment_id=payment.id,
    )


async def refund(
    session: AsyncSession,
    settings: Settings,
    gateways: Gateways,
    payment: Payment,
    *,
    amount_minor: int,
    key: str,
    reason: str,
    now: datetime,
) -> Refund | None:
    """Give back up to `amount_minor` (capped at what is left), once per `key`: the same key again
    returns the same refund without asking the gateway. None when nothing is refundable. A gateway
    failure raises GatewayError and the caller's transaction rolls back; retrying with the same key
    is safe (the key is the gateway's idempotency key too)."""
    existing = await session.scalar(select(Refund).where(Refund.idempotency_key == key))
    if existing is not None:
        return existing
    # Locked and re-read: two refunds of one payment at once must not both see the same remainder.
    locked = await session.scalar(
        select(Payment)
        .where(Payment.id == payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    payment = locked or payment
    remaining = payment.amount_minor - payment.refunded_minor
    amount = min(amount_minor, remaining)
    if payment.status not in REFUNDABLE or amount <= 0:
        return None
    gateway = _gateway_of(gateways, payment)
    gateway_ref = await gateway.refund(payment=payment, amount_minor=amount, idempotency_key=key)
    record = Refund(
        id=new_id(),
        payment_id=payment.id,
        idempotency_key=key,
        amount_minor=amount,
        currency=payment.currency,
        reason=reason[:64],
        gateway_ref=gateway_ref,
        status="succeeded" if gateway.instant_refunds else "pending",
    )
    session.add(record)
    await _post_refund(session, payment, amount, remaining, txn_id=record.id)
    payment.refunded_minor += amount
    if payment.refunded_minor >= payment.amount_minor:
        payment.status = PaymentStatus.REFUNDED
    await session.flush()
    log.info("payment_refunded", payment=payment.id, amount=amount, reason=reason)
    return record


async def _post_refund(
    session: AsyncSession, payment: Payment, amount: int, remaining: int, *, txn_id: str
) -> None:
    """Reverse the charge in proportion: the commission and the doctor's share give back
    amount / remaining of what each still holds (rounded half up on the commission; a full
    refund gives back exactly everything)."""
    balances = await ledger.payment_balances(session, payment.id)
    commission_left = -balances.get(ledger.COMMISSION, 0)
    commission_back = (2 * commission_left * amount + remaining) // (2 * remaining)
    share_back = amount - commission_back
    who = ledger.patient(payment.patient_id)
    lines = [
        (who, -amount),  # the charge is taken back ...
        (ledger.COMMISSION, commission_back),
        *await _share_reversal(session, payment, balances, share_back),
        (ledger.GATEWAY, -amount),  # ... and the money leaves the gateway for the patient
        (who, amount),
    ]
    await ledger.post(
        session,
        kind="refund",
        lines=lines,
        currency=payment.currency,
        appointment_id=payment.appointment_id,
        payment_id=payment.id,
        txn_id=txn_id,
    )


async def _share_reversal(
    session: AsyncSession, payment: Payment, balances: dict[str, int], share_back: int
) -> list[tuple[str, int]]:
    """Which accounts give back the doctor's part of a refund."""
    if balances.get(ledger.UNASSIGNED, 0) < 0:  # no doctor took the urgent consult yet
        return [(ledger.UNASSIGNED, share_back)]
    doctor_id = _doctor_of(balances)
    if doctor_id is None:
        return [(ledger.UNASSIGNED, share_back)]
    if payment.destination_account:
        # Stripe reverses the Connect transfer (reverse_transfer): the money comes back from the doctor.
        return [(ledger.paid_out(doctor_id), share_back)]
    # From what the doctor is still owed; beyond that (already paid out) the doctor owes it back.
    pending = -await ledger.balance(session, ledger.payable(doctor_id), payment.currency)
    from_payable = max(0, min(share_back, pending))
    return [
        (ledger.payable(doctor_id), from_payable),
        (ledger.receivable(doctor_id), share_back - from_payable),
    ]


def _doctor_of(balances: dict[str, int]) -> str | None:
    for account in balances:
        if account.startswith("doctor:") and account.endswith(":payable"):
            return account.split(":")[1]
    return None


def _gateway_of(gateways: Gateways, payment: Payment) -> PaymentGateway:
    gateway = gateways.get(payment.gateway)
    if gateway is None:
        raise UnknownGateway(
            f"payment {payment.id} was made through {payment.gateway}, which is not configured"
        )
    return gateway


async def cancel_checkout(session: AsyncSession, gateways: Gateways, payment: Payment) -> None:
    """A lapsed hold: make the link unpayable. Errors are logged, not raised (the hold is released
    either way; if the patient still pays, the PAID event records it and it is refunded)."""
    if payment.status is not PaymentStatus.CREATED:
        return
    try:
        await _gateway_of(gateways, payment).cancel_checkout(payment)
    except Exception:  # any failure of the gateway or the network: the link lapses on its own
        log.warning("payment_cancel_failed", payment=payment.id, gateway=payment.gateway, exc_info=True)
        return
    payment.status = PaymentStatus.EXPIRED
    await session.flush()


async def paid_payment(session: AsyncSession, appointment_id: str) -> Payment | None:
    """The appointment's payment that holds money (PAID, perhaps partly refunded); the first if
    several were paid."""
    return await session.scalar(
        select(Payment)
        .where(Payment.appointment_id == appointment_id, Payment.status == PaymentStatus.PAID)
        .order_by(Payment.paid_at, Payment.created_at)
        .limit(1)
    )
