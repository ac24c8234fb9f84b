"""One-time passwords: issue and verify, with the rules of the security reference (REQ-4.x).

- 6 digits from `secrets`, stored only as an HMAC keyed by the OTP key, bound to the challenge id;
- valid 5 minutes, once, for one purpose, one destination and one chat;
- 5 wrong tries lock the challenge; a resend replaces (kills) the previous code;
- 60 s between sends and at most 3 sends per 15 minutes per destination.
The answers never reveal whether the destination belongs to an account."""

from __future__ import annotations

import enum
import hmac
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.crypto import FieldCipher, blind_index, otp_digest
from backend.models import OtpChallenge, new_id

CODE_DIGITS = 6
TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_COOLDOWN = timedelta(seconds=60)
SEND_WINDOW = timedelta(minutes=15)
MAX_SENDS_PER_WINDOW = 3


@dataclass(frozen=True)
class Issued:
    code: str | None  # the code to deliver; None when refused
    retry_after: int = 0  # seconds to wait when refused
    refused: str | None = None  # "cooldown" | "too_many"


class VerifyOutcome(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"  # too many wrong tries: ask for a new code
    EXPIRED = "expired"
    NONE = "none"  # no live challenge for this chat/purpose/destination


@dataclass(frozen=True)
class Verified:
    outcome: VerifyOutcome
    attempts_left: int = 0


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
) -> Issued:
    bidx = blind_index(cipher.ring, kind, destination)
    chat_key = _chat_reference(cipher, chat_key)
    recent = (
        await session.scalars(
            select(OtpChallenge.created_at)
            .where(OtpChallenge.destination_bidx == bidx, OtpChallenge.created_at > now - SEND_WINDOW)
            .order_by(OtpChallenge.created_at.desc())
        )
    ).all()
    if recent and now - recent[0] < RESEND_COOLDOWN:
        wait = RESEND_COOLDOWN - (now - recent[0])
        return await _refuse(session, "cooldown", math.ceil(wait.total_seconds()))
    if len(recent) >= MAX_SENDS_PER_WINDOW:
        wait = SEND_WINDOW - (now - recent[-1])
        return await _refuse(session, "too_many", math.ceil(wait.total_seconds()))

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
            code_digest=otp_digest(cipher.ring, challenge_id, code),
            created_at=now,
            expires_at=now + TTL,
        )
    )
    await audit.record(session, actor=None, action="otp_send", resource_type="otp", resource_id=challenge_id)
    return Issued(code=code)


async def _refuse(session: AsyncSession, reason: str, retry_after: int) -> Issued:
    await audit.record(
        session, actor=None, action="otp_send", resource_type="otp", outcome=f"refused_{reason}"
    )
    return Issued(code=None, retry_after=retry_after, refused=reason)


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
    for a live challenge, so expiry, attempts and locking stay ours."""
    bidx = blind_index(cipher.ring, kind, destination)
    chat_key = _chat_reference(cipher, chat_key)
    challenge = await session.scalar(
        select(OtpChallenge)
        .where(*_where(purpose, bidx, chat_key))
        .order_by(OtpChallenge.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    result = await _check(cipher, challenge, code.strip(), now, external_check)
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
