"""The patient's medical profile: every read and change is authorised and audited."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.access import AccessDenied, Action, Actor, CareLink, Resource, can
from backend.crypto import FieldCipher
from backend.models import PROFILE_LISTS, Appointment, AppointmentKind, Doctor, PatientProfile, User, utcnow
from backend.outbox import service as outbox
from backend.records.summary import PatientSummary, summarise

MAX_ITEMS = 50
MAX_ITEM_CHARS = 300
TABLE = "patient_profiles"


class ProfileError(ValueError):
    """A change that cannot be made; `reason` is a catalogue key for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ProfileView:
    full_name: str
    birth_date: date | None
    sex: str
    lists: dict[str, list[str]] = field(default_factory=dict)


# A refusal is audited in the caller's transaction and then raised as AccessDenied: callers catch
# it inside their unit of work and commit, so the "denied" entry is kept (the engine and the
# download route do). Letting it escape would roll the entry back with everything else.
async def _authorise(
    session: AsyncSession,
    actor: Actor,
    action: Action,
    patient_id: str,
    channel: str | None,
    purpose: str,
    care: CareLink | None = None,
) -> None:
    if not can(actor, action, Resource("patient_profile", patient_id, care=care)):
        await audit.record(
            session,
            actor=actor,
            action=action.value,
            resource_type="patient_profile",
            resource_id=patient_id,
            patient_id=patient_id,
            outcome="denied",
            purpose=purpose,
            channel=channel,
        )
        raise AccessDenied(actor, action, Resource("patient_profile", patient_id))


async def _audited(session, actor, action, patient_id, channel, purpose) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action.value,
        resource_type="patient_profile",
        resource_id=patient_id,
        patient_id=patient_id,
        purpose=purpose,
        channel=channel,
    )


def _seal(cipher: FieldCipher, patient_id: str, column: str, value: str) -> bytes:
    return cipher.encrypt(TABLE, column, patient_id, value)


def _open(cipher: FieldCipher, patient_id: str, column: str, sealed: bytes | None) -> str | None:
    return cipher.decrypt(TABLE, column, patient_id, sealed) if sealed else None


async def create_profile(
    session: AsyncSession,
    cipher: FieldCipher,
    actor: Actor,
    patient_id: str,
    *,
    full_name: str,
    birth_date: date,
    sex: str,
    channel: str | None,
) -> None:
    await _authorise(session, actor, Action.CREATE, patient_id, channel, "signup")
    profile = PatientProfile(user_id=patient_id, updated_by=actor.user_id)
    profile.full_name_enc = _seal(cipher, patient_id, "full_name", full_name)
    profile.birth_date_enc = _seal(cipher, patient_id, "birth_date", birth_date.isoformat())
    profile.sex_enc = _seal(cipher, patient_id, "sex", sex)
    for name in PROFILE_LISTS:
        setattr(profile, f"{name}_enc", _seal(cipher, patient_id, name, "[]"))
    session.add(profile)
    await session.flush()
    await _audited(session, actor, Action.CREATE, patient_id, channel, "signup")


async def _load(session: AsyncSession, patient_id: str) -> PatientProfile:
    profile = await session.get(PatientProfile, patient_id)
    if profile is None:
        raise ProfileError("profile_missing")
    return profile


def _lists(cipher: FieldCipher, profile: PatientProfile) -> dict[str, list[str]]:
    return {
        name: json.loads(_open(cipher, profile.user_id, name, getattr(profile, f"{name}_enc")) or "[]")
        for name in PROFILE_LISTS
    }


async def read_profile(
    session: AsyncSession,
    cipher: FieldCipher,
    actor: Actor,
    patient_id: str,
    *,
    channel: str | None,
    purpose: str = "view_profile",
) -> ProfileView:
    await _authorise(session, actor, Action.READ, patient_id, channel, purpose)
    profile = await _load(session, patient_id)
    birth = _open(cipher, patient_id, "birth_date", profile.birth_date_enc)
    view = ProfileView(
        full_name=_open(cipher, patient_id, "full_name", profile.full_name_enc) or "",
        birth_date=date.fromisoformat(birth) if birth else None,
        sex=_open(cipher, patient_id, "sex", profile.sex_enc) or "",
        lists=_lists(cipher, profile),
    )
    await _audited(session, actor, Action.READ, patient_id, channel, purpose)
    return view


async def care_link(session: AsyncSession, appointment: Appointment, now: datetime) -> CareLink:
    """`appointment` as the access policy weighs it for its doctor at `now`. A doctor sees a patient
    through the appointment they are looking at, never through another one: the card of a
    cancelled appointment shows no summary, even while a newer one is live."""
    doctor = await session.get(Doctor, appointment.doctor_id) if appointment.doctor_id else None
    return CareLink(
        doctor_user_id=doctor.user_id if doctor else None,
        patient_id=appointment.patient_id,
        status=appointment.status,
        ends_at=appointment.ends_at,
        at=now,
        urgent=appointment.kind is AppointmentKind.URGENT,
    )


async def read_for_doctor(
    session: AsyncSession,
    cipher: FieldCipher,
    actor: Actor,
    appointment: Appointment,
    *,
    now: datetime,
    channel: str | None,
    purpose: str,
) -> PatientSummary:
    """The patient's summary for the doctor of `appointment` (age on its local date), allowed only
    while that appointment joins them (backend.access); allowed or not, the view is audited with the
    doctor as actor. AccessDenied when refused; ProfileError("profile_missing") without a profile."""
    patient_id = appointment.patient_id
    care = await care_link(session, appointment, now)
    await _authorise(session, actor, Action.READ, patient_id, channel, purpose, care)
    profile = await _load(session, patient_id)
    birth = _open(cipher, patient_id, "birth_date", profile.birth_date_enc)
    patient = await session.get(User, patient_id)
    day = (appointment.starts_at or now).astimezone(ZoneInfo(patient.timezone)).date()
    summary = summarise(
        date.fromisoformat(birth) if birth else None,
        _open(cipher, patient_id, "sex", profile.sex_enc) or "",
        _lists(cipher, profile),
        day,
    )
    await _audited(session, actor, Action.READ, patient_id, channel, purpose)
    return summary


async def _change_list(session, cipher, actor, patient_id, name, change, channel) -> list[str]:
    if name not in PROFILE_LISTS:
        raise ProfileError("profile_field_unknown")
    await _authorise(session, actor, Action.UPDATE, patient_id, channel, f"edit_{name}")
    profile = await _load(session, patient_id)
    items = json.loads(_open(cipher, patient_id, name, getattr(profile, f"{name}_enc")) or "[]")
    items = change(items)
    setattr(profile, f"{name}_enc", _seal(cipher, patient_id, name, json.dumps(items, ensure_ascii=False)))
    profile.updated_at, profile.updated_by = utcnow(), actor.user_id
    await _audited(session, actor, Action.UPDATE, patient_id, channel, f"edit_{name}")
    if any(items):  # the profile has something in it now: no need to remind them tomorrow
        await outbox.cancel(session, profile_nudge_key(patient_id))
    return items


def profile_nudge_key(patient_id: str) -> str:
    return f"user:{patient_id}:profile_nudge"


def clean_item(text: str) -> str:
    item = " ".join(text.split())
    if not item:
        raise ProfileError("item_empty")
    if len(item) > MAX_ITEM_CHARS:
        raise ProfileError("item_too_long")
    if not any(unicodedata.category(ch)[0] in "LN" for ch in item):
        # "🤧🤧" or "!!!" tells a doctor nothing: the record holds words (any script) or numbers.
        raise ProfileError("item_no_words")
    return item


async def add_item(session, cipher, actor, patient_id, name: str, text: str, *, channel=None) -> list[str]:
    item = clean_item(text)

    def change(items: list[str]) -> list[str]:
        if len(items) >= MAX_ITEMS:
            raise ProfileError("too_many_items")
        if any(existing.casefold() == item.casefold() for existing in items):
            raise ProfileError("item_duplicate")
        return [*items, item]

    return await _change_list(session, cipher, actor, patient_id, name, change, channel)


async def remove_item(session, cipher, actor, patient_id, name: str, item: str, *, channel=None) -> list[str]:
    def change(items: list[str]) -> list[str]:
        if item not in items:
            raise ProfileError("item_gone")
        return [existing for existing in items if existing != item]

    return await _change_list(session, cipher, actor, patient_id, name, change, channel)


async def clear_list(session, cipher, actor, patient_id, name: str, *, channel=None) -> list[str]:
    return await _change_list(session, cipher, actor, patient_id, name, lambda _items: [], channel)
