"""One-time passwords: issue and verify, with the rules of the security reference (REQ-4.x).

- 6 digits from `secrets`, stored only as an HMAC keyed by the OTP key, bound to the challenge id;
- valid 5 minutes, once, for one purpose, one destination and one chat;
- 5 wrong tries lock the challenge; a resend replaces (kills) the previous code;
- 60 s between sends and at most 3 sends per 15 minutes per destination;
- codes for at most a few distinct contacts per chat and per client address in 24 h, SMS only to
  allowed countries, and a global hourly SMS budget (`backend.otp.limits`);
- 20 wrong codes for one contact in 24 h lock that contact for 24 h (`backend.otp.lockout`).
The answers never reveal whether the destination belongs to an account."""

from __future__ import annotations

import enum
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.crypto import FieldCipher, blind_index, otp_digest
from backend.models import OtpChallenge, new_id
from backend.otp import limits as send_limits
from backend.otp import lockout
from backend.otp.limits import SendLimits

CODE_DIGITS = 6
TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_COOLDOWN = timedelta(seconds=60)
SEND_WINDOW = timedelta(minutes=15)
MAX_SENDS_PER_WINDOW = 3


class Refusal(enum.StrEnum):
    COOLDOWN = "cooldown"  # 60 s between codes to one destination
    TOO_MANY = "too_many"  # 3 codes to one destination per 15 minutes
    DESTINATIONS = "destinations"  # this chat or client got codes for too many contacts today
    SMS_COUNTRY = "sms_country"  # no SMS to that country
    SMS_BUDGET = "sms_budget"  # this hour's SMS budget is spent
    CONTACT_LOCKED = "contact_locked"  # too many wrong codes for this contact


@dataclass(frozen=True)
class Issued:
    code: str | None  # the code to deliver; None when refused
    retry_after: int = 0  # seconds to wait when refused (0: waiting will not help)
    refused: Refusal | None = None
    until: datetime | None = None  # CONTACT_LOCKED: when the lock ends


class VerifyOutcome(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"  # too many wrong tries: ask for a new code
    EXPIRED = "expired"
    NONE = "none"  # no live challenge for this chat/purpose/destination
    CONTACT_LOCKED = "contact_locked"  # too many wrong codes for this contact: locked for a day


@dataclass(frozen=True)
class Verified:
    outcome: VerifyOutcome
    attempts_left: int = 0
    locked_until: datetime | None = None  # CONTACT_LOCKED: when the lock ends


def _chat_reference(cipher: FieldCipher, chat_key: str) -> str:
    """What a challenge stores of its chat: a keyed index of `channel:address`, never the address
    (a WhatsApp number or Telegram chat id names a person)."""
    return blind_index(cipher.ring, "otp_chat", chat_key)


def _where(purpose: str, bidx: str, chat_key: str):
    return (
        OtpChallenge.purpose == purpose,
        OtpChallenge.destination_bidx == bidx,
        OtpChallenge.chat_key == chat_key,
        OtpChallenge.closed_at.is_(None),
    )


async def issue(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    purpose: str,
    kind: str,
    destination: str,
    chat_key: str,
    now: datetime,
    limits: SendLimits = send_limits.DEFAULT_LIMITS,
    client: str | None = None,
) -> Issued:
    """`client`: the client's network address where the channel knows it (the web chat's IP);
    only its keyed hash is stored. Elsewhere the chat is the client."""
    if kind == "phone" and not send_limits.sms_country_allowed(limits, destination):
        return await _refuse(session, Refusal.SMS_COUNTRY, 0)
    bidx = blind_index(cipher.ring, kind, destination)
    chat_key = _chat_reference(cipher, chat_key)
    client_bidx = send_limits.client_index(cipher.ring, client)
    # Count and write as one, so two chats racing cannot both take the last place.
    await audit.hold_chain(session)
    lock = await lockout.active_lock(session, bidx, now)
    if lock is not None:
        wait = send_limits.wait_seconds(lock.locked_until - now)
        return await _refuse(session, Refusal.CONTACT_LOCKED, wait, until=lock.locked_until)
    refusal = (
        await _pacing(session, bidx, now)
        or await _scopes(session, limits, bidx, chat_key, client_bidx, now)
        or (await _sms_budget(session, cipher, limits, now) if kind == "phone" else None)
    )
    if refusal is not None:
        return await _refuse(session, *refusal)

    # A resend kills this chat's earlier live code for the destination: only the newest one works.
    # (Another chat asking for the same destination does not kill this chat's code; the send
    # limits above stay per destination so that nobody can flood a person with codes.)
    await session.execute(
        update(OtpChallenge)
        .where(
            OtpChallenge.destination_bidx == bidx,
            OtpChallenge.chat_key == chat_key,
            OtpChallenge.closed_at.is_(None),
        )
        .values(closed_at=now, closed_reason="replaced")
    )
    challenge_id = new_id()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(
        OtpChallenge(
            id=challenge_id,
            purpose=purpose,
            destination_kind=kind,
            destination_bidx=bidx,
            chat_key=chat_key,
            client_bidx=client_bidx,
            code_digest=otp_digest(cipher.ring, challenge_id, code),
            created_at=now,
            expires_at=now + TTL,
        )
    )
    await audit.record(session, actor=None, action="otp_send", resource_type="otp", resource_id=challenge_id)
    return Issued(code=code)


async def _pacing(session: AsyncSession, bidx: str, now: datetime) -> tuple[Refusal, int] | None:
    """Per destination: 60 s between codes, at most 3 per 15 minutes, whoever asks."""
    recent = (
        await session.scalars(
            select(OtpChallenge.created_at)
            .where(OtpChallenge.destination_bidx == bidx, OtpChallenge.created_at > now - SEND_WINDOW)
            .order_by(OtpChallenge.created_at.desc())
        )
    ).all()
    if recent and now - recent[0] < RESEND_COOLDOWN:
        return Refusal.COOLDOWN, send_limits.wait_seconds(RESEND_COOLDOWN - (now - recent[0]))
    if len(recent) >= MAX_SENDS_PER_WINDOW:
        return Refusal.TOO_MANY, send_limits.wait_seconds(SEND_WINDOW - (now - recent[-1]))
    return None


async def _scopes(
    session: AsyncSession,
    limits: SendLimits,
    bidx: str,
    chat_key: str,
    client_bidx: str | None,
    now: datetime,
) -> tuple[Refusal, int] | None:
    """Per chat and per client address: codes for at most a few distinct contacts in 24 h."""
    scopes = [OtpChallenge.chat_key == chat_key]
    if client_bidx is not None:
        scopes.append(OtpChallenge.client_bidx == client_bidx)
    for scope in scopes:
        wait = await send_limits.destinations_wait(session, scope, bidx, now, limits.destinations_per_day)
        if wait is not None:
            return Refusal.DESTINATIONS, wait
    return None


async def _sms_budget(
    session: AsyncSession, cipher: FieldCipher, limits: SendLimits, now: datetime
) -> tuple[Refusal, int] | None:
    """This hour's SMS budget; when it is spent, every admin hears of it (once an hour)."""
    wait = await send_limits.sms_budget_wait(session, limits, now)
    if wait is None:
        return None
    await send_limits.alert_budget_spent(session, cipher, limits, now)
    return Refusal.SMS_BUDGET, wait


async def _refuse(
    session: AsyncSession, reason: Refusal, retry_after: int, until: datetime | None = None
) -> Issued:
    await audit.record(
        session, actor=None, action="otp_send", resource_type="otp", outcome=f"refused_{reason.value}"
    )
    return Issued(code=None, retry_after=retry_after, refused=reason, until=until)


async def verify(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    purpose: str,
    kind: str,
    destination: str,
    chat_key: str,
    code: str,
    now: datetime,
    external_check: Callable[[], Awaitable[bool]] | None = None,
) -> Verified:
    """`external_check`: the delivery service checks the code (Twilio Verify). It is asked only
    for a live challenge of a contact that is not locked, so expiry, attempts and locking stay
    ours."""
    bidx = blind_index(cipher.ring, kind, destination)
    chat_key = _chat_reference(cipher, chat_key)
    lock = await lockout.active_lock(session, bidx, now)
    challenge = None
    if lock is None:
        challenge = await session.scalar(
            select(OtpChallenge)
            .where(*_where(purpose, bidx, chat_key))
            .order_by(OtpChallenge.created_at.desc())
            .limit(1)
            .with_for_update()
        )
        result = await _check(cipher, challenge, code.strip(), now, external_check)
        if result.outcome in (VerifyOutcome.WRONG, VerifyOutcome.LOCKED):
            # Taken only now, not around the external check (a network call).
            await audit.hold_chain(session)
            lock = await lockout.lock_if_guessed(
                session, cipher, kind=kind, destination=destination, bidx=bidx, now=now
            )
    if lock is not None:
        if challenge is not None and challenge.closed_at is None:
            challenge.closed_at, challenge.closed_reason = now, "contact_locked"
        result = Verified(VerifyOutcome.CONTACT_LOCKED, locked_until=lock.locked_until)
    await audit.record(
        session,
        actor=None,
        action="otp_verify",
        resource_type="otp",
        resource_id=challenge.id if challenge else None,
        outcome=result.outcome.value,
    )
    return result


async def _check(
    cipher: FieldCipher,
    challenge: OtpChallenge | None,
    code: str,
    now: datetime,
    external_check: Callable[[], Awaitable[bool]] | None,
) -> Verified:
    if challenge is None:
        return Verified(VerifyOutcome.NONE)
    if now >= challenge.expires_at:
        challenge.closed_at, challenge.closed_reason = now, "expired"
        return Verified(VerifyOutcome.EXPIRED)
    if external_check is not None:
        matched = await external_check()
    else:
        matched = hmac.compare_digest(challenge.code_digest, otp_digest(cipher.ring, challenge.id, code))
    if matched:
        challenge.closed_at, challenge.closed_reason = now, "verified"
        return Verified(VerifyOutcome.OK)
    challenge.attempts += 1
    if challenge.attempts >= MAX_ATTEMPTS:
        challenge.closed_at, challenge.closed_reason = now, "locked"
        return Verified(VerifyOutcome.LOCKED)
    return Verified(VerifyOutcome.WRONG, attempts_left=MAX_ATTEMPTS - challenge.attempts)
