"""The workers' side of the outbox: claim due rows, and record what became of them.

Claiming is one statement: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`.
On PostgreSQL any number of workers claim at once and never the same row; SQLite has no row
locks, but its writers are serialised (`BEGIN IMMEDIATE`, backend/db.py), so one claims at a
time. A claim is a lease: a worker that dies leaves its rows claimed until `claimed_until`, then
any worker takes them again (that counts as an attempt, so a message that kills workers ends up
dead instead of looping).

Delivery is at least once: a worker killed after a platform accepted a message but before its
"sent" was committed leaves that one message to be sent again. Results are committed as soon as
they come back (grouped only while the previous commit is still running) to keep that window small.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.crypto import FieldCipher
from backend.models import STATUS_RANK, OutboxMessage, OutboxStatus, Role, User, utcnow
from backend.outbox import service
from backend.outbox.service import WAITING, ActionButton

ADMIN_KIND = "admin"


async def claim_due(
    session: AsyncSession, worker: str, *, limit: int, lease: timedelta, now: datetime | None = None
) -> list[OutboxMessage]:
    now = now or utcnow()
    due = or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now),
        and_(OutboxMessage.status == OutboxStatus.CLAIMED, OutboxMessage.claimed_until < now),
    )
    ids = (
        select(OutboxMessage.id)
        .where(due)
        .order_by(OutboxMessage.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = await session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(
            # A claim that expired was a worker that died holding it: that was an attempt.
            attempts=case(
                (OutboxMessage.status == OutboxStatus.CLAIMED, OutboxMessage.attempts + 1),
                else_=OutboxMessage.attempts,
            ),
            status=OutboxStatus.CLAIMED,
            claimed_by=worker,
            claimed_until=now + lease,
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    rows = list(claimed.all())
    rows.sort(key=lambda row: row.due_at)
    return rows


async def renew(session: AsyncSession, worker: str, ids: list[str], until: datetime) -> None:
    """Extend this worker's claims on rows it still holds."""
    for start in range(0, len(ids), 500):
        await session.execute(
            update(OutboxMessage)
            .where(_held_by(worker), OutboxMessage.id.in_(ids[start : start + 500]))
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )


async def confirm(
    session: AsyncSession, worker: str, seen: list[tuple[str, datetime]], until: datetime
) -> set[str]:
    """Just before sending: which of these rows are still ours and unchanged since we claimed
    them (`seen`: id and updated_at at the claim) — not cancelled, not replaced by a new
    schedule, not taken by another worker. Extends their claims; returns their ids."""
    confirmed = await session.scalars(
        update(OutboxMessage)
        .where(_held_by(worker), tuple_(OutboxMessage.id, OutboxMessage.updated_at).in_(seen))
        .values(claimed_until=until)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return set(confirmed.all())


async def release(session: AsyncSession, worker: str, ids: list[str]) -> None:
    """Give back claimed rows this worker never started (it is stopping): not an attempt."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == OutboxStatus.CLAIMED,
            OutboxMessage.claimed_by == worker,
        )
        .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


@dataclass(slots=True)
class Result:
    """What became of one claimed row."""

    id: str
    status: OutboxStatus
    channel: str | None = None
    platform_message_id: str | None = None
    delivery_status: str | None = None
    due_at: datetime | None = None  # for a retry or a hold
    attempts: int | None = None
    tried_channels: str | None = None
    error: str | None = None


def retry_delay(attempt: int, base: float, cap: float = 3600.0) -> timedelta:
    """Exponential backoff with jitter: about base, 2·base, 4·base, … (each 50-100 % of it)."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return timedelta(seconds=ceiling * random.uniform(0.5, 1.0))


async def finish(session: AsyncSession, cipher: FieldCipher, worker: str, results: list[Result]) -> list[str]:
    """Record results of rows this worker still holds (a row cancelled, or re-claimed after our
    lease ran out, is left alone). Returns the ids that turned dead; their admins are alerted."""
    now = utcnow()
    sent = [r for r in results if r.status is OutboxStatus.SENT]
    if sent:  # the common case, in one round trip (executemany)
        await session.execute(_SENT, [_sent_params(r, worker, now) for r in sent])
    dead: list[str] = []
    for result in results:
        if result.status is OutboxStatus.SENT:
            continue
        values = {
            "status": result.status,
            "claimed_by": None,
            "claimed_until": None,
            "updated_at": now,
            "last_error": (result.error or None) and result.error[:200],
        }
        if result.due_at is not None:
            values["due_at"] = result.due_at
        if result.attempts is not None:
            values["attempts"] = result.attempts
        if result.tried_channels is not None:
            values["tried_channels"] = result.tried_channels
        changed = await session.execute(
            update(OutboxMessage)
            .where(_held_by(worker), OutboxMessage.id == result.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount and result.status is OutboxStatus.DEAD:
            dead.append(result.id)
    for row_id in dead:
        await alert_admins(session, cipher, row_id)
    return dead


def _held_by(worker):
    return and_(OutboxMessage.status == OutboxStatus.CLAIMED, OutboxMessage.claimed_by == worker)


_TABLE = OutboxMessage.__table__
_SENT = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("b_id"),
        _TABLE.c.status == OutboxStatus.CLAIMED.value,
        _TABLE.c.claimed_by == bindparam("b_worker"),
    )
    .values(
        status=OutboxStatus.SENT.value,
        claimed_by=None,
        claimed_until=None,
        last_error=None,
        updated_at=bindparam("b_now"),
        sent_at=bindparam("b_now"),
        channel=bindparam("b_channel"),
        platform_message_id=bindparam("b_platform_id"),
        delivery_status=bindparam("b_delivery"),
    )
)


def _sent_params(result: Result, worker: str, now: datetime) -> dict:
    return {
        "b_id": result.id,
        "b_worker": worker,
        "b_now": now,
        "b_channel": result.channel,
        "b_platform_id": result.platform_message_id,
        "b_delivery": result.delivery_status or "sent",
    }


async def alert_admins(session: AsyncSession, cipher: FieldCipher, row_id: str) -> int:
    """Tell every active admin about a dead letter, with Retry / Discard. An alert that itself
    dies is not alerted about (that would never end)."""
    row = await session.get(OutboxMessage, row_id)
    if row is None or row.kind == ADMIN_KIND:
        return 0
    admins = (await session.scalars(select(User.id).where(User.role == Role.ADMIN, User.active))).all()
    for admin_id in admins:
        await service.enqueue(
            session,
            cipher,
            # One alert per death: a message retried by an admin that dies again is told again.
            key=f"dead:{row.id}:{row.updated_at.timestamp():.6f}:{admin_id}",
            user_id=admin_id,
            template="dead_letter",
            params={"template": row.template, "attempts": row.attempts, "error": row.last_error or ""},
            kind=ADMIN_KIND,
            actions=(ActionButton("retry", "btn_retry"), ActionButton("discard", "btn_discard")),
            action="dead_letter",
            action_ref=row.id,
        )
    return len(admins)


async def retry_dead(session: AsyncSession, row_id: str) -> bool:
    """An admin's Retry: the dead message goes out again, from the first attempt (with new
    buttons, if it has any: the old ones may have expired)."""
    await service.forget_buttons(session, row_id)
    changed = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.DEAD)
        .values(
            status=OutboxStatus.PENDING,
            due_at=utcnow(),
            attempts=0,
            tried_channels="",
            expires_at=None,
            updated_at=utcnow(),
        )
    )
    return changed.rowcount > 0


async def discard_dead(session: AsyncSession, row_id: str) -> bool:
    changed = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.DROPPED, last_error="discarded by an admin", updated_at=utcnow())
    )
    return changed.rowcount > 0


async def delivery_report(
    session: AsyncSession, row_id: str, status: str, *, platform_id: str, failed_channel: str | None
) -> None:
    """A channel's later word on a sent message (e.g. a Twilio status callback). A failure of the
    send that counts (the row's current platform message, not an old or repeated report) sends
    the message again at once, on the user's next chat."""
    row = await session.get(OutboxMessage, row_id, with_for_update=True)
    if row is None or row.status is not OutboxStatus.SENT:
        return
    if failed_channel:
        if row.channel != failed_channel or row.platform_message_id != platform_id:
            return  # about an earlier send of this message: it has moved on
        tried = {c for c in row.tried_channels.split(",") if c} | {failed_channel}
        row.tried_channels = ",".join(sorted(tried))
        row.status = OutboxStatus.PENDING
        row.due_at = utcnow()
        row.channel = row.platform_message_id = None
        row.delivery_status = status
        row.updated_at = utcnow()
        return
    if STATUS_RANK.get(status, 0) <= STATUS_RANK.get(row.delivery_status or "", -1):
        return  # callbacks arrive out of order: "delivered" after "read" changes nothing
    row.delivery_status = status
    row.updated_at = utcnow()


async def follow_send(session: AsyncSession, row_id: str, channel: str, platform_id: str) -> None:
    """The message went again on the same channel under a new platform id (WhatsApp's template
    fallback): later reports are about that one."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.channel == channel,
        )
        .values(platform_message_id=platform_id, updated_at=utcnow())
    )


def _waiting(user_id: str):
    return and_(
        OutboxMessage.user_id == user_id,
        OutboxMessage.status == OutboxStatus.SENT,
        OutboxMessage.delivery_status == WAITING,
    )


async def waiting_for_web(
    session: AsyncSession, user_id: str, limit: int = 50, *, now: datetime | None = None
) -> list[OutboxMessage]:
    """What a web chat of this user shows as it opens: messages that waited for a closed web chat,
    or for any chat at all, oldest first."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(
            _waiting(user_id),
            # A reminder past its window is no use to anyone any more.
            or_(OutboxMessage.expires_at.is_(None), OutboxMessage.expires_at > (now or utcnow())),
        )
        .order_by(OutboxMessage.sent_at)
        .limit(limit)
    )
    return list(rows.all())


async def release_waiting(session: AsyncSession, user_id: str, *, due_at: datetime) -> int:
    """The user just wrote to us on a chat (Telegram, WhatsApp): what waited for them goes back
    to the queue, due now, to be sent by the dispatcher under its usual rules (that chat is
    reachable again; one past its window is dropped there, a muted kind too). Not an attempt.
    Returns how many."""
    released = await session.execute(
        update(OutboxMessage)
        .where(_waiting(user_id))
        .values(
            status=OutboxStatus.PENDING,
            due_at=due_at,
            channel=None,
            delivery_status=None,
            tried_channels="",
            sent_at=None,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return released.rowcount


async def dead_letters(session: AsyncSession, limit: int = 100) -> list[OutboxMessage]:
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DEAD)
        .order_by(OutboxMessage.updated_at.desc())
        .limit(limit)
    )
    return list(rows.all())
