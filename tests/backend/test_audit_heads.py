"""The audit chain's head, published outside the database (an append-only 0600 file and the log),
and checked by verify; on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

from backend import audit, audit_heads, logs
from backend.payments.gateway import Gateways
from bot.housekeeping import Housekeeper
from tests.backend.test_audit import _drop_triggers, _record_n, _verify

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


async def _publish(sessions, path: Path, now: datetime = T0) -> audit_heads.Head | None:
    async with sessions() as session:
        return await audit_heads.publish(session, path, now=now)


async def test_publishing_appends_one_line_per_moved_head_to_a_0600_file(sessions, tmp_path) -> None:
    path = tmp_path / "heads" / "audit-heads.log"
    assert await _publish(sessions, path) is None  # an empty chain has no head to publish
    assert not path.exists()

    await _record_n(sessions, 3)
    first = await _publish(sessions, path)
    chain = await _verify(sessions)
    assert (first.seq, first.link, first.at) == (3, chain.head_hash, T0)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = path.read_bytes()

    assert await _publish(sessions, path, T0 + timedelta(minutes=5)) is None  # nothing new, nothing written
    assert path.read_bytes() == written

    await _record_n(sessions, 2)
    second = await _publish(sessions, path, T0 + timedelta(minutes=10))
    assert second.seq == 5
    assert path.read_bytes().startswith(written)  # the earlier line is untouched
    assert audit_heads.read_heads(path) == [first, second]
    assert audit_heads.last_published(path) == second


async def test_the_head_file_is_only_ever_opened_for_appending(sessions, tmp_path, monkeypatch) -> None:
    path = tmp_path / "audit-heads.log"
    path.write_text("")
    os.chmod(path, 0o644)  # made by hand, too open
    opened = []
    real_open = os.open

    def spy(file, flags, *args, **kwargs):
        if Path(file) == path:
            opened.append(flags)
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    await _record_n(sessions, 1)
    await _publish(sessions, path)
    await _record_n(sessions, 1)
    await _publish(sessions, path, T0 + timedelta(minutes=5))
    assert len(opened) == 2
    assert all(flags & os.O_APPEND and not flags & os.O_TRUNC and flags & os.O_WRONLY for flags in opened)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_the_head_is_logged_as_audit_head(sessions, tmp_path) -> None:
    await _record_n(sessions, 2)
    with capture_logs() as logs:
        head = await _publish(sessions, tmp_path / "h.log")
    [event] = [line for line in logs if line["event"] == "audit_head"]
    assert (event["seq"], event["audit_link"], event["audit_key_id"]) == (2, head.link, head.key_id)


def test_the_logged_head_survives_redaction_intact() -> None:
    """A link is hex and may hold a digit run that looks like a phone number; a `key_id` field
    would be redacted as a secret. The head's fields are left exactly as they are."""
    fields = {"event": "audit_head", "seq": 7, "audit_link": "9876543210" * 6 + "abcd", "audit_key_id": "k2"}
    assert logs.redact(None, "info", dict(fields)) == fields


async def test_verify_checks_every_published_head(sessions, tmp_path) -> None:
    path = tmp_path / "audit-heads.log"
    await _record_n(sessions, 3)
    await _publish(sessions, path)
    await _record_n(sessions, 3)
    await _publish(sessions, path, T0 + timedelta(minutes=5))
    anchors = [head.anchor() for head in audit_heads.read_heads(path)]
    async with sessions() as session:
        report = await audit.verify_chain(session, anchors=anchors)
        assert report.ok and report.anchors_checked == 2
        # Someone who can write the database cuts off the newest entries: what is left is a
        # valid chain, but no longer holds the last published head.
        for statement in _drop_triggers(session):
            await session.execute(statement)
        await session.execute(text("DELETE FROM audit_entries WHERE seq >= 5"))
        assert (await audit.verify_chain(session)).ok
        report = await audit.verify_chain(session, anchors=anchors)
        assert report.first_bad_seq == 6
        assert report.reason == (
            "it is gone, yet the head published at 2026-03-01T09:35:00+00:00 holds it: entries were removed"
        )
        await session.rollback()


async def test_a_chain_rewritten_since_the_last_head_is_not_published(sessions, tmp_path) -> None:
    path = tmp_path / "audit-heads.log"
    await _record_n(sessions, 3)
    await _publish(sessions, path)
    written = path.read_bytes()
    async with sessions() as session:
        for statement in _drop_triggers(session):
            await session.execute(statement)
        await session.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
        await audit.record(session, actor=None, action="read", resource_type="x")  # a new seq 3
        with capture_logs() as logs, pytest.raises(audit_heads.HeadFileError, match="entry 3"):
            await audit_heads.publish(session, path, now=T0 + timedelta(minutes=5))
        await session.rollback()
    assert [line["event"] for line in logs] == ["audit_head_refused"]
    assert path.read_bytes() == written


def test_a_damaged_head_file_is_reported(tmp_path) -> None:
    path = tmp_path / "audit-heads.log"
    path.write_text('{"at":"2026-03-01T09:30:00+00:00","seq":3,"link":"ab","key_id":"k1"}\n')
    with pytest.raises(audit_heads.HeadFileError, match="line 1"):
        audit_heads.read_heads(path)
    assert audit_heads.read_heads(tmp_path / "none.log") == []


async def test_the_housekeeper_publishes_at_its_interval_when_the_head_moved(
    sessions, cipher, settings, gateways
) -> None:
    settings = settings.model_copy(update={"audit_head_seconds": 300.0})
    keeper = Housekeeper(sessions, cipher, settings, Gateways(default=gateways.default))
    await _record_n(sessions, 2)
    await keeper.sweep_once(now=T0)
    await _record_n(sessions, 1)
    await keeper.sweep_once(now=T0 + timedelta(minutes=4))  # too soon
    assert [h.seq for h in audit_heads.read_heads(settings.audit_head_file)] == [2]
    await keeper.sweep_once(now=T0 + timedelta(minutes=5))
    await keeper.sweep_once(now=T0 + timedelta(minutes=10))  # due, but the head has not moved
    heads = audit_heads.read_heads(settings.audit_head_file)
    assert [(h.seq, h.at) for h in heads] == [(2, T0), (3, T0 + timedelta(minutes=5))]


async def test_a_head_file_that_cannot_be_written_does_not_stop_the_sweep(
    sessions, cipher, settings, gateways, tmp_path
) -> None:
    (tmp_path / "a-file").write_text("")
    unwritable = tmp_path / "a-file" / "heads.log"  # its "folder" is a file (as root, modes won't do)
    settings = settings.model_copy(update={"audit_head_seconds": 300.0, "audit_head_file": unwritable})
    keeper = Housekeeper(sessions, cipher, settings, Gateways(default=gateways.default))
    await _record_n(sessions, 1)
    with capture_logs() as logged:
        await keeper.sweep_once(now=T0)  # does not raise: the rest of the sweep has run
    assert [e["event"] for e in logged if e["event"].startswith("audit_head")] == ["audit_head_failed"]
