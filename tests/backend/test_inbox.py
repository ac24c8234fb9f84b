"""The store-first inbox writer: rows committed before the caller is told, redeliveries refused,
concurrent writes grouped into few transactions, failures reported to every waiter."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, select

from backend import inbox
from backend.inbox import InboxWriter, Unstorable, payload_problem
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


async def test_a_payload_that_cannot_be_encoded_fails_alone_before_it_joins_a_batch(sessions, cipher):
    writer = InboxWriter(sessions, cipher)
    try:
        outcomes = await asyncio.gather(
            *(writer.store("telegram", f"u:{n}", '{"text": "fine"}') for n in range(5)),
            writer.store("telegram", "u:bad", '{"text": "\ud800"}'),
            *(writer.store("telegram", f"u:{n}", '{"text": "fine"}') for n in range(5, 10)),
            return_exceptions=True,
        )
    finally:
        await writer.close()
    assert outcomes[:5] == outcomes[6:] == [True] * 5
    assert isinstance(outcomes[5], Unstorable) and outcomes[5].reason == "lone_surrogate"
    assert len(await _rows(sessions)) == 10


async def test_a_batch_that_fails_is_written_row_by_row_so_only_the_bad_row_fails(
    sessions, cipher, monkeypatch
):
    writer = InboxWriter(sessions, cipher)
    real_write = writer._write
    bad = RuntimeError("this row breaks the insert")

    async def write(batch):
        if any(pending.row["platform_id"] == "u:bad" for pending in batch):
            raise bad
        return await real_write(batch)

    monkeypatch.setattr(writer, "_write", write)
    try:
        outcomes = await asyncio.gather(
            *(writer.store("telegram", f"u:{n}", "{}") for n in range(8)),
            writer.store("telegram", "u:bad", "{}"),
            writer.store("telegram", "u:0", "{}"),  # a redelivery in the same batch is still one
            return_exceptions=True,
        )
    finally:
        await writer.close()
    assert outcomes == [True] * 8 + [bad, False]
    assert len(await _rows(sessions)) == 8


async def test_failed_rows_are_finished_and_never_pending_again(sessions, cipher):
    writer = InboxWriter(sessions, cipher)
    try:
        assert await writer.store("telegram", "u:1", '{"update_id": 1}')
        assert await writer.store("telegram", "u:2", '{"update_id": 2}')
        assert await writer.store_failed("telegram", "u:3", "too_deep")
        assert not await writer.store_failed("telegram", "u:3", "too_deep"), "stored before"
        async with sessions() as session, session.begin():
            assert await inbox.fail(session, "telegram", "u:1", "malformed_update")
        async with sessions() as session, session.begin():
            assert not await inbox.fail(session, "telegram", "u:1", "engine_error"), "finished once"
        assert await writer.pending("telegram") == [{"update_id": 2}]
    finally:
        await writer.close()
    rows = {row.platform_id: row for row in await _rows(sessions)}
    assert (rows["u:1"].failure, rows["u:3"].failure, rows["u:2"].failure) == (
        "malformed_update",
        "too_deep",
        None,
    )
    assert rows["u:1"].payload_enc is None and rows["u:1"].processed_at is not None


async def test_a_processed_update_whose_answer_failed_keeps_the_reason_without_being_told_again(
    sessions, cipher
):
    writer = InboxWriter(sessions, cipher)
    try:
        assert await writer.store("telegram", "u:1", "{}")
    finally:
        await writer.close()
    async with sessions() as session, session.begin():
        assert await inbox.claim(session, "telegram", "u:1")
    async with sessions() as session, session.begin():
        assert not await inbox.fail(session, "telegram", "u:1", "delivery_error")
    (row,) = await _rows(sessions)
    assert row.failure == "delivery_error" and row.failed_at is not None


async def test_an_unreadable_stored_payload_is_finished_as_failed_instead_of_stopping_the_start(
    sessions, cipher
):
    writer = InboxWriter(sessions, cipher)
    try:
        assert await writer.store("telegram", "u:1", "{}")
        assert await writer.store("telegram", "u:2", "not json")
        async with sessions() as session, session.begin():
            row = await session.scalar(select(InboxMessage).where(InboxMessage.platform_id == "u:1"))
            row.payload_enc = b"garbage"
        assert await writer.pending("telegram") == []
        assert await writer.pending("telegram") == []
    finally:
        await writer.close()
    assert [row.failure for row in await _rows(sessions)] == ["unreadable_payload", "unreadable_payload"]


def test_payload_problems():
    assert payload_problem({"message": {"text": "ok", "entities": [{"type": "bold"}]}}) is None
    assert payload_problem({"text": "a\udc80b"}) == "lone_surrogate"
    assert payload_problem({"\ud800": 1}) == "lone_surrogate"
    nested: list = []
    deep = {"x": nested}
    for _ in range(5000):
        nested.append([])
        nested = nested[0]
    assert payload_problem(deep) == "too_deep"
