"""Every red flag a chat raises is kept (the category encrypted, never the words) and audited;
the doctor of a later appointment reads the patient's recent ones, authorised like the patient's
summary (backend.access, "red_flags") and audited either way."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.access import AccessDenied, Action, Actor, Resource, can
from backend.crypto import FieldCipher
from backend.models import Appointment, RedFlag, new_id
from backend.records.service import care_link
from backend.safety.shown import ShownFlag

TABLE = "red_flags"
# What the doctor is shown: the patient's flags from this long before the request on, newest first.
SHOWN_SINCE = timedelta(days=90)
SHOWN_AT_MOST = 5


async def record(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    actor: Actor | None,
    user_id: str | None,
    conversation_id: str,
    channel: str,
    category: str,
    history: bool,
    at: datetime,
    doubtful: bool = False,
) -> RedFlag:
    """Keep one flag and write its audit entry (`emergency_flag`, outcome "flagged", "history",
    "now" or "doubtful" — a flag for now answered with the note, not the card — as the purpose,
    the flag as the resource) in the caller's transaction. A doubtful flag is kept as one for now:
    the doctor reads it like the others. The category is health data: it stays encrypted in the
    flag, never in clear in the audit log."""
    flag = RedFlag(
        id=new_id(),
        user_id=user_id,
        conversation_id=conversation_id,
        channel=channel,
        history=history,
        created_at=at,
    )
    flag.category_enc = cipher.encrypt(TABLE, "category", flag.id, category)
    session.add(flag)
    await audit.record(
        session,
        actor=actor,
        action="emergency_flag",
        resource_type=TABLE,
        resource_id=flag.id,
        patient_id=user_id,
        outcome="flagged",
        purpose="history" if history else "doubtful" if doubtful else "now",
        channel=channel,
    )
    return flag


def category_of(cipher: FieldCipher, flag: RedFlag) -> str:
    return cipher.decrypt(TABLE, "category", flag.id, flag.category_enc)


def requested_at(appointment: Appointment) -> datetime:
    """When the doctor was asked: the payment that made it a request (its creation before that)."""
    return appointment.paid_at or appointment.created_at


async def for_doctor(
    session: AsyncSession,
    cipher: FieldCipher,
    actor: Actor,
    appointment: Appointment,
    *,
    now: datetime,
    channel: str | None,
    purpose: str,
) -> list[ShownFlag]:
    """The patient's flags from SHOWN_SINCE before `appointment` was requested until `now` (those
    raised since the request too), newest first, at most SHOWN_AT_MOST, for its doctor while the
    appointment joins them (backend.access, "red_flags": the summary's rule). Allowed or not, the
    read is audited with `actor`; AccessDenied when refused (the refusal's entry is written)."""
    patient_id = appointment.patient_id
    resource = Resource(TABLE, patient_id, care=await care_link(session, appointment, now))
    allowed = can(actor, Action.READ, resource)
    await audit.record(
        session,
        actor=actor,
        action=Action.READ.value,
        resource_type=TABLE,
        resource_id=patient_id,
        patient_id=patient_id,
        outcome="success" if allowed else "denied",
        purpose=purpose,
        channel=channel,
    )
    if not allowed:
        raise AccessDenied(actor, Action.READ, resource)
    rows = await session.scalars(
        select(RedFlag)
        .where(
            RedFlag.user_id == patient_id,
            RedFlag.created_at >= requested_at(appointment) - SHOWN_SINCE,
            RedFlag.created_at <= now,
        )
        .order_by(RedFlag.created_at.desc(), RedFlag.id)
        .limit(SHOWN_AT_MOST)
    )
    return [ShownFlag(category_of(cipher, row), row.created_at, row.history) for row in rows]
