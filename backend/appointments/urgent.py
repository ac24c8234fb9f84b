"""Urgent consults: a patient who needs care now (and is not in a red-flag emergency, which gets
emergency guidance instead) pays, and the request is offered at once to every verified doctor on
call with a fitting specialty. The first to accept takes it, atomically; the other offers' buttons
stop working. Nobody within `urgent_wait_minutes` → refunded in full and told where to go."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.access import Actor
from backend.appointments import notices, reach
from backend.appointments.service import BookingError, _refund, record_held, seal_reason
from backend.crypto import FieldCipher
from backend.models import (
    LIVE_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Doctor,
    Role,
    Specialty,
    VerificationStatus,
    new_id,
)
from backend.outbox import service as outbox
from backend.outbox.service import ActionButton
from backend.payments import service as payments
from backend.payments.gateway import Gateways
from backend.settings import Settings

OFFER_ACTION = "urgent_offer"


async def on_call_doctors(session: AsyncSession, specialty: str, currency: str) -> list[Doctor]:
    """Verified doctors on call with the specialty, paid in the urgent fee's currency (their share
    is counted, and paid out, in their own currency)."""
    return list(
        await session.scalars(
            select(Doctor)
            .join(Doctor.specialties)
            .where(
                Doctor.status == VerificationStatus.VERIFIED,
                Doctor.on_call.is_(True),
                Doctor.currency == currency,
                Specialty.name == specialty,
            )
            .order_by(Doctor.id)
        )
    )


async def request(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    *,
    patient_id: str,
    specialty: str,
    reason: str,
    now: datetime,
) -> Appointment:
    """A held urgent consult, to be paid. BookingError: nobody_on_call, urgent_open."""
    if not await on_call_doctors(session, specialty, settings.currency):
        raise BookingError("nobody_on_call")
    open_one = await session.scalar(
        select(Appointment.id).where(
            Appointment.patient_id == patient_id,
            Appointment.kind == AppointmentKind.URGENT,
            Appointment.status.in_(LIVE_STATUSES),
            (Appointment.hold_expires_at.is_(None)) | (Appointment.hold_expires_at > now),
        )
    )
    if open_one is not None:
        raise BookingError("urgent_open")
    appointment = Appointment(
        id=new_id(),
        patient_id=patient_id,
        kind=AppointmentKind.URGENT,
        specialty=specialty,
        status=AppointmentStatus.HELD,
        fee_minor=settings.urgent_fee_minor,
        currency=settings.currency,
        hold_expires_at=now + timedelta(minutes=settings.hold_minutes),
    )
    seal_reason(cipher, appointment, " ".join(reason.split()))
    session.add(appointment)
    await session.flush()
    await record_held(session, appointment, outcome="urgent_held")
    return appointment


async def position(session: AsyncSession, appointment: Appointment) -> int:
    """1 + the paid urgent requests for the same specialty still waiting from before this one."""
    ahead = await session.scalar(
        select(func.count()).where(
            Appointment.kind == AppointmentKind.URGENT,
            Appointment.status == AppointmentStatus.REQUESTED,
            Appointment.specialty == appointment.specialty,
            Appointment.paid_at < appointment.paid_at,
        )
    )
    return (ahead or 0) + 1


async def offer(
    session: AsyncSession, cipher: FieldCipher, appointment: Appointment, *, now: datetime
) -> None:
    """Offer the paid request to every doctor on call now; tell the patient their place in line."""
    doctors = await on_call_doctors(session, appointment.specialty or "", appointment.currency)
    # Only the specialty goes to every doctor on call; the reason (health data) is shown to the
    # one who takes the consult.
    for doctor in doctors:
        await notices.tell(
            session,
            cipher,
            appointment,
            f"offer:{doctor.id}",
            user_id=doctor.user_id,
            template="urgent_offer",
            params={"specialty": appointment.specialty},
            now=now,
            actions=(ActionButton("accept", "btn_accept_urgent"),),
            action=OFFER_ACTION,
            action_ref=appointment.id,
        )
    wait = max(1, int((appointment.decision_deadline - now).total_seconds() // 60))
    await notices.tell(
        session,
        cipher,
        appointment,
        "waiting",
        user_id=appointment.patient_id,
        template="urgent_waiting",
        params={
            "specialty": appointment.specialty,
            "position": await position(session, appointment),
            "doctors": len(doctors),
            "minutes": wait,
        },
        now=now,
    )


async def accept(
    session: AsyncSession, cipher: FieldCipher, doctor: Doctor, appointment_id: str, *, now: datetime
) -> Appointment:
    """The first doctor to accept takes the consult. BookingError: already_taken, not_on_call."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None or appointment.kind is not AppointmentKind.URGENT:
        raise BookingError("already_taken")
    fitting = {
        d.id for d in await on_call_doctors(session, appointment.specialty or "", appointment.currency)
    }
    if doctor.id not in fitting:
        raise BookingError("not_on_call")
    taken = await session.execute(
        update(Appointment)
        .where(
            Appointment.id == appointment.id,
            Appointment.status == AppointmentStatus.REQUESTED,
            Appointment.doctor_id.is_(None),
            Appointment.decision_deadline > now,  # past it the patient was told they are refunded
        )
        .values(
            doctor_id=doctor.id,
            status=AppointmentStatus.CONFIRMED,
            decided_at=now,
            starts_at=now,
            ends_at=now + timedelta(minutes=doctor.slot_minutes),
            updated_at=now,
        )
    )
    if taken.rowcount != 1:
        await session.refresh(appointment)
        raise BookingError("already_taken" if appointment.doctor_id else "offer_closed")
    await session.refresh(appointment)
    await withdraw_offers(session, appointment, now)
    payment = await payments.paid_payment(session, appointment.id)
    if payment is not None:  # the doctor's share was held for whoever would accept: it is theirs now
        await payments.assign_doctor(session, payment, doctor.id)
    await audit.record(
        session,
        actor=Actor(doctor.user_id, Role.DOCTOR),
        action="accept",
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
        outcome="urgent",
    )
    await reach.tell_patient(session, cipher, appointment, doctor, now=now)
    return appointment


async def time_out(
    session: AsyncSession,
    cipher: FieldCipher,
    settings: Settings,
    gateways: Gateways,
    appointment: Appointment,
    *,
    now: datetime,
) -> int:
    """Nobody accepted in time: refund in full, say where to get care now."""
    ended = await session.execute(
        update(Appointment)
        .where(
            Appointment.id == appointment.id,
            Appointment.status == AppointmentStatus.REQUESTED,
            Appointment.doctor_id.is_(None),
        )
        .values(
            status=AppointmentStatus.REJECTED,
            ended_at=now,
            ended_by="system",
            end_reason="no_doctor",
            updated_at=now,
        )
    )
    if ended.rowcount != 1:
        return 0
    await session.refresh(appointment)
    await withdraw_offers(session, appointment, now)
    refunded = await _refund(session, cipher, settings, gateways, appointment, None, "no_doctor", now)
    await notices.tell(
        session,
        cipher,
        appointment,
        "urgent_timeout",
        user_id=appointment.patient_id,
        template="urgent_timeout",
        params={
            "specialty": appointment.specialty,
            "amount_money": notices.money(refunded.amount_minor if refunded else 0, appointment.currency),
        },
        now=now,
    )
    return 1


async def withdraw_offers(session: AsyncSession, appointment: Appointment, now: datetime) -> None:
    """Offers not sent yet are withdrawn. The buttons of those sent no longer take the consult:
    pressed, they say it was taken by another doctor (or closed), which `accept` decides."""
    await outbox.cancel_prefix(session, notices.key(appointment, "offer:"))
