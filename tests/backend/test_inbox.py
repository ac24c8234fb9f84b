"""The store-first inbox writer: rows committed before the caller is told, redeliveries refused,
concurrent writes grouped into few transactions, failures reported to every waiter."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, select

from backend.inbox import InboxWriter
from backend.models import InboxMessage


async def _rows(sessions) -> list[InboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(InboxMessage).order_by(InboxMessage.platform_id))).all())


async def test_a_stored_update_is_committed_encrypted_and_unprocessed(sessions, cipher):
    writer = InboxWriter(sessions, cipher)
    try:
        assert await writer.store("telegram", "update:1", '{"update_id": 1, "text": "chest pain"}')
    finally:
        await writer.close()
    (row,) = await _rows(sessions)
    assert (row.channel, row.platform_id, row.processed_at) == ("telegram", "update:1", None)
    assert b"chest pain" not in row.payload_enc
    assert "chest pain" in cipher.decrypt("inbox_messages", "payload", row.id, row.payload_enc)


async def test_a_redelivery_is_refused_whether_in_a_later_batch_or_the_same_one(sessions, cipher):
    writer = InboxWriter(sessions, cipher)
    try:
        assert await writer.store("telegram", "update:7", "{}")
        assert not await writer.store("telegram", "update:7", "{}"), "stored before"
        same_batch = await asyncio.gather(
            writer.store("telegram", "update:8", "{}"), writer.store("telegram", "update:8", "{}")
        )
        assert sorted(same_batch) == [False, True]
        assert await writer.store("whatsapp", "update:7", "{}"), "another channel's id space"
    finally:
        await writer.close()
    assert sorted((r.channel, r.platform_id) for r in await _rows(sessions)) == [
        ("telegram", "update:7"),
        ("telegram", "update:8"),
        ("whatsapp", "update:7"),
    ]


async def test_concurrent_updates_share_transactions(sessions, cipher):
    commits = []
    event.listen(sessions.kw["bind"].sync_engine, "commit", lambda _conn: commits.append(1))
    writer = InboxWriter(sessions, cipher)
    try:
        results = await asyncio.gather(*(writer.store("telegram", f"u:{n}", "{}") for n in range(300)))
    finally:
        await writer.close()
    assert all(results)
    assert len(await _rows(sessions)) == 300
    assert len(commits) < 30, f"{len(commits)} transactions for 300 concurrent updates"


async def test_a_failed_write_reaches_every_waiter_and_the_writer_goes_on(sessions, cipher, monkeypatch):
    writer = InboxWriter(sessions, cipher)
    broken = RuntimeError("database away")

    async def fail(_batch):
        raise broken

    try:
        monkeypatch.setattr(writer, "_write", fail)
        outcomes = await asyncio.gather(
            *(writer.store("telegram", f"u:{n}", "{}") for n in range(3)), return_exceptions=True
        )
        assert outcomes == [broken, broken, broken]
        monkeypatch.undo()
        assert await writer.store("telegram", "u:0", "{}"), "nothing was stored by the failed batch"
    finally:
        await writer.close()
    assert [r.platform_id for r in await _rows(sessions)] == ["u:0"]


async def test_long_platform_ids_are_cut_to_the_column(sessions, cipher):
    writer = InboxWriter(sessions, cipher)
    try:
        assert await writer.store("telegram", "x" * 500, "{}")
        assert not await writer.store("telegram", "x" * 400, "{}"), "same first 128 characters"
    finally:
        await writer.close()
    (row,) = await _rows(sessions)
    assert row.platform_id == "x" * 128


async def test_a_closed_writer_starts_again_when_used(sessions, cipher):
    writer = InboxWriter(sessions, cipher)
    assert await writer.store("telegram", "before", "{}")
    await writer.close()
    assert await writer.store("telegram", "after", "{}")
    await writer.close()
    assert [r.platform_id for r in await _rows(sessions)] == ["after", "before"]
