"""What an appointment tells its patient and its doctor, and when: every message goes through the
outbox in the caller's transaction, under keys that start with `appointment:<id>:` so that one
`cancel_prefix` withdraws everything still to come when the appointment ends or moves."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.access import SYSTEM, AccessDenied, Actor
from backend.crypto import FieldCipher
from backend.models import Appointment, Doctor, PatientProfile, Refund, Role
from backend.outbox import service as outbox
from backend.outbox.service import ActionButton
from backend.records import service as records
from backend.records.summary import SUMMARY_LISTS
from backend.safety import flags

# Reminders before a confirmed appointment: (name, how long before the start).
REMINDERS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)), ("start", timedelta(0)))


def key(appointment: Appointment, what: str) -> str:
    return f"appointment:{appointment.id}:{what}"


def reminders_prefix(appointment: Appointment) -> str:
    return key(appointment, "remind:")


def money(amount_minor: int, currency: str) -> str:
    """The `_money` template field format."""
    return f"{amount_minor} {currency}"


def doctor_label(doctor: Doctor) -> dict[str, str]:
    """How a doctor is named to patients: with qualification and registration (REQ-1.2). The parts,
    not the words: the notifications renderer names them in the recipient's language ("Reg. No." /
    "पंजीकरण सं."), which the backend does not know."""
    return {
        "name": doctor.full_name,
        "qualification": doctor.qualification,
        "registration": doctor.registration_number,
        "council": doctor.council,
    }


def red_flag_word(appointment: Appointment) -> str:
    """The `_word` template field that marks a reason with emergency red-flag words ("" if none)."""
    return "reason_red_flag_mark" if appointment.reason_red_flag else ""


async def patient_name(
    session: AsyncSession, cipher: FieldCipher, appointment: Appointment, purpose: str
) -> str:
    """The patient's name, disclosed to the doctor of their appointment; the disclosure is audited."""
    profile = await session.get(PatientProfile, appointment.patient_id)
    if profile is None or not profile.full_name_enc:
        return "—"
    await audit.record(
        session,
        actor=SYSTEM,
        action="disclose",
        resource_type="patient_profile",
        resource_id=appointment.patient_id,
        patient_id=appointment.patient_id,
        purpose=purpose,
    )
    return cipher.decrypt("patient_profiles", "full_name", appointment.patient_id, profile.full_name_enc)


async def patient_summary(
    session: AsyncSession,
    cipher: FieldCipher,
    appointment: Appointment,
    doctor: Doctor,
    *,
    now: datetime,
    purpose: str,
) -> dict:
    """The patient's summary as template fields (`age`, `sex_word`, `<list>_list`): a snapshot read
    for the doctor when the message is composed, authorised and audited as the doctor's read for
    `purpose`. Fields show "—" when it may not or cannot be read (the refusal is audited)."""
    try:
        summary = await records.read_for_doctor(
            session,
            cipher,
            Actor(doctor.user_id, Role.DOCTOR),
            appointment,
            now=now,
            channel=None,
            purpose=purpose,
        )
    except (AccessDenied, records.ProfileError):
        return {"age": "—", "sex_word": "—", **{f"{name}_list": None for name in SUMMARY_LISTS}}
    return summary.template_params()


async def red_flags(
    session: AsyncSession,
    cipher: FieldCipher,
    appointment: Appointment,
    doctor: Doctor,
    *,
    now: datetime,
    purpose: str,
) -> list[dict]:
    """The patient's recent emergency red flags as a `_flags` template field, read for the doctor
    as the summary is (authorised and audited as their read for `purpose`); none when refused."""
    try:
        shown = await flags.for_doctor(
            session,
            cipher,
            Actor(doctor.user_id, Role.DOCTOR),
            appointment,
            now=now,
            channel=None,
            purpose=purpose,
        )
    except AccessDenied:
        return []
    return [flag.as_param() for flag in shown]


async def tell(
    session: AsyncSession,
    cipher: FieldCipher,
    appointment: Appointment,
    what: str,
    *,
    user_id: str,
    template: str,
    params: dict,
    now: datetime,
    urgent: bool = True,
    actions: tuple[ActionButton, ...] = (),
    action: str | None = None,
    action_ref: str | None = None,
) -> None:
    """A status message, sent now. Status changes are urgent by default: the other party is
    waiting on them (a request to accept, a refund, a cancellation), quiet hours or not."""
    await outbox.enqueue(
        session,
        cipher,
        key=key(appointment, what),
        user_id=user_id,
        template=template,
        params=params,
        kind="status",
        due_at=now,
        window=timedelta(hours=24),
        urgent=urgent,
        actions=actions,
        action=action,
        action_ref=action_ref,
    )


async def refund_completed(
    session: AsyncSession, cipher: FieldCipher, appointment: Appointment, refund: Refund, *, now: datetime
) -> None:
    """The gateway has given `refund` back to the patient — at once (the sandbox), or confirmed
    later by its webhook (Stripe): the patient is told how much, and for which appointment. Once
    per refund (its key); not urgent (nobody waits on it), so quiet hours hold it."""
    if refund.status != "succeeded":
        return
    doctor = await session.get(Doctor, appointment.doctor_id) if appointment.doctor_id else None
    params: dict = {"amount_money": money(refund.amount_minor, refund.currency)}
    template = "refund_completed_urgent"  # an urgent consult nobody took has no doctor or time
    if doctor is not None and appointment.starts_at is not None:
        template = "refund_completed"
        params |= {"doctor": doctor_label(doctor), "starts_at": appointment.starts_at.isoformat()}
    await tell(
        session,
        cipher,
        appointment,
        f"refund_completed:{refund.id}",
        user_id=appointment.patient_id,
        template=template,
        params=params,
        now=now,
        urgent=False,
    )


async def schedule_reminders(
    session: AsyncSession,
    cipher: FieldCipher,
    appointment: Appointment,
    doctor: Doctor,
    patient: str,
    *,
    now: datetime,
) -> None:
    """24 h, 1 h and at the start, to both; scheduling again (a move) replaces them, and those
    already past are not scheduled at all."""
    await outbox.cancel_prefix(session, reminders_prefix(appointment))
    for name, before in REMINDERS:
        due = appointment.starts_at - before
        if due <= now:
            continue
        for who, user_id, params in (
            ("patient", appointment.patient_id, {"with": doctor_label(doctor)}),
            ("doctor", doctor.user_id, {"with": patient}),
        ):
            await outbox.schedule(
                session,
                cipher,
                key=key(appointment, f"remind:{name}:{who}"),
                user_id=user_id,
                template=f"appointment_reminder_{name}",
                params={**params, "starts_at": appointment.starts_at.isoformat()},
                kind="appointment",
                due_at=due,
                window=timedelta(minutes=30) if name != "24h" else timedelta(hours=6),
                urgent=name != "24h",  # the last two matter even at night: the consult is soon
            )


async def withdraw_all(session: AsyncSession, appointment: Appointment) -> None:
    """Nothing more about this appointment is sent: reminders and any unsent request."""
    await outbox.cancel_prefix(session, reminders_prefix(appointment))
    await outbox.cancel(session, key(appointment, "request"))
