"""Append-only audit entries, chained with a keyed MAC.

Each entry's link (`hash`) is an HMAC-SHA256, under the audit MAC key of the key-ring key the
entry names (`key_id`), over the entry's canonical content and the previous entry's link. Editing,
deleting or reordering a row breaks the chain from that row on, and someone who can write the
database but does not hold the key ring cannot compute valid links again; `verify_chain` finds
the first break. The newest entries can still be cut off without a break; heads published outside
the database (`backend.audit_heads`) catch that. Entries carry ids, roles and outcomes, never
health data, OTPs or tokens.

The key ring travels with the session (`backend.db.create_sessionmaker(engine, key_ring)`), so
that each of the many callers appending in its own transaction need not carry it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import Actor
from backend.crypto import KeyRing
from backend.db import KEY_RING
from backend.models import AuditEntry, new_id, utcnow

GENESIS = "0" * 64
_CHAIN_LOCK_KEY = 727_001  # PostgreSQL advisory lock that serialises appends to the chain
_CONTENT = (
    "seq", "event_id", "actor_id", "actor_role", "channel", "action", "resource_type",
    "resource_id", "patient_id", "outcome", "purpose", "prev_hash", "key_id",
)  # fmt: skip


class AuditKeyMissing(RuntimeError):
    """The session has no key ring, so no entry can be sealed or checked."""


class AuditSealError(RuntimeError):
    """Entries sealed before the keyed chain cannot be re-sealed (no keys, or a broken chain)."""


def canonical(entry) -> bytes:
    """The bytes an entry's link covers: every field but the link itself, the previous link
    included. `entry` is a model or a row with the same attributes."""
    fields = {name: getattr(entry, name) for name in _CONTENT}
    # Microsecond precision survives both databases, so the link can be recomputed on read.
    fields["at"] = entry.at.isoformat()
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def link(mac_key: bytes, entry) -> str:
    return hmac.new(mac_key, canonical(entry), hashlib.sha256).hexdigest()


def key_ring_of(session: AsyncSession) -> KeyRing:
    ring = session.info.get(KEY_RING)
    if ring is None:
        raise AuditKeyMissing(
            "this session has no key ring: make it with create_sessionmaker(engine, key_ring)"
        )
    return ring


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
    """Append one entry in the caller's transaction (it commits or rolls back with the change),
    sealed with the key ring's active key."""
    ring = key_ring_of(session)
    await hold_chain(session)
    last = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).first()
    entry = AuditEntry(
        seq=(last.seq + 1) if last else 1,
        event_id=new_id(),
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
        key_id=ring.active,
    )
    entry.hash = link(ring.audit_mac_key(ring.active), entry)
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class Anchor:
    """A link known from outside the database: a published head, or one noted by hand."""

    seq: int
    link: str
    source: str  # said in the report when the chain no longer holds it


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_bad_seq: int | None
    reason: str | None
    head_hash: str = GENESIS  # the last entry's link
    head_seq: int = 0
    anchors_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def _fault(entry: AuditEntry, expected_prev: str, ring: KeyRing) -> str | None:
    if entry.prev_hash != expected_prev:
        return "does not link to the previous entry"
    if entry.key_id is None:
        return "it is not sealed with a key"
    mac_key = ring.audit_mac_key(entry.key_id)
    if mac_key is None:
        return f"it names key {entry.key_id}, which the key ring does not hold"
    if not hmac.compare_digest(link(mac_key, entry), entry.hash):
        return "its contents were changed"
    return None


async def verify_chain(
    session: AsyncSession, batch: int = 1000, anchors: Sequence[Anchor] = (), since: Anchor | None = None
) -> ChainReport:
    """Recompute every link with the session's key ring, and check that the chain still holds
    each anchor; reports the first fault. With `since`, only the entries after that anchor are
    walked (it must still hold), and `entries` counts those."""
    ring = key_ring_of(session)
    if any(anchor.seq < 1 for anchor in (*anchors, *([since] if since else []))):
        raise ValueError("anchors name entries from 1 on")
    if since is not None and await hash_at(session, since.seq) != since.link:
        return ChainReport(
            0, since.seq, f"it differs from {since.source}, or is gone: the chain was rewritten"
        )
    pending = sorted(
        (a for a in anchors if since is None or a.seq > since.seq), key=lambda anchor: anchor.seq
    )
    expected_prev, expected_seq = (since.link, since.seq + 1) if since else (GENESIS, 1)
    count = checked = 0
    total = await session.scalar(select(func.count()).where(AuditEntry.seq >= expected_seq)) or 0
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
            if (fault := _fault(entry, expected_prev, ring)) is not None:
                return ChainReport(count, entry.seq, fault)
            while pending and pending[0].seq == entry.seq:
                anchor = pending.pop(0)
                if not hmac.compare_digest(anchor.link, entry.hash):
                    return ChainReport(
                        count, entry.seq, f"it differs from {anchor.source}: the chain was rewritten"
                    )
                checked += 1
            expected_prev, expected_seq, count = entry.hash, entry.seq + 1, count + 1
    if count != total:
        return ChainReport(count, expected_seq, "entries out of sequence")
    if pending:
        anchor = pending[0]
        return ChainReport(
            count, anchor.seq, f"it is gone, yet {anchor.source} holds it: entries were removed"
        )
    return ChainReport(
        count, None, None, head_hash=expected_prev, head_seq=expected_seq - 1, anchors_checked=checked
    )


async def hash_at(session: AsyncSession, seq: int) -> str | None:
    return await session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
