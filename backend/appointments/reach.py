"""How the doctor who took an urgent consult reaches the patient until consultations in the chat
exist: the phone number (or, with none, the email) the patient verified with telecare.

Read only by that doctor while the consult runs (backend/access.py, "patient_contact"), every read
audited, allowed or denied. The patient is told which of their contacts to watch, masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.access import Action, Actor, Resource, can
from backend.accounts.contacts import mask
from backend.appointments import notices
from backend.crypto import FieldCipher
from backend.models import Appointment, Doctor, User
from backend.records import service as records

# What the patient is told once a doctor took their urgent consult, by the contact they will use.
_TOLD_PATIENT = {"phone": "urgent_accepted", "email": "urgent_accepted_email"}


@dataclass(frozen=True, slots=True)
class Contact:
    kind: str  # "phone" or "email"
    value: str  # E.164 or the address

    @property
    def shown(self) -> str:
        """As a doctor dials it: "+91 98765 43210"."""
        if self.kind != "phone":
            return self.value
        number = phonenumbers.parse(self.value)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    @property
    def masked(self) -> str:
        return mask(self.kind, self.value)


def verified_contact(cipher: FieldCipher, user: User) -> Contact | None:
    """The contact the patient proved with a code: the phone first, as the doctor calls."""
    if user.phone_enc is not None:
        return Contact("phone", cipher.decrypt("users", "phone", user.id, user.phone_enc))
    if user.email_enc is not None:
        return Contact("email", cipher.decrypt("users", "email", user.id, user.email_enc))
    return None


async def for_doctor(
    session: AsyncSession,
    cipher: FieldCipher,
    actor: Actor,
    appointment: Appointment,
    *,
    now: datetime,
    channel: str | None = None,
) -> Contact | None:
    """The patient's contact for the doctor of their urgent consult; None when the policy says no
    (another doctor, an ordinary appointment, after its end) or the patient has none."""
    care = await records.care_link(session, appointment, now)
    allowed = can(actor, Action.READ, Resource("patient_contact", appointment.patient_id, care=care))
    await audit.record(
        session,
        actor=actor,
        action=Action.READ.value,
        resource_type="patient_contact",
        resource_id=appointment.patient_id,
        patient_id=appointment.patient_id,
        outcome="success" if allowed else "denied",
        purpose="urgent_consult",
        channel=channel,
    )
    if not allowed:
        return None
    patient = await session.get(User, appointment.patient_id)
    return verified_contact(cipher, patient) if patient else None


async def tell_patient(
    session: AsyncSession, cipher: FieldCipher, appointment: Appointment, doctor: Doctor, *, now: datetime
) -> None:
    """The patient hears who took their urgent consult and on which of their contacts to expect
    the doctor, masked (the doctor gets the whole one from `for_doctor`)."""
    patient = await session.get(User, appointment.patient_id)
    contact = verified_contact(cipher, patient) if patient else None
    template = _TOLD_PATIENT[contact.kind] if contact else "urgent_accepted_no_contact"
    await notices.tell(
        session,
        cipher,
        appointment,
        "urgent_accepted",
        user_id=appointment.patient_id,
        template=template,
        params={"doctor": notices.doctor_label(doctor), "contact": contact.masked if contact else ""},
        now=now,
    )
