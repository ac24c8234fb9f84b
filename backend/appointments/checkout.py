"""What a checkout says a payment is for: the doctor, the date and time in the patient's own
timezone and language, and the amount. Shown on the sandbox checkout page (our own server, to
whoever holds its unguessable link). Stripe's line item says only what and when: never the doctor
or a specialty (a psychiatrist's name says what the patient is seen for), never the reason or the
patient's name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Appointment, Doctor, Payment, User
from backend.scheduling.names import specialty_name
from backend.timefmt import FORMAT_LOCALES, local_time, zone_name


@dataclass(frozen=True, slots=True)
class PaidFor:
    locale: str  # the patient's language: the page speaks it
    doctor: str | None  # "Asha Nair"; None for an urgent consult nobody has taken yet
    specialty: str | None  # an urgent consult's kind of doctor
    when: str | None  # "Tue, 8 Dec 2026, 10:30 am" in the patient's timezone; None: urgent
    timezone: str
    zone_name: str | None = None  # "India Standard Time" at that moment, in the patient's language


def describe(
    appointment: Appointment, doctor: Doctor | None, patient: User | None, *, locale: str | None = None
) -> PaidFor:
    """`locale` overrides the patient's language (the gateway's line item is in English)."""
    locale = locale or (patient.locale if patient and patient.locale in FORMAT_LOCALES else "en")
    timezone = patient.timezone if patient else "Asia/Kolkata"
    return PaidFor(
        locale=locale,
        doctor=doctor.full_name if doctor else None,
        specialty=specialty_name(appointment.specialty, locale) if appointment.specialty else None,
        when=local_time(appointment.starts_at, locale, timezone) if appointment.starts_at else None,
        timezone=timezone,
        zone_name=zone_name(appointment.starts_at, locale, timezone) if appointment.starts_at else None,
    )


async def paid_for(session: AsyncSession, payment: Payment) -> PaidFor | None:
    """What `payment` pays for, as its patient reads it; None when its appointment is gone."""
    appointment = await session.get(Appointment, payment.appointment_id)
    if appointment is None:
        return None
    doctor = await session.get(Doctor, appointment.doctor_id) if appointment.doctor_id else None
    return describe(appointment, doctor, await session.get(User, appointment.patient_id))


def line_item(paid: PaidFor) -> str:
    """The gateway's line item (Stripe Checkout shows it as the product name), in English: what and
    when, but not who or what kind of doctor, which Stripe has no need to know."""
    if paid.when is None:
        return "Urgent consult"
    return f"Consultation, {paid.when} ({paid.timezone})"
