"""Users, their chats and their contact details."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.access import Actor
from backend.accounts import chats
from backend.crypto import FieldCipher, blind_index
from backend.models import ChannelIdentity, Consent, Role, User, new_id, utcnow
from backend.models.users import Channel
from backend.outbox import service as outbox
from backend.records import service as records


def contact_index(cipher: FieldCipher, kind: str, normalised: str) -> str:
    return blind_index(cipher.ring, kind, normalised)


async def find_user_by_contact(
    session: AsyncSession, cipher: FieldCipher, kind: str, normalised: str
) -> User | None:
    column = User.phone_bidx if kind == "phone" else User.email_bidx
    return await session.scalar(select(User).where(column == contact_index(cipher, kind, normalised)))


async def identity_for(
    session: AsyncSession, cipher: FieldCipher, channel: str, address: str, *, lock: bool = False
) -> ChannelIdentity:
    """The identity of one chat, created on first contact (nobody's until OTP succeeds)."""
    query = select(ChannelIdentity).where(*chats.is_chat(cipher, channel, address))
    identity = await session.scalar(query.with_for_update() if lock else query)
    if identity is None:
        identity = chats.new_identity(cipher, channel, address)
        try:
            async with session.begin_nested():
                session.add(identity)
        except IntegrityError:  # another request created it first: use theirs
            identity = await session.scalar(query)
            if identity is None:
                raise
    return identity


def idle_too_long(identity: ChannelIdentity, idle_limit: timedelta, now: datetime) -> bool:
    """A chat unused for longer than `idle_limit` no longer counts as signed in."""
    return identity.last_seen_at is not None and now - identity.last_seen_at > idle_limit


async def sign_out_if_idle(
    session: AsyncSession,
    cipher: FieldCipher,
    channel: str,
    address: str,
    idle_limit: timedelta,
    now: datetime,
) -> bool:
    """A session unused for longer than `idle_limit` is signed out (the server enforces what the
    cookie's lifetime only suggests). True when it was."""
    identity = await session.scalar(select(ChannelIdentity).where(*chats.is_chat(cipher, channel, address)))
    if identity is None or identity.user_id is None or not idle_too_long(identity, idle_limit, now):
        return False
    await audit.record(
        session,
        actor=None,
        action="session_expired",
        resource_type="channel_identity",
        resource_id=identity.id,
        channel=channel,
    )
    identity.user_id = None
    return True


def set_contact(cipher: FieldCipher, user: User, kind: str, normalised: str) -> None:
    sealed = cipher.encrypt("users", kind, user.id, normalised)
    index = contact_index(cipher, kind, normalised)
    if kind == "phone":
        user.phone_enc, user.phone_bidx = sealed, index
    else:
        user.email_enc, user.email_bidx = sealed, index


@dataclass(frozen=True)
class NewPatient:
    full_name: str
    birth_date: date
    sex: str
    contact_kind: str
    contact: str  # normalised and already proven by OTP
    locale: str
    timezone: str
    consent_version: str
    consent_at: datetime
    channel: str


async def create_patient(session: AsyncSession, cipher: FieldCipher, new: NewPatient) -> User:
    user = await _consenting_user(session, cipher, new, Role.PATIENT, consent_kind="terms_and_data_use")
    actor = Actor(user.id, Role.PATIENT)
    await records.create_profile(
        session,
        cipher,
        actor,
        user.id,
        full_name=new.full_name,
        birth_date=new.birth_date,
        sex=new.sex,
        channel=new.channel,
    )
    await _welcome(session, cipher, user, new.full_name)
    return user


PROVIDER_ROLES = (Role.DOCTOR, Role.PHARMACY, Role.LAB)


@dataclass(frozen=True)
class NewProvider:
    """Someone joining as a doctor, pharmacy or lab. Their professional details come later, in
    the application (backend/providers); until it is verified the account can do nothing else."""

    role: Role
    contact_kind: str
    contact: str  # normalised and already proven by OTP
    locale: str
    timezone: str
    consent_version: str
    consent_at: datetime
    channel: str


async def create_provider(session: AsyncSession, cipher: FieldCipher, new: NewProvider) -> User:
    """A provider's account, with the same consent record and audit entry as a patient's (no
    medical profile, no patient welcome: the application's messages follow instead)."""
    if new.role not in PROVIDER_ROLES:
        raise ValueError(f"not a provider role: {new.role}")
    return await _consenting_user(session, cipher, new, new.role, consent_kind="provider_terms")


async def _consenting_user(
    session: AsyncSession,
    cipher: FieldCipher,
    new: NewPatient | NewProvider,
    role: Role,
    *,
    consent_kind: str,
) -> User:
    """A new account with its verified contact and the consent given at signup (the exact terms
    version and time), audited."""
    user = User(id=new_id(), role=role, locale=new.locale, timezone=new.timezone)
    set_contact(cipher, user, new.contact_kind, new.contact)
    session.add(user)
    await session.flush()  # the consent (and a patient's profile) reference the user row
    session.add(
        Consent(
            user_id=user.id,
            kind=consent_kind,
            version=new.consent_version,
            accepted_at=new.consent_at,
            channel=Channel(new.channel),
        )
    )
    await session.flush()
    await audit.record(
        session,
        actor=Actor(user.id, role),
        action="consent",
        resource_type="consent",
        resource_id=user.id,
        patient_id=user.id if role is Role.PATIENT else None,
        channel=new.channel,
    )
    return user


async def _welcome(session: AsyncSession, cipher: FieldCipher, user: User, name: str) -> None:
    """A welcome now and, a day later, a nudge to fill in the profile (withdrawn as soon as the
    patient adds to it: records.service). Through the outbox, in the signup's transaction."""
    now = utcnow()
    await outbox.enqueue(
        session,
        cipher,
        key=f"user:{user.id}:welcome",
        user_id=user.id,
        template="welcome",
        params={"name": name},
        kind="welcome",
        due_at=now,
        window=timedelta(hours=1),
        urgent=True,  # not for quiet hours: the user is in the chat right now, signing up
    )
    await outbox.schedule(
        session,
        cipher,
        key=records.profile_nudge_key(user.id),
        user_id=user.id,
        template="profile_nudge",
        params={"name": name},
        kind="profile",
        due_at=now + timedelta(days=1),
        window=timedelta(hours=12),
        actions=(outbox.ActionButton("open", "btn_complete_profile"),),
        action="profile_nudge",
    )


async def link_identity(session: AsyncSession, identity: ChannelIdentity, user: User) -> None:
    identity.user_id = user.id
    identity.last_seen_at = utcnow()
    await audit.record(
        session,
        actor=Actor(user.id, user.role),
        action="link_chat",
        resource_type="channel_identity",
        resource_id=identity.id,
        channel=identity.channel.value,
    )
