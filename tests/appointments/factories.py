"""Small factories for booking tests: a patient with a profile, a verified doctor, slots, and a
sandbox payment event as the gateway would send it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from backend.access import Actor
from backend.appointments import service as appointments
from backend.appointments import urgent
from backend.models import (
    Appointment,
    Doctor,
    OutboxMessage,
    Payment,
    Role,
    Slot,
    Specialty,
    VerificationStatus,
    new_id,
)
from backend.payments import service as payments
from backend.payments.gateway import EventType, GatewayEvent
from backend.records import service as records
from tests.notifications.helpers import make_user

# A fixed Monday morning, far from any real "now" questions: 2031-06-02 06:30 UTC (12:00 IST).
NOW = datetime.fromisoformat("2031-06-02T06:30:00+00:00")


async def make_patient(session, cipher, *, name: str = "Asha Verma", chat: str | None = None):
    user = await make_user(session, role=Role.PATIENT, chats=(("web", chat),))
    await records.create_profile(
        session,
        cipher,
        Actor(user.id, Role.PATIENT),
        user.id,
        full_name=name,
        birth_date=date(1990, 4, 23),
        sex="female",
        channel="web",
    )
    return user


async def specialty(session, name: str) -> Specialty:
    found = await session.scalar(select(Specialty).where(Specialty.name == name))
    if found is None:
        found = Specialty(id=new_id(), name=name)
        session.add(found)
        await session.flush()
    return found


async def make_doctor(
    session,
    *,
    name: str = "Meera Rao",
    status: VerificationStatus = VerificationStatus.VERIFIED,
    fee_minor: int = 50_000,
    on_call: bool = False,
    auto_accept: bool = False,
    specialties: tuple[str, ...] = ("General Medicine",),
    stripe_account_id: str | None = None,
) -> Doctor:
    user = await make_user(session, role=Role.DOCTOR, chats=(("web", None),))
    doctor = Doctor(
        id=new_id(),
        user_id=user.id,
        full_name=name,
        qualification="MBBS, MD",
        council="Karnataka Medical Council",
        registration_number=f"KMC-{new_id()[:8]}",
        languages=["English", "Hindi"],
        fee_minor=fee_minor,
        currency="INR",
        status=status,
        on_call=on_call,
        auto_accept=auto_accept,
        stripe_account_id=stripe_account_id,
    )
    doctor.specialties = [await specialty(session, s) for s in specialties]
    session.add(doctor)
    await session.flush()
    return doctor


async def make_slot(session, doctor: Doctor, starts_at: datetime, minutes: int = 15) -> Slot:
    slot = Slot(
        id=new_id(), doctor_id=doctor.id, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes)
    )
    session.add(slot)
    await session.flush()
    return slot


def paid_event(
    payment: Payment, event_id: str | None = None, type_: EventType = EventType.PAID
) -> GatewayEvent:
    return GatewayEvent(
        event_id=event_id or f"evt_{new_id()}",
        type=type_,
        checkout_ref=payment.checkout_ref,
        charge_ref=f"ch_{payment.id[:8]}",
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        raw_type=type_.value,
    )


async def record(session, settings, payment: Payment, type_: EventType = EventType.PAID, event_id=None):
    return await payments.record_event(
        session, payment.gateway, paid_event(payment, event_id, type_), settings=settings, now=NOW
    )


async def outbox_for(session, user_id: str) -> list[OutboxMessage]:
    return list(
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.user_id == user_id).order_by(OutboxMessage.created_at)
        )
    )


async def settle_paid(sessions, cipher, settings, gateways, payment: Payment, *, at: datetime) -> None:
    """The gateway says `payment` is paid and the booking settles it, as the webhook would."""
    async with sessions() as session, session.begin():
        fresh = await session.get(Payment, payment.id)
        change = await payments.record_event(
            session, fresh.gateway, paid_event(fresh), settings=settings, now=at
        )
        await appointments.settle(session, cipher, settings, gateways, change, now=at)


async def urgent_with_pay_link(
    sessions, cipher, settings, gateways, patient_id: str, *, at: datetime, reason: str = "high fever"
) -> tuple[Appointment, Payment]:
    """`patient_id`'s urgent General Medicine consult, requested at `at`, and its payment link."""
    async with sessions() as session, session.begin():
        held = await urgent.request(
            session,
            cipher,
            settings,
            patient_id=patient_id,
            specialty="General Medicine",
            reason=reason,
            now=at,
        )
        return held, await appointments.pay_link(session, settings, gateways, held, now=at)


async def paid_urgent_for(
    sessions, cipher, settings, gateways, patient_id: str, *, at: datetime
) -> tuple[Appointment, Payment]:
    """`patient_id`'s urgent consult, requested and paid at `at`."""
    held, payment = await urgent_with_pay_link(sessions, cipher, settings, gateways, patient_id, at=at)
    await settle_paid(sessions, cipher, settings, gateways, payment, at=at)
    return held, payment
