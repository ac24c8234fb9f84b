"""Append-only, hash-chained audit entries.

Each entry's hash covers its own fields and the previous entry's hash, so editing, deleting or
reordering any row breaks the chain from that row on; `verify_chain` finds the first break.
Entries carry ids, roles and outcomes, never health data, OTPs or tokens."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import Actor
from backend.models import AuditEntry, new_id, utcnow

GENESIS = "0" * 64
_CHAIN_LOCK_KEY = 727_001  # PostgreSQL advisory lock that serialises appends to the chain


def _digest(entry: AuditEntry) -> str:
    fields = {
        "seq": entry.seq,
        "event_id": entry.event_id,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "channel": entry.channel,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "patient_id": entry.patient_id,
        "outcome": entry.outcome,
        "purpose": entry.purpose,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def hold_chain(session: AsyncSession) -> None:
    """Wait for, and hold until the transaction ends, the lock that serialises appends to the
    chain (PostgreSQL; SQLite serialises its writers anyway). A service that must count and then
    write atomically (backend.otp's limits) takes it first: every such transaction appends an
    entry anyway, and one lock taken in one order cannot deadlock with the audit's own."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


async def record(
    session: AsyncSession,
    *,
    actor: Actor | None,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    patient_id: str | None = None,
    outcome: str = "success",
    purpose: str | None = None,
    channel: str | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits or rolls back with the change)."""
    await hold_chain(session)
    last = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).first()
    entry = AuditEntry(
        seq=(last.seq + 1) if last else 1,
        event_id=new_id(),
        # Microsecond precision survives both databases, so the hash can be recomputed on read.
        at=utcnow(),
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role.value if actor else None,
        channel=channel,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient_id,
        outcome=outcome,
        purpose=purpose,
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = _digest(entry)
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_bad_seq: int | None
    reason: str | None
    head_hash: str = GENESIS  # the last entry's hash: note it, and `verify --expect` proves later
    # that the chain still contains it (deleting the newest entries is otherwise invisible)

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


async def verify_chain(session: AsyncSession, batch: int = 1000) -> ChainReport:
    expected_prev, expected_seq, count = GENESIS, 1, 0
    total = await session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    while count < total:
        rows = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.seq >= expected_seq).order_by(AuditEntry.seq).limit(batch)
            )
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return ChainReport(count, expected_seq, "an entry is missing")
            if entry.prev_hash != expected_prev:
                return ChainReport(count, entry.seq, "does not link to the previous entry")
            if _digest(entry) != entry.hash:
                return ChainReport(count, entry.seq, "its contents were changed")
            expected_prev, expected_seq, count = entry.hash, entry.seq + 1, count + 1
    if count != total:
        return ChainReport(count, expected_seq, "entries out of sequence")
    return ChainReport(count, None, None, head_hash=expected_prev)


async def hash_at(session: AsyncSession, seq: int) -> str | None:
    return await session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
