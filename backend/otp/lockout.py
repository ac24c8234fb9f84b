"""Wrong codes per contact, whatever the chat or challenge (NIST SP 800-63B §5.2.2).

Each challenge allows 5 tries and a contact gets at most 3 codes per 15 minutes, which still let
anyone guess about 60 times an hour, forever. So: 20 wrong codes for one contact within 24 hours
lock that contact for 24 hours — no codes are sent to it and none is accepted, in any chat. The
lock is audited, and the contact's owner, if it belongs to an account, is told on their chat
through the outbox. The person guessing hears the same whether or not the contact has an
account, so the lock tells them nothing. (A contact proven by the platform — a WhatsApp sender's
own number, a Telegram shared contact — needs no code and is not affected, so the owner can
still get in that way.)"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.accounts.contacts import mask
from backend.accounts.service import find_user_by_contact
from backend.crypto import FieldCipher
from backend.models import OtpChallenge, OtpContactLock, new_id
from backend.outbox import service as outbox

log = structlog.get_logger(__name__)

FAILURES_BEFORE_LOCK = 20
FAILURE_WINDOW = timedelta(hours=24)
LOCK_DURATION = timedelta(hours=24)
NOTICE_KIND = "security"  # not a kind a user can mute


async def active_lock(session: AsyncSession, bidx: str, now: datetime) -> OtpContactLock | None:
    return await session.scalar(
        select(OtpContactLock)
        .where(OtpContactLock.destination_bidx == bidx, OtpContactLock.locked_until > now)
        .order_by(OtpContactLock.locked_until.desc())
        .limit(1)
    )


async def failures_since(session: AsyncSession, bidx: str, since: datetime) -> int:
    """Wrong codes tried for this contact on challenges issued after `since` (a challenge lives
    5 minutes, so its tries fall within minutes of its issue)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(OtpChallenge.attempts), 0)).where(
            OtpChallenge.destination_bidx == bidx, OtpChallenge.created_at > since
        )
    )
    return int(total or 0)


async def lock_if_guessed(
    session: AsyncSession, cipher: FieldCipher, *, kind: str, destination: str, bidx: str, now: datetime
) -> OtpContactLock | None:
    """After a wrong code: the contact's lock, if it is (now) locked. The caller holds
    `audit.hold_chain`, so concurrent wrong codes create one lock, not several."""
    existing = await active_lock(session, bidx, now)
    if existing is not None:
        return existing
    failures = await failures_since(session, bidx, now - FAILURE_WINDOW)
    if failures < FAILURES_BEFORE_LOCK:
        return None
    lock = OtpContactLock(
        id=new_id(),
        destination_kind=kind,
        destination_bidx=bidx,
        locked_until=now + LOCK_DURATION,
        failures=failures,
        created_at=now,
    )
    session.add(lock)
    await audit.record(
        session, actor=None, action="otp_contact_lock", resource_type="otp_contact", resource_id=lock.id
    )
    log.warning("otp_contact_locked", destination=mask(kind, destination), failures=failures)
    await _tell_owner(session, cipher, lock, kind, destination)
    return lock


async def _tell_owner(
    session: AsyncSession, cipher: FieldCipher, lock: OtpContactLock, kind: str, destination: str
) -> None:
    owner = await find_user_by_contact(session, cipher, kind, destination)
    if owner is None or not owner.active:
        return
    await outbox.enqueue(
        session,
        cipher,
        key=f"otp_lock:{lock.id}",  # one notice per lock
        user_id=owner.id,
        template="otp_contact_locked",
        params={"contact": mask(kind, destination), "until_at": lock.locked_until.isoformat()},
        kind=NOTICE_KIND,
        urgent=True,  # someone is guessing at this person's codes now: told now, even at night
    )
