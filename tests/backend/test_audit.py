"""The append-only audit log chained with a keyed MAC, on SQLite and PostgreSQL. Heads
published outside the database: tests/backend/test_audit_heads.py."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from backend import audit
from backend.access import Actor
from backend.crypto import KeyRing
from backend.db import create_sessionmaker
from backend.models import AuditEntry, Role

ACTOR = Actor("u-patient-1", Role.PATIENT)


async def _record_n(sessions, n: int) -> None:
    async with sessions() as session, session.begin():
        for i in range(n):
            await audit.record(
                session,
                actor=ACTOR if i % 2 else None,
                action="read",
                resource_type="patient_profile",
                resource_id=f"r{i}",
                patient_id=ACTOR.user_id,
                purpose="view_profile",
                channel="web",
            )


async def _entries(sessions) -> list[AuditEntry]:
    async with sessions() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())


async def _verify(sessions) -> audit.ChainReport:
    async with sessions() as session:
        return await audit.verify_chain(session)


def _drop_triggers(session):
    if session.bind.dialect.name == "sqlite":
        statements = ["DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_entries_no_delete"]
    else:
        statements = ["DROP TRIGGER audit_entries_no_change ON audit_entries"]
    return [text(s) for s in statements]


async def test_record_chains_entries(sessions) -> None:
    await _record_n(sessions, 5)
    entries = await _entries(sessions)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == audit.GENESIS
    for previous, entry in itertools.pairwise(entries):
        assert entry.prev_hash == previous.hash
    assert len({e.hash for e in entries}) == 5
    assert len({e.event_id for e in entries}) == 5
    assert entries[1].actor_id == ACTOR.user_id and entries[1].actor_role == "patient"
    assert entries[0].actor_id is None and entries[0].actor_role is None
    assert all(e.outcome == "success" for e in entries)


async def test_chain_continues_across_transactions(sessions) -> None:
    await _record_n(sessions, 2)
    await _record_n(sessions, 3)
    entries = await _entries(sessions)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[2].prev_hash == entries[1].hash
    assert (await _verify(sessions)).ok


async def test_rolled_back_entry_leaves_no_gap(sessions) -> None:
    await _record_n(sessions, 2)
    async with sessions() as session:
        await audit.record(session, actor=None, action="x", resource_type="y")
        await session.rollback()
    await _record_n(sessions, 1)
    assert [e.seq for e in await _entries(sessions)] == [1, 2, 3]
    assert (await _verify(sessions)).ok


async def test_verify_chain_ok_on_intact_and_empty_chain(sessions) -> None:
    report = await _verify(sessions)
    assert report.ok and report.entries == 0
    assert report.head_hash == audit.GENESIS
    await _record_n(sessions, 7)
    report = await _verify(sessions)
    assert (report.entries, report.first_bad_seq, report.reason) == (7, None, None)
    assert report.ok
    assert report.head_hash == (await _entries(sessions))[-1].hash


async def test_verify_chain_works_across_batches(sessions) -> None:
    await _record_n(sessions, 7)
    async with sessions() as session:
        report = await audit.verify_chain(session, batch=2)
    assert report.ok and report.entries == 7


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET outcome = 'denied' WHERE seq = 2",
        "UPDATE audit_entries SET hash = prev_hash",
        "DELETE FROM audit_entries WHERE seq = 2",
        "DELETE FROM audit_entries",
    ],
)
async def test_database_refuses_update_and_delete(sessions, statement: str) -> None:
    await _record_n(sessions, 3)
    before = [(e.seq, e.outcome, e.hash) for e in await _entries(sessions)]
    with pytest.raises(DBAPIError, match="append-only"):
        async with sessions() as session, session.begin():
            await session.execute(text(statement))
    assert [(e.seq, e.outcome, e.hash) for e in await _entries(sessions)] == before


async def test_orm_update_is_refused_too(sessions) -> None:
    await _record_n(sessions, 2)
    with pytest.raises(DBAPIError, match="append-only"):
        async with sessions() as session, session.begin():
            entry = await session.get(AuditEntry, 1)
            entry.outcome = "denied"
    assert (await _entries(sessions))[0].outcome == "success"


async def test_edited_row_is_detected_after_dropping_the_trigger(sessions) -> None:
    await _record_n(sessions, 5)
    # Everything happens in one transaction that is rolled back, so the trigger comes back
    # (PostgreSQL's schema is shared by the whole test run; DDL is transactional on both).
    async with sessions() as session:
        for statement in _drop_triggers(session):
            await session.execute(statement)
        await session.execute(text("UPDATE audit_entries SET outcome = 'denied' WHERE seq = 3"))
        report = await audit.verify_chain(session)
        assert not report.ok
        assert report.first_bad_seq == 3
        assert report.reason == "its contents were changed"
        assert report.entries == 2
        await session.rollback()
    assert (await _verify(sessions)).ok


async def test_edit_with_recomputed_hash_breaks_the_next_link(sessions) -> None:
    await _record_n(sessions, 5)
    async with sessions() as session:
        for statement in _drop_triggers(session):
            await session.execute(statement)
        entry = await session.get(AuditEntry, 3)
        entry.outcome = "denied"
        # Even a forger holding the key who fixes this row's link…
        entry.hash = audit.link(audit.key_ring_of(session).audit_mac_key(entry.key_id), entry)
        await session.flush()
        report = await audit.verify_chain(session)
        assert report.first_bad_seq == 4  # …but the next entry still points at the old one
        assert report.reason == "does not link to the previous entry"
        await session.rollback()


def _plain_sha256(entry: AuditEntry) -> str:
    """How links were computed before the chain was keyed: anyone could do it again."""
    fields = {
        name: getattr(entry, name)
        for name in (
            "seq", "event_id", "actor_id", "actor_role", "channel", "action", "resource_type",
            "resource_id", "patient_id", "outcome", "purpose", "prev_hash",
        )
    }  # fmt: skip
    fields["at"] = entry.at.isoformat()
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


async def _forge(session, seq: int, relink) -> None:
    """Change entry `seq`, then recompute its link and every link after it with `relink`, the
    way someone who can write the database would cover their tracks."""
    for statement in _drop_triggers(session):
        await session.execute(statement)
    entries = (
        await session.scalars(select(AuditEntry).where(AuditEntry.seq >= seq).order_by(AuditEntry.seq))
    ).all()
    entries[0].outcome = "denied"
    previous = (await session.get(AuditEntry, seq - 1)).hash
    for entry in entries:
        entry.prev_hash = previous
        relink(entry)
        previous = entry.hash
    await session.flush()


async def test_a_row_rewritten_with_the_plain_hashes_recomputed_after_it_is_detected(sessions) -> None:
    await _record_n(sessions, 5)
    async with sessions() as session:

        def plain(entry: AuditEntry) -> None:
            entry.hash = _plain_sha256(entry)

        await _forge(session, 3, plain)
        report = await audit.verify_chain(session)
        assert (report.first_bad_seq, report.reason) == (3, "its contents were changed")
        await session.rollback()


async def test_a_row_rewritten_as_if_sealed_before_keys_is_detected(sessions) -> None:
    await _record_n(sessions, 5)
    async with sessions() as session:

        def unkeyed(entry: AuditEntry) -> None:
            entry.key_id = None
            entry.hash = _plain_sha256(entry)

        await _forge(session, 2, unkeyed)
        report = await audit.verify_chain(session)
        assert (report.first_bad_seq, report.reason) == (2, "it is not sealed with a key")
        await session.rollback()


async def test_a_chain_recomputed_with_a_wrong_key_is_detected(sessions, key_ring) -> None:
    await _record_n(sessions, 5)
    wrong = KeyRing.generate()  # a key the forger made up, under the same key id
    wrong.keys = {key_ring.active: wrong.keys["k1"]}
    wrong.active = key_ring.active
    async with sessions() as session:

        def rekeyed(entry: AuditEntry) -> None:
            entry.hash = audit.link(wrong.audit_mac_key(entry.key_id), entry)

        await _forge(session, 4, rekeyed)
        report = await audit.verify_chain(session)
        assert (report.first_bad_seq, report.reason) == (4, "its contents were changed")
        await session.rollback()


async def test_the_link_is_an_hmac_under_a_key_derived_for_the_audit_chain(sessions, key_ring) -> None:
    await _record_n(sessions, 1)
    [entry] = await _entries(sessions)
    assert entry.key_id == key_ring.active
    mac_key = key_ring.audit_mac_key(entry.key_id)
    assert mac_key not in key_ring.keys.values()  # the encryption key never serves two purposes
    assert entry.hash == audit.link(mac_key, entry) != _plain_sha256(entry)


async def test_recording_without_a_key_ring_is_refused(sessions) -> None:
    keyless = create_sessionmaker(sessions.kw["bind"])
    async with keyless() as session, session.begin():
        with pytest.raises(audit.AuditKeyMissing):
            await audit.record(session, actor=None, action="read", resource_type="x")
    assert await _entries(sessions) == []


async def test_rotation_seals_new_entries_with_the_new_key_and_old_ones_still_verify(sessions) -> None:
    ring = KeyRing.generate()
    keyed = create_sessionmaker(sessions.kw["bind"], ring)
    await _record_n(keyed, 2)
    ring.add_key()
    await _record_n(keyed, 2)
    assert [e.key_id for e in await _entries(sessions)] == ["k1", "k1", "k2", "k2"]
    assert (await _verify(keyed)).ok

    ring.retire("k1", keep_audit_mac=True)  # as `keys retire` does while entries name k1
    reloaded = KeyRing.from_json(ring.to_json())
    assert set(reloaded.keys) == {"k2"} and set(reloaded.audit_keys) == {"k1"}
    report = await _verify(create_sessionmaker(sessions.kw["bind"], reloaded))
    assert report.ok and report.entries == 4

    reloaded.audit_keys.clear()  # a ring that lost the old audit key cannot vouch for those entries
    report = await _verify(create_sessionmaker(sessions.kw["bind"], reloaded))
    assert (report.first_bad_seq, report.reason) == (1, "it names key k1, which the key ring does not hold")


async def test_deleted_middle_row_is_detected(sessions) -> None:
    await _record_n(sessions, 5)
    async with sessions() as session:
        for statement in _drop_triggers(session):
            await session.execute(statement)
        await session.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
        report = await audit.verify_chain(session)
        assert not report.ok
        assert report.first_bad_seq == 3
        assert report.reason == "an entry is missing"
        await session.rollback()


async def test_deleting_the_newest_entries_is_caught_only_by_the_noted_head(sessions) -> None:
    """A hash chain cannot see its own truncation; the head hash noted earlier can."""
    await _record_n(sessions, 5)
    noted = await _verify(sessions)
    async with sessions() as session:
        for statement in _drop_triggers(session):
            await session.execute(statement)
        await session.execute(text("DELETE FROM audit_entries WHERE seq >= 4"))
        report = await audit.verify_chain(session)
        assert report.ok and report.entries == 3  # the shorter chain is internally consistent…
        assert report.head_hash != noted.head_hash  # …but its head moved
        assert await audit.hash_at(session, noted.entries) is None  # and the noted entry is gone
        await session.rollback()
    async with sessions() as session:
        assert await audit.hash_at(session, noted.entries) == noted.head_hash


async def test_anchors_catch_truncation_below_them_and_a_rewritten_entry(sessions) -> None:
    await _record_n(sessions, 5)
    noted = await _verify(sessions)
    head = audit.Anchor(noted.head_seq, noted.head_hash, "the head published at T")
    async with sessions() as session:
        report = await audit.verify_chain(session, anchors=[head])
        assert report.ok and report.anchors_checked == 1
        for statement in _drop_triggers(session):
            await session.execute(statement)
        await session.execute(text("DELETE FROM audit_entries WHERE seq >= 4"))
        report = await audit.verify_chain(session, anchors=[head])
        assert (report.first_bad_seq, report.entries) == (5, 3)
        assert report.reason == "it is gone, yet the head published at T holds it: entries were removed"
        await session.rollback()
    wrong = audit.Anchor(3, "f" * 64, "the entry noted with --expect")
    async with sessions() as session:
        report = await audit.verify_chain(session, anchors=[head, wrong])
        assert report.first_bad_seq == 3
        assert report.reason == "it differs from the entry noted with --expect: the chain was rewritten"


async def test_verify_since_an_anchor_walks_only_the_entries_after_it(sessions) -> None:
    await _record_n(sessions, 3)
    noted = await _verify(sessions)
    await _record_n(sessions, 4)
    since = audit.Anchor(noted.head_seq, noted.head_hash, "the last published head")
    async with sessions() as session:
        report = await audit.verify_chain(session, since=since, batch=2)
        assert report.ok and report.entries == 4 and report.head_seq == 7
        moved = audit.Anchor(3, "e" * 64, "the last published head")
        report = await audit.verify_chain(session, since=moved)
        assert (report.first_bad_seq, report.entries) == (3, 0)
        assert "the chain was rewritten" in report.reason


async def test_trigger_is_back_after_the_tamper_tests(sessions) -> None:
    """Guards the rollback trick above: the append-only trigger must survive it."""
    await _record_n(sessions, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        async with sessions() as session, session.begin():
            await session.execute(text("DELETE FROM audit_entries"))


async def test_concurrent_records_from_20_transactions_form_one_chain(sessions) -> None:
    async def one(i: int) -> int:
        async with sessions() as session, session.begin():
            entry = await audit.record(
                session, actor=Actor(f"user-{i}", Role.PATIENT), action="read", resource_type="x"
            )
            # More round trips inside the transaction widen the window for a lost update.
            await session.execute(text("SELECT 1"))
            await session.scalar(select(func.count()).select_from(AuditEntry))
            return entry.seq

    seqs = await asyncio.gather(*(one(i) for i in range(20)))
    assert sorted(seqs) == list(range(1, 21))
    entries = await _entries(sessions)
    assert len(entries) == 20
    assert {e.actor_id for e in entries} == {f"user-{i}" for i in range(20)}
    report = await _verify(sessions)
    assert report.ok and report.entries == 20
