"""Appointments: hold a slot, take the payment, ask the doctor, confirm, remind, cancel, move.

The life of a scheduled appointment:

    held ──paid──▶ requested ──accept──▶ confirmed ──▶ completed | no_show
      │               │  └──reject / no answer──▶ rejected (refunded)
      └─lapsed─▶ expired   └──cancel──▶ cancelled (refunded per policy)

Every change is a conditional UPDATE on the current status, so two hands at once (the doctor's
Accept and the sweeper's deadline, two admins, a replayed button) give one result. A slot is held
by `slot_lock`, which is unique: a double booking fails in the database, whatever races.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.access import SYSTEM, AccessDenied, Action, Actor, Resource, can
from backend.appointments import checkout, notices
from backend.crypto import FieldCipher
from backend.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Doctor,
    Payment,
    Refund,
    Role,
    Slot,
    User,
    VerificationStatus,
    new_id,
)
from backend.outbox.service import ActionButton
from backend.payments import service as payments
from backend.payments.gateway import EventType, GatewayError, Gateways
from backend.payments.service import PaymentChange
from backend.scheduling import service as scheduling
from backend.settings import Settings

log = structlog.get_logger(__name__)

MAX_OPEN_HOLDS = 3  # a patient may hold this many unpaid slots at once (slot hoarding)
MAX_REASON_CHARS = 500
BOOKING_LEAD = scheduling.BOOKING_LEAD  # a slot starting sooner cannot be held: no time to accept
NO_SHOW_GRACE = timedelta(minutes=10)  # a doctor this late may still come
NO_SHOW_REPORT_WINDOW = timedelta(hours=2)  # after the end, "the doctor did not come" is closed
ENDED = (
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.CANCELLED,
    AppointmentStatus.REJECTED,
    AppointmentStatus.EXPIRED,
)


class BookingError(Exception):
    """Something the user asked for that cannot be done; `code` names it for the chat's words."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Refunded:
    amount_minor: int
    currency: str


# --- reading --------------------------------------------------------------------------------


def reason_of(cipher: FieldCipher, appointment: Appointment) -> str:
    """The reason for the visit, decrypted. Callers showing it to someone use `read_reason`."""
    if not appointment.reason_enc:
        return ""
    return cipher.decrypt("appointments", "reason", appointment.id, appointment.reason_enc)


async def read_reason(
    session: AsyncSession, cipher: FieldCipher, appointment: Appointment, *, actor: Actor, purpose: str
) -> str:
    """The reason for the visit, for its patient or its doctor (the caller checked which), with
    the read audited: it is health data."""
    await audit.record(
        session,
        actor=actor,
        action="read",
        resource_type="appointment_reason",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
        purpose=purpose,
    )
    return reason_of(cipher, appointment)


async def doctor_of(session: AsyncSession, appointment: Appointment) -> Doctor | None:
    return await session.get(Doctor, appointment.doctor_id) if appointment.doctor_id else None


async def for_actor(
    session: AsyncSession, actor: Actor, appointment_id: str, *, action: Action = Action.READ
) -> Appointment:
    """The appointment, if `actor` is its patient or its doctor; otherwise AccessDenied (audited).
    An unknown id is refused the same way, so ids cannot be probed. To change it (UPDATE) the row
    is locked and read fresh, so the checks that follow see its state as it is now."""
    change = action is Action.UPDATE
    appointment = await session.get(
        Appointment, appointment_id, with_for_update=change, populate_existing=change
    )
    doctor = await doctor_of(session, appointment) if appointment else None
    resource = Resource(
        "appointment",
        patient_id=appointment.patient_id if appointment else None,
        doctor_user_id=doctor.user_id if doctor else None,
    )
    if appointment is None or not can(actor, action, resource):
        await audit.record(
            session,
            actor=actor,
            action=action.value,
            resource_type="appointment",
            resource_id=appointment_id[:64],
            outcome="denied",
        )
        raise AccessDenied(actor, action, resource)
    return appointment


async def of_patient(
    session: AsyncSession, patient_id: str, *, now: datetime, limit: int = 10
) -> list[Appointment]:
    """Live appointments first (soonest first), then the most recent ended ones."""
    rows = list(
        await session.scalars(
            select(Appointment)
            .where(Appointment.patient_id == patient_id, Appointment.status != AppointmentStatus.EXPIRED)
            .order_by(Appointment.starts_at.desc().nulls_last(), Appointment.created_at.desc())
            .limit(50)
        )
    )
    return _live_first(rows, now)[:limit]


async def of_doctor(
    session: AsyncSession, doctor_id: str, *, now: datetime, limit: int = 10
) -> list[Appointment]:
    rows = list(
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.doctor_id == doctor_id,
                Appointment.status.in_(
                    (
                        AppointmentStatus.REQUESTED,
                        AppointmentStatus.CONFIRMED,
                        AppointmentStatus.COMPLETED,
                        AppointmentStatus.NO_SHOW,
                        AppointmentStatus.CANCELLED,
                    )
                ),
            )
            .order_by(Appointment.starts_at.desc().nulls_last())
            .limit(50)
        )
    )
    return _live_first(rows, now)[:limit]


def _live_first(rows: list[Appointment], now: datetime) -> list[Appointment]:
    live = sorted(
        (a for a in rows if a.status not in ENDED),
        key=lambda a: a.starts_at or a.created_at,
    )
    ended = [a for a in rows if a.status in ENDED]
    return live + ended


# --- holding a slot ---------------------------------------------------------------------------


async def bookable_doctor(session: AsyncSession, doctor_id: str) -> Doctor:
    doctor = await session.get(Doctor, doctor_id)
    if doctor is None or doctor.status is not VerificationStatus.VERIFIED:
        raise BookingError("doctor_not_bookable")
    return doctor


async def hold(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    *,
    patient_id: str,
    slot_id: str,
    reason: str,
    now: datetime,
    gateways: Gateways | None = None,
    reason_red_flag: bool = False,
) -> Appointment:
    """Hold `slot_id` for the patient for `settings.hold_minutes`, unpaid. `reason_red_flag`: the
    reason has emergency red-flag words the patient confirmed after the guidance. Raises BookingError:
    slot_gone (unknown or withdrawn), slot_past, slot_taken, doctor_not_bookable, too_many_holds,
    reason_too_long."""
    slot = await _locked_slot(session, slot_id)
    if slot is None or slot.status != "free":
        raise BookingError("slot_gone")
    if slot.starts_at <= now + BOOKING_LEAD:
        raise BookingError("slot_past")
    doctor = await bookable_doctor(session, slot.doctor_id)
    reason = " ".join(reason.split())
    if len(reason) > MAX_REASON_CHARS:
        raise BookingError("reason_too_long")
    open_holds = await session.scalar(
        select(Appointment.id)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.status == AppointmentStatus.HELD,
            Appointment.hold_expires_at > now,
        )
        .offset(MAX_OPEN_HOLDS - 1)
        .limit(1)
    )
    if open_holds is not None:
        raise BookingError("too_many_holds")
    await _release_lapsed_hold(session, cipher, gateways, slot.id, now)
    appointment = Appointment(
        id=new_id(),
        patient_id=patient_id,
        doctor_id=doctor.id,
        slot_id=slot.id,
        slot_lock=slot.id,
        kind=AppointmentKind.SCHEDULED,
        status=AppointmentStatus.HELD,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        fee_minor=doctor.fee_minor,
        currency=doctor.currency,
        hold_expires_at=now + timedelta(minutes=settings.hold_minutes),
        reason_red_flag=reason_red_flag and bool(reason),
    )
    seal_reason(cipher, appointment, reason)
    try:
        async with session.begin_nested():  # the unique slot_lock decides between racing patients
            session.add(appointment)
    except IntegrityError:
        raise BookingError("slot_taken") from None
    await record_held(session, appointment, outcome="held")
    return appointment


def seal_reason(cipher: FieldCipher, appointment: Appointment, reason: str) -> None:
    """Keep the reason for the visit encrypted (health data), bound to its appointment."""
    appointment.reason_enc = (
        cipher.encrypt("appointments", "reason", appointment.id, reason) if reason else None
    )


async def record_held(session: AsyncSession, appointment: Appointment, *, outcome: str) -> None:
    """The audit entry of a new hold, made by its patient."""
    await audit.record(
        session,
        actor=Actor(appointment.patient_id, Role.PATIENT),
        action="create",
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
        outcome=outcome,
    )


async def _locked_slot(session: AsyncSession, slot_id: str) -> Slot | None:
    """The slot, locked (PostgreSQL) so that the doctor changing their hours cannot close it
    between our check and the hold; its fresh state, not the session's cached one."""
    return await session.scalar(
        select(Slot).where(Slot.id == slot_id).with_for_update().execution_options(populate_existing=True)
    )


async def _release_lapsed_hold(
    session: AsyncSession, cipher: FieldCipher, gateways: Gateways | None, slot_id: str, now: datetime
) -> None:
    """A hold past its time still owns the slot until the sweeper frees it; a new patient asking
    for the slot frees it first (and its patient is told, as the sweeper would)."""
    lapsed = await session.scalar(
        select(Appointment).where(
            Appointment.slot_lock == slot_id,
            Appointment.status == AppointmentStatus.HELD,
            Appointment.hold_expires_at <= now,
        )
    )
    if lapsed is not None:  # its link is withdrawn too, so its patient cannot pay for a lost slot
        await expire_hold(session, cipher, gateways, lapsed, now=now)


async def last_payment_failed(session: AsyncSession, appointment: Appointment) -> bool:
    """The appointment's latest payment attempt failed (a new link is made on the next ask)."""
    latest = await session.scalar(
        select(Payment).where(Payment.appointment_id == appointment.id).order_by(Payment.created_at.desc())
    )
    return latest is not None and latest.status == "failed"


async def pay_link(
    session: AsyncSession, settings: Settings, gateways: Gateways, appointment: Appointment, *, now: datetime
) -> Payment:
    """The payment for a held appointment: the open one if there is one, else a new checkout."""
    if appointment.status is not AppointmentStatus.HELD or (appointment.hold_expires_at or now) <= now:
        raise BookingError("hold_lapsed")
    existing = await session.scalar(
        select(Payment)
        .where(Payment.appointment_id == appointment.id, Payment.status == "created")
        .order_by(Payment.created_at.desc())
    )
    if existing is not None and existing.url:
        return existing
    doctor = await doctor_of(session, appointment)
    patient = await session.get(User, appointment.patient_id)
    # The date and time as the patient reads them (no doctor): Stripe shows it as the line item.
    description = checkout.line_item(checkout.describe(appointment, doctor, patient, locale="en"))
    return await payments.start_payment(
        session,
        settings,
        gateways,
        appointment,
        description=description,
        destination=doctor.stripe_account_id if doctor else None,
        now=now,
    )


# --- money arriving -------------------------------------------------------------------------


async def settle(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    gateways: Gateways,
    change: PaymentChange,
    *,
    now: datetime,
) -> None:
    """Act on a payment event, in the webhook's transaction. Paid for a held appointment → the
    request goes to the doctor (or is accepted at once). Paid for anything else (a hold that
    lapsed and lost its slot, a cancelled appointment, a second payment) → refunded in full."""
    if not change.first_time:
        return
    appointment = await _locked(session, change.payment.appointment_id)
    if appointment is None:
        return
    if change.type is EventType.PAID:
        await _paid(session, cipher, settings, gateways, appointment, change.payment, now=now)
    elif change.type is EventType.FAILED and appointment.status is AppointmentStatus.HELD:
        doctor = await session.get(Doctor, appointment.doctor_id) if appointment.doctor_id else None
        await notices.tell(
            session,
            cipher,
            appointment,
            f"payment_failed:{change.payment.id}",
            user_id=appointment.patient_id,
            # An urgent consult has no time yet: its own words.
            template="appointment_payment_failed" if appointment.starts_at else "urgent_payment_failed",
            params={
                "doctor": notices.doctor_label(doctor) if doctor else "",
                "starts_at": _iso(appointment.starts_at),
                "until_at": _iso(appointment.hold_expires_at),
            },
            now=now,
            # The pay step again, with a new link (conversations/flows/booking.py handles it).
            actions=(ActionButton("pay_again", "btn_pay_again"),),
            action="pay_again",
            action_ref=appointment.id,
        )
    elif change.type is EventType.REFUND_FAILED and change.refund is not None:
        await _refund_failed(session, cipher, appointment, change.payment, change.refund, now=now)
    elif change.type is EventType.REFUNDED:  # the gateway confirms refunds it had pending
        for refund in change.confirmed:
            await notices.refund_completed(session, cipher, appointment, refund, now=now)
    elif change.type is EventType.EXPIRED and appointment.status is AppointmentStatus.HELD:
        # The link itself lapsed: the hold goes with it unless another link is still open.
        others = await session.scalar(
            select(Payment.id).where(
                Payment.appointment_id == appointment.id,
                Payment.status == "created",
                Payment.id != change.payment.id,
            )
        )
        if others is None:
            await expire_hold(session, cipher, gateways, appointment, now=now)


async def _refund_failed(
    session: AsyncSession,
    cipher: FieldCipher,
    appointment: Appointment,
    payment: Payment,
    refund: Refund,
    *,
    now: datetime,
) -> None:
    """The gateway could not return money we refunded: the patient is told it is being looked
    into, and every admin gets an alert to return it by hand (the ledger shows it as owed)."""
    amount = notices.money(refund.amount_minor, refund.currency)
    await notices.tell(
        session,
        cipher,
        appointment,
        f"refund_failed:{refund.id}",
        user_id=appointment.patient_id,
        template="appointment_refund_failed",
        params={"amount_money": amount},
        now=now,
    )
    admins = await session.scalars(select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)))
    for admin_id in admins:
        await notices.tell(
            session,
            cipher,
            appointment,
            f"refund_failed:{refund.id}:admin:{admin_id}",
            user_id=admin_id,
            template="refund_failed_admin",
            params={"amount_money": amount, "payment": payment.id, "gateway": payment.gateway},
            now=now,
            urgent=False,
        )


async def _locked(session: AsyncSession, appointment_id: str) -> Appointment | None:
    return await session.scalar(
        select(Appointment)
        .where(Appointment.id == appointment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def _still_bookable(session: AsyncSession, appointment: Appointment, now: datetime) -> bool:
    if appointment.kind is AppointmentKind.URGENT:
        return True
    if appointment.slot_lock is None:
        return False
    if appointment.hold_expires_at is not None and appointment.hold_expires_at > now:
        return True  # within its time the hold is the slot's: nothing can have changed it
    slot = await session.get(Slot, appointment.slot_lock)
    doctor = await doctor_of(session, appointment)
    return (
        slot is not None
        and slot.status == "free"
        and slot.starts_at > now + BOOKING_LEAD
        and doctor is not None
        and doctor.status is VerificationStatus.VERIFIED
    )


async def _paid(
    session, cipher, settings, gateways, appointment: Appointment, payment: Payment, *, now
) -> None:
    """Settle a captured payment: the hold becomes the doctor's request (or an urgent consult's
    offer to the doctors on duty); a payment that can no longer buy its slot is refunded."""
    # A hold counts while its slot is still ours (slot_lock), even a moment past its time — as
    # long as that slot is still open and ahead, and the doctor still bookable.
    if appointment.status is not AppointmentStatus.HELD or not await _still_bookable(
        session, appointment, now
    ):
        await _refund_unusable(session, cipher, settings, gateways, appointment, payment, now=now)
        return
    appointment.status = AppointmentStatus.REQUESTED
    appointment.paid_at = now
    appointment.hold_expires_at = None
    if appointment.kind is AppointmentKind.URGENT:
        from backend.appointments import urgent  # urgent builds on this module

        appointment.decision_deadline = now + timedelta(minutes=settings.urgent_wait_minutes)
        await urgent.offer(session, cipher, appointment, now=now)
        return
    appointment.decision_deadline = min(
        now + timedelta(minutes=settings.decision_minutes), appointment.starts_at
    )
    doctor = await doctor_of(session, appointment)
    await notices.tell(
        session,
        cipher,
        appointment,
        "paid",
        user_id=appointment.patient_id,
        template="appointment_paid_auto" if doctor.auto_accept else "appointment_paid",
        params={
            "doctor": notices.doctor_label(doctor),
            "starts_at": _iso(appointment.starts_at),
            "amount_money": notices.money(payment.amount_minor, payment.currency),
            "deadline_at": _iso(appointment.decision_deadline),
        },
        now=now,
    )
    if doctor.auto_accept:
        await _confirm(session, cipher, appointment, doctor, now=now, decided_by="auto")
        return
    await _ask_the_doctor(session, cipher, appointment, doctor, now=now)


async def _refund_unusable(
    session, cipher, settings, gateways, appointment: Appointment, payment: Payment, *, now
) -> None:
    """Refund, in full, a payment that cannot buy its appointment (already paid, or no longer a hold
    whose slot and doctor are still bookable; such a lapsed hold is let go), and tell the patient."""
    already_paid = appointment.paid_at is not None
    reason = "duplicate_payment" if already_paid else "paid_too_late"
    if appointment.status is AppointmentStatus.HELD:  # lapsed, and its slot is gone: let it go
        await expire_hold(session, cipher, gateways, appointment, now=now)
    refund = await payments.refund(
        session,
        settings,
        gateways,
        payment,
        amount_minor=payment.amount_minor,
        key=f"payment:{payment.id}:{reason}",
        reason=reason,
        now=now,
    )
    if refund is not None:
        await notices.tell(
            session,
            cipher,
            appointment,
            f"refund:{payment.id}",
            user_id=appointment.patient_id,
            template=f"appointment_refund_{reason}",
            params={"amount_money": notices.money(refund.amount_minor, refund.currency)},
            now=now,
        )
        await notices.refund_completed(session, cipher, appointment, refund, now=now)


async def _ask_the_doctor(session, cipher, appointment: Appointment, doctor, *, now) -> None:
    """The doctor's request to accept or reject, with the reason (marked when it had red-flag
    words), the patient's recent red flags and their summary."""
    await notices.tell(
        session,
        cipher,
        appointment,
        "request",
        user_id=doctor.user_id,
        template="appointment_request",
        params={
            "patient": await notices.patient_name(session, cipher, appointment, "appointment_request"),
            "starts_at": _iso(appointment.starts_at),
            "reason": await read_reason(
                session, cipher, appointment, actor=SYSTEM, purpose="disclose_to_doctor"
            )
            or "—",
            "reason_mark_word": notices.red_flag_word(appointment),
            "raised_flags": await notices.red_flags(
                session, cipher, appointment, doctor, now=now, purpose="appointment_request"
            ),
            "deadline_at": _iso(appointment.decision_deadline),
            **await notices.patient_summary(
                session, cipher, appointment, doctor, now=now, purpose="appointment_request"
            ),
        },
        now=now,
        actions=(ActionButton("accept", "btn_accept"), ActionButton("reject", "btn_reject")),
        action="appointment_request",
        action_ref=appointment.id,
    )


# --- the doctor's decision --------------------------------------------------------------------


async def accept(
    session: AsyncSession, cipher: FieldCipher, doctor: Doctor, appointment_id: str, *, now: datetime
) -> Appointment:
    """Raises BookingError("already_decided") when it was accepted, rejected, cancelled or timed
    out meanwhile."""
    appointment = await _decide(session, doctor, appointment_id, now)
    await _confirm(session, cipher, appointment, doctor, now=now, decided_by="doctor")
    return appointment


async def _decide(session: AsyncSession, doctor: Doctor, appointment_id: str, now: datetime) -> Appointment:
    appointment = await for_actor(
        session, Actor(doctor.user_id, Role.DOCTOR), appointment_id, action=Action.UPDATE
    )
    if appointment.status is not AppointmentStatus.REQUESTED:
        raise BookingError("already_decided")
    if appointment.decision_deadline is not None and appointment.decision_deadline <= now:
        raise BookingError("too_late_to_decide")  # the patient was told by when; the sweep refunds
    return appointment


async def _confirm(
    session, cipher, appointment: Appointment, doctor: Doctor, *, now, decided_by: str
) -> None:
    claimed = await session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == AppointmentStatus.REQUESTED)
        .values(status=AppointmentStatus.CONFIRMED, decided_at=now, updated_at=now)
    )
    if claimed.rowcount != 1:
        raise BookingError("already_decided")
    await session.refresh(appointment)
    patient = await notices.patient_name(session, cipher, appointment, "appointment_confirmed")
    await audit.record(
        session,
        actor=Actor(doctor.user_id, Role.DOCTOR),
        action="accept",
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
        outcome=decided_by,
    )
    await notices.tell(
        session,
        cipher,
        appointment,
        "confirmed:patient",
        user_id=appointment.patient_id,
        template=_confirmation_for(appointment, now),
        params={"doctor": notices.doctor_label(doctor), "starts_at": _iso(appointment.starts_at)},
        now=now,
    )
    await notices.tell(
        session,
        cipher,
        appointment,
        "confirmed:doctor",
        user_id=doctor.user_id,
        template="appointment_confirmed_doctor",
        params={"patient": patient, "starts_at": _iso(appointment.starts_at)},
        now=now,
    )
    if appointment.kind is AppointmentKind.SCHEDULED:
        await notices.schedule_reminders(session, cipher, appointment, doctor, patient, now=now)


def _confirmation_for(appointment: Appointment, now: datetime) -> str:
    """The confirmation promises only the reminders that will come."""
    ahead = appointment.starts_at - now
    if ahead > timedelta(hours=24):
        return "appointment_confirmed_patient"
    return (
        "appointment_confirmed_patient_soon"
        if ahead > timedelta(hours=1)
        else "appointment_confirmed_patient_now"
    )


async def reject(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    gateways: Gateways,
    doctor: Doctor,
    appointment_id: str,
    *,
    now: datetime,
) -> Appointment:
    appointment = await _decide(session, doctor, appointment_id, now)
    await _end(
        session,
        cipher,
        settings,
        gateways,
        appointment,
        status=AppointmentStatus.REJECTED,
        by="doctor",
        reason="rejected",
        refund_minor=None,
        template="appointment_rejected",
        now=now,
        from_statuses=(AppointmentStatus.REQUESTED,),
    )
    return appointment


# --- cancelling and moving --------------------------------------------------------------------


def patient_refund(settings: Settings, appointment: Appointment, now: datetime) -> int | None:
    """What a patient cancelling now gets back: None = all of it; else that many minor units."""
    if appointment.status is not AppointmentStatus.CONFIRMED:
        return None  # not accepted yet: nothing was given in return
    if appointment.starts_at - now >= timedelta(hours=settings.free_cancel_hours):
        return None
    return appointment.fee_minor * settings.late_cancel_refund_percent // 100


async def cancel_by_patient(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    gateways: Gateways,
    patient: Actor,
    appointment_id: str,
    *,
    now: datetime,
    expected_refund_minor: int | None = None,
    only_holds: bool = False,
) -> Refunded | None:
    """Cancel for the patient, refunding by policy. `expected_refund_minor`: what the patient was
    told they would get back; if the state changed since (the doctor accepted, the notice
    passed) and it would be less, BookingError("refund_changed") and nothing happens.
    `only_holds`: release an unpaid hold, never a paid booking."""
    appointment = await for_actor(session, patient, appointment_id, action=Action.UPDATE)
    if appointment.patient_id != patient.user_id:
        raise AccessDenied(patient, Action.UPDATE, Resource("appointment", appointment.patient_id))
    allowed = (
        (AppointmentStatus.HELD,)
        if only_holds
        else (AppointmentStatus.HELD, AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED)
    )
    if appointment.status not in allowed:
        raise BookingError("not_cancellable")
    if expected_refund_minor is not None and appointment.status is not AppointmentStatus.HELD:
        policy = patient_refund(settings, appointment, now)
        if (appointment.fee_minor if policy is None else policy) < expected_refund_minor:
            raise BookingError("refund_changed")
    if (
        appointment.starts_at is not None
        and appointment.starts_at <= now
        and appointment.status is AppointmentStatus.CONFIRMED
    ):
        raise BookingError("already_started")
    return await _end(
        session,
        cipher,
        settings,
        gateways,
        appointment,
        status=AppointmentStatus.CANCELLED,
        by="patient",
        reason="cancelled_by_patient",
        refund_minor=lambda current: patient_refund(settings, current, now),
        template="appointment_cancelled_by_patient",
        now=now,
        from_statuses=allowed,
    )


async def release_hold(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    gateways: Gateways,
    patient: Actor,
    appointment_id: str,
    *,
    now: datetime,
) -> None:
    """Let go of an unpaid hold (nothing charged); BookingError("not_cancellable") once paid."""
    await cancel_by_patient(
        session, cipher, settings, gateways, patient, appointment_id, now=now, only_holds=True
    )


async def cancel_by_doctor(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    gateways: Gateways,
    doctor: Doctor,
    appointment_id: str,
    *,
    now: datetime,
) -> Refunded | None:
    appointment = await for_actor(
        session, Actor(doctor.user_id, Role.DOCTOR), appointment_id, action=Action.UPDATE
    )
    if appointment.doctor_id != doctor.id or appointment.status not in (
        AppointmentStatus.REQUESTED,
        AppointmentStatus.CONFIRMED,
    ):
        raise BookingError("not_cancellable")
    if appointment.slot_id:  # the doctor cannot do that time: it is not offered again
        await session.execute(
            update(Slot).where(Slot.id == appointment.slot_id).values(status=scheduling.WITHDRAWN)
        )
    return await _end(
        session,
        cipher,
        settings,
        gateways,
        appointment,
        status=AppointmentStatus.CANCELLED,
        by="doctor",
        reason="cancelled_by_doctor",
        refund_minor=None,
        template="appointment_cancelled_by_doctor",
        now=now,
        from_statuses=(AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED),
    )


async def _end(
    session,
    cipher,
    settings,
    gateways,
    appointment: Appointment,
    *,
    status: AppointmentStatus,
    by: str,
    reason: str,
    refund_minor: int | Callable[[Appointment], int | None] | None,
    template: str,
    now: datetime,
    from_statuses: tuple[AppointmentStatus, ...],
) -> Refunded | None:
    """End a live appointment: free its slot, withdraw its reminders, refund, and tell the other
    party. The row is locked and read again first, so what is refunded follows the state it is in
    now, not the one the caller saw (a payment may have landed meanwhile). `refund_minor`: None =
    all that is left; a callable is given the locked appointment (the patient's policy)."""
    locked = await _locked(session, appointment.id)
    if locked is None or locked.status not in from_statuses:
        raise BookingError("already_decided")
    was = locked.status
    amount = refund_minor(locked) if callable(refund_minor) else refund_minor
    await session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id)
        .values(status=status, slot_lock=None, ended_at=now, ended_by=by, end_reason=reason, updated_at=now)
    )
    await session.refresh(appointment)
    await notices.withdraw_all(session, appointment)
    for open_payment in await session.scalars(
        select(Payment).where(Payment.appointment_id == appointment.id, Payment.status == "created")
    ):
        await payments.cancel_checkout(session, gateways, open_payment)
    # Whatever was paid is refunded (by policy); an unpaid hold has nothing to give back.
    refunded = await _refund(session, cipher, settings, gateways, appointment, amount, reason, now)
    doctor = await doctor_of(session, appointment)
    await audit.record(
        session,
        actor=_actor_for(by, appointment, doctor),
        action=status.value,
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
        outcome=reason,
    )
    if was is AppointmentStatus.HELD:
        return refunded
    if doctor is None:  # an urgent consult nobody has taken yet: withdraw the offers
        from backend.appointments import urgent

        await urgent.withdraw_offers(session, appointment, now)
        return refunded
    if by == "system":
        await notices.tell(
            session,
            cipher,
            appointment,
            "lapsed:doctor",
            user_id=doctor.user_id,
            template="appointment_request_lapsed",
            params={"starts_at": _iso(appointment.starts_at)},
            now=now,
        )
    if by == "patient":
        await notices.tell(
            session,
            cipher,
            appointment,
            "ended:doctor",
            user_id=doctor.user_id,
            template=template,
            params={
                "patient": await notices.patient_name(session, cipher, appointment, "appointment_cancelled"),
                "starts_at": _iso(appointment.starts_at),
            },
            now=now,
        )
    else:
        alternatives = await scheduling.nearest_free_slots(
            session,
            doctor.id,
            around=appointment.starts_at,
            now=now,
            count=3,
            exclude=frozenset({appointment.slot_id} if appointment.slot_id else ()),
        )
        await notices.tell(
            session,
            cipher,
            appointment,
            "ended:patient",
            user_id=appointment.patient_id,
            template=template,
            params={
                "doctor": notices.doctor_label(doctor),
                "starts_at": _iso(appointment.starts_at),
                "amount_money": notices.money(refunded.amount_minor if refunded else 0, appointment.currency),
                "alternatives_ats": [_iso(slot.starts_at) for slot in alternatives],
            },
            now=now,
            actions=(ActionButton("rebook", "btn_book_again"),) if alternatives else (),
            action="rebook",
            action_ref=doctor.id,
        )
    return refunded


def _actor_for(by: str, appointment: Appointment, doctor: Doctor | None) -> Actor:
    if by == "patient":
        return Actor(appointment.patient_id, Role.PATIENT)
    if by == "doctor" and doctor is not None:
        return Actor(doctor.user_id, Role.DOCTOR)
    return SYSTEM


async def _refund(
    session, cipher, settings, gateways, appointment, amount_minor, reason, now
) -> Refunded | None:
    payment = await payments.paid_payment(session, appointment.id)
    if payment is None:
        return None
    amount = payment.amount_minor - payment.refunded_minor if amount_minor is None else amount_minor
    if amount <= 0:
        return Refunded(0, payment.currency)
    refund = await payments.refund(
        session,
        settings,
        gateways,
        payment,
        amount_minor=amount,
        key=f"appointment:{appointment.id}:{reason}",
        reason=reason,
        now=now,
    )
    if refund is None:
        return None
    await notices.refund_completed(session, cipher, appointment, refund, now=now)  # if it already has
    return Refunded(refund.amount_minor, refund.currency)


async def reschedule(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    patient: Actor,
    appointment_id: str,
    new_slot_id: str,
    *,
    now: datetime,
    gateways: Gateways | None = None,
) -> Appointment:
    """Move a paid appointment to another free slot of the same doctor, keeping its payment;
    allowed until the free-cancellation notice. The doctor is told; reminders are replaced."""
    appointment = await for_actor(session, patient, appointment_id, action=Action.UPDATE)
    if appointment.patient_id != patient.user_id or appointment.kind is not AppointmentKind.SCHEDULED:
        raise BookingError("not_movable")
    if appointment.status not in (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED):
        raise BookingError("not_movable")
    if appointment.starts_at - now < timedelta(hours=settings.free_cancel_hours):
        raise BookingError("too_late_to_move")
    slot = await _locked_slot(session, new_slot_id)
    if slot is None or slot.status != "free" or slot.doctor_id != appointment.doctor_id:
        raise BookingError("slot_gone")
    if slot.starts_at <= now + BOOKING_LEAD:
        raise BookingError("slot_past")
    await _release_lapsed_hold(session, cipher, gateways, slot.id, now)
    old_start = appointment.starts_at
    try:
        async with session.begin_nested():
            moved = await session.execute(
                update(Appointment)
                .where(Appointment.id == appointment.id, Appointment.status == appointment.status)
                .values(
                    slot_id=slot.id,
                    slot_lock=slot.id,
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise BookingError("slot_taken") from None
    if moved.rowcount != 1:
        raise BookingError("already_decided")
    await session.refresh(appointment)
    if appointment.status is AppointmentStatus.REQUESTED:
        appointment.decision_deadline = min(appointment.decision_deadline or slot.starts_at, slot.starts_at)
    doctor = await doctor_of(session, appointment)
    patient_label = await notices.patient_name(session, cipher, appointment, "appointment_moved")
    await notices.tell(
        session,
        cipher,
        appointment,
        f"moved:{new_id()}",  # each move is news, even back to an earlier time
        user_id=doctor.user_id,
        template="appointment_moved",
        params={"patient": patient_label, "old_at": _iso(old_start), "starts_at": _iso(slot.starts_at)},
        now=now,
    )
    if appointment.status is AppointmentStatus.CONFIRMED:
        await notices.schedule_reminders(session, cipher, appointment, doctor, patient_label, now=now)
    await audit.record(
        session,
        actor=patient,
        action="reschedule",
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
    )
    return appointment


# --- after the start ----------------------------------------------------------------------------


async def record_outcome(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    gateways: Gateways,
    actor: Actor,
    appointment_id: str,
    outcome: str,
    *,
    now: datetime,
) -> Refunded | None:
    """After the start: the doctor marks it completed or the patient a no-show; the patient may
    report that the doctor did not come (recorded as the doctor's no-show and refunded in full)."""
    appointment = await for_actor(session, actor, appointment_id, action=Action.UPDATE)
    if appointment.status is not AppointmentStatus.CONFIRMED or appointment.starts_at is None:
        raise BookingError("not_confirmed")
    if appointment.starts_at > now:
        raise BookingError("not_started")
    allowed = {Role.DOCTOR: ("completed", "patient_no_show"), Role.PATIENT: ("doctor_no_show",)}
    if outcome not in allowed.get(actor.role, ()):
        raise BookingError("not_allowed")
    if outcome == "doctor_no_show":
        # From 10 minutes after the start until 2 hours after its end: a report days later, after
        # a consult that took place, is not an automatic refund.
        if now < appointment.starts_at + NO_SHOW_GRACE:
            raise BookingError("wait_for_doctor")
        if now > (appointment.ends_at or appointment.starts_at) + NO_SHOW_REPORT_WINDOW:
            raise BookingError("too_late_to_report")
    status = AppointmentStatus.COMPLETED if outcome == "completed" else AppointmentStatus.NO_SHOW
    done = await session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == AppointmentStatus.CONFIRMED)
        .values(status=status, slot_lock=None, ended_at=now, ended_by=actor.role.value, end_reason=outcome)
    )
    if done.rowcount != 1:
        raise BookingError("already_decided")
    await session.refresh(appointment)
    await notices.withdraw_all(session, appointment)
    await audit.record(
        session,
        actor=actor,
        action="record_outcome",
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
        outcome=outcome,
    )
    if outcome == "doctor_no_show":
        return await _refund(session, cipher, settings, gateways, appointment, None, "doctor_no_show", now)
    return None


# --- time passing (the sweeper) ---------------------------------------------------------------


async def expire_hold(
    session: AsyncSession,
    cipher: FieldCipher,
    gateways: Gateways | None,
    appointment: Appointment,
    *,
    now: datetime,
) -> bool:
    """A hold that lapsed unpaid: the slot is freed, the link withdrawn, the patient told (with a
    button to pick a time again)."""
    done = await session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == AppointmentStatus.HELD)
        .values(
            status=AppointmentStatus.EXPIRED,
            slot_lock=None,
            ended_at=now,
            ended_by="system",
            end_reason="unpaid",
        )
    )
    if done.rowcount != 1:
        return False
    await session.refresh(appointment)
    if gateways is not None:
        for open_payment in await session.scalars(
            select(Payment).where(Payment.appointment_id == appointment.id, Payment.status == "created")
        ):
            await payments.cancel_checkout(session, gateways, open_payment)
    doctor = await doctor_of(session, appointment)
    await notices.tell(
        session,
        cipher,
        appointment,
        "hold_expired",
        user_id=appointment.patient_id,
        template="appointment_hold_expired" if doctor else "urgent_hold_expired",
        params={
            "doctor": notices.doctor_label(doctor) if doctor else "",
            "starts_at": _iso(appointment.starts_at),
        },
        now=now,
        actions=(ActionButton("rebook", "btn_book_again"),) if doctor else (),
        action="rebook" if doctor else None,
        action_ref=doctor.id if doctor else None,
    )
    return True


async def due(session: AsyncSession, *, now: datetime, batch: int = 100) -> list[str]:
    """Appointments time has caught up with: holds past their time, paid requests past their
    deadline (scheduled or urgent)."""
    lapsed = await session.scalars(
        select(Appointment.id)
        .where(Appointment.status == AppointmentStatus.HELD, Appointment.hold_expires_at <= now)
        .limit(batch)
    )
    unanswered = await session.scalars(
        select(Appointment.id)
        .where(Appointment.status == AppointmentStatus.REQUESTED, Appointment.decision_deadline <= now)
        .limit(batch)
    )
    return [*lapsed.all(), *unanswered.all()]


async def sweep(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    gateways: Gateways,
    *,
    now: datetime,
    batch: int = 100,
) -> int:
    """Every due appointment in this one transaction, each in a savepoint (one that fails — a
    gateway away — waits for the next sweep without stopping the rest). The housekeeper uses
    `due` and `sweep_one` with a transaction per appointment instead."""
    done = 0
    for appointment_id in await due(session, now=now, batch=batch):
        try:
            async with session.begin_nested():
                done += await sweep_one(session, cipher, settings, gateways, appointment_id, now=now)
        except GatewayError:
            log.warning("sweep_deferred", appointment=appointment_id, reason="gateway")
    return done


async def sweep_one(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    gateways: Gateways,
    appointment_id: str,
    *,
    now: datetime,
) -> int:
    """Move one due appointment on (idempotent: conditional on the state it is in); 1 if it did."""
    from backend.appointments import urgent

    appointment = await _locked(session, appointment_id)
    if appointment is None:
        return 0
    if appointment.status is AppointmentStatus.HELD:
        return int(await expire_hold(session, cipher, gateways, appointment, now=now))
    if appointment.status is not AppointmentStatus.REQUESTED:
        return 0  # decided meanwhile
    if appointment.kind is AppointmentKind.URGENT:
        return await urgent.time_out(session, cipher, settings, gateways, appointment, now=now)
    await _end(
        session,
        cipher,
        settings,
        gateways,
        appointment,
        status=AppointmentStatus.REJECTED,
        by="system",
        reason="no_answer",
        refund_minor=None,
        template="appointment_not_answered",
        now=now,
        from_statuses=(AppointmentStatus.REQUESTED,),
    )
    return 1


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
