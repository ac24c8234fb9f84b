"""Store-first inbox writes with group commit, and updates finished as failed.

A channel whose platform must be answered before the work is done (Telegram webhooks, Twilio)
stores each update encrypted in `inbox_messages` and only then acknowledges it. Under load one
transaction per update makes every webhook wait for a database connection (and, on SQLite, for
the file's single write lock) behind the background processing. So writes are queued, and one
writer task stores everything queued so far in a single INSERT … ON CONFLICT DO NOTHING
RETURNING, then tells each waiting request whether its row was new. A batch is as large as what
arrived while the previous one was being written, so an idle server still writes at once.

One bad update must never fail the others written with it: a payload is checked and encrypted
before it is queued (a lone surrogate cannot be encoded), and a batch whose insert fails anyway
is written again row by row, so only the row at fault fails.

An update that cannot be handled is finished as failed (`fail`): a reason code from `REASONS`
(never its content), its payload dropped, never picked up again by `pending`.
"""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.crypto import DecryptionError, FieldCipher
from backend.models import InboxMessage, new_id, utcnow

log = structlog.get_logger(__name__)
MAX_BATCH = 500
# Telegram's deepest updates (a reply to a message with an external reply, its entities) nest
# about ten levels; anything far deeper is not from the platform.
MAX_DEPTH = 32
# What `telecare inbox failed` shows; the codes are all an operator sees (no contents).
REASONS = {
    "too_deep": "JSON nested deeper than we read",
    "lone_surrogate": "text that is not valid Unicode (a lone surrogate)",
    "malformed_update": "not a well-formed update (wrong types or fields)",
    "file_unavailable": "the file the user sent could not be fetched",
    "unreadable_payload": "the stored payload could not be decrypted or read",
    "engine_error": "the conversation engine failed on it",
    "delivery_error": "answering it failed after it was processed",
    "processing_error": "the channel failed on it before the engine",
}
_SURROGATE = re.compile("[\ud800-\udfff]")
_CLAIM = (
    update(InboxMessage.__table__)
    .where(
        InboxMessage.channel == bindparam("claim_channel"),
        InboxMessage.platform_id == bindparam("claim_platform_id"),
        InboxMessage.processed_at.is_(None),
    )
    .values(processed_at=bindparam("claim_now"), payload_enc=None)
)


class Unstorable(ValueError):
    """A payload the inbox refuses before queueing it; `reason` is one of REASONS."""

    def __init__(self, reason: str) -> None:
        super().__init__(REASONS[reason])
        self.reason = reason


def payload_problem(value: Any) -> str | None:
    """Why a decoded JSON payload cannot be kept ("too_deep", "lone_surrogate"), or None.
    Iterative, so a deep payload cannot exhaust the stack here."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return "lone_surrogate"
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return "too_deep"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


async def claim(session: AsyncSession, channel: str, platform_id: str) -> bool:
    """Mark a stored update processed (and drop its payload) in the caller's transaction, so that
    it is processed once with its effects; False when it was already claimed. Core, not ORM: no
    inbox rows live in the session, so there is nothing to synchronise."""
    connection = await session.connection()
    claimed = await connection.execute(
        _CLAIM, {"claim_channel": channel, "claim_platform_id": platform_id[:128], "claim_now": utcnow()}
    )
    return claimed.rowcount == 1


async def fail(session: AsyncSession, channel: str, platform_id: str, reason: str) -> bool:
    """Finish a stored update as failed with `reason`, in the caller's transaction. True when
    this call finished it (it was still pending): only then may the user be told, so they are
    told once. A row already processed (its answer failed afterwards) keeps the reason for the
    operator and gives False."""
    assert reason in REASONS, reason
    now = utcnow()
    where = (InboxMessage.channel == channel, InboxMessage.platform_id == platform_id[:128])
    connection = await session.connection()
    finished = await connection.execute(
        update(InboxMessage.__table__)
        .where(*where, InboxMessage.processed_at.is_(None))
        .values(processed_at=now, failed_at=now, failure=reason, payload_enc=None)
    )
    if finished.rowcount == 1:
        return True
    await connection.execute(
        update(InboxMessage.__table__)
        .where(*where, InboxMessage.failed_at.is_(None))
        .values(failed_at=now, failure=reason, payload_enc=None)
    )
    return False


async def failed(session: AsyncSession, limit: int) -> list[InboxMessage]:
    """Updates finished as failed, newest first (for `telecare inbox failed`)."""
    query = select(InboxMessage).where(InboxMessage.failed_at.is_not(None))
    return list((await session.scalars(query.order_by(InboxMessage.failed_at.desc()).limit(limit))).all())


@dataclass
class _Pending:
    row: dict[str, Any]  # ready to insert, payload already encrypted
    stored: asyncio.Future[bool]

    @property
    def key(self) -> tuple[str, str]:
        return self.row["channel"], self.row["platform_id"]


class InboxWriter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self._queue: list[_Pending] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task | None = None

    async def store(self, channel: str, platform_id: str, payload: str) -> bool:
        """Keep one update, encrypted, unprocessed; False when it was stored before (a redelivery).
        Returns only once the row is committed. Raises Unstorable, before queueing, for a payload
        that cannot be encoded."""
        row_id = new_id()
        try:
            sealed = self.cipher.encrypt("inbox_messages", "payload", row_id, payload)
        except UnicodeEncodeError as bad:
            raise Unstorable("lone_surrogate") from bad
        return await self._queued(_row(row_id, channel, platform_id, payload_enc=sealed))

    async def store_failed(self, channel: str, platform_id: str, reason: str) -> bool:
        """Keep an update refused before it could be stored (a lone surrogate, too deep) as
        failed, without its payload; False when that id was stored before."""
        now = utcnow()
        return await self._queued(
            _row(new_id(), channel, platform_id, processed_at=now, failed_at=now, failure=reason)
        )

    async def _queued(self, row: dict[str, Any]) -> bool:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="inbox-writer")
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(row, stored))
        self._wake.set()
        return await stored

    async def pending(self, channel: str) -> list[dict]:
        """The payloads stored for `channel` and not processed yet (a crash after the
        acknowledgement), oldest first: the channel processes them again on start. Failed rows are
        finished and never come back; one that cannot be read is finished as failed here."""
        async with self.sessions() as session:
            rows = (
                await session.scalars(
                    select(InboxMessage)
                    .where(
                        InboxMessage.channel == channel,
                        InboxMessage.processed_at.is_(None),
                        InboxMessage.failed_at.is_(None),
                    )
                    .order_by(InboxMessage.created_at)
                )
            ).all()
        payloads = []
        for row in rows:
            if not row.payload_enc:
                continue
            try:
                payloads.append(
                    json.loads(self.cipher.decrypt("inbox_messages", "payload", row.id, row.payload_enc))
                )
            except (DecryptionError, ValueError):
                log.warning("inbox_unreadable", channel=channel)
                async with self.sessions() as session, session.begin():
                    await fail(session, channel, row.platform_id, "unreadable_payload")
        return payloads

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with suppress(asyncio.CancelledError):
                await self._writer
        for pending in self._queue:
            if not pending.stored.done():
                pending.stored.set_exception(RuntimeError("inbox writer closed"))
        self._queue.clear()

    async def _write_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    new = await self._write(batch)
                except Exception as failure:
                    if len(batch) > 1:  # one row may be at fault: the others must still be kept
                        log.warning("inbox_batch_failed", batch=len(batch), error=type(failure).__name__)
                        await self._write_one_by_one(batch)
                    else:
                        _refuse(batch, failure)
                    continue
                _answer(batch, new)

    async def _write_one_by_one(self, batch: list[_Pending]) -> None:
        for pending in batch:
            try:
                new = await self._write([pending])
            except Exception as failure:  # this request answers with an error; nothing is lost
                _refuse([pending], failure)
                continue
            _answer([pending], new)

    async def _write(self, batch: list[_Pending]) -> set[int]:
        """Insert the batch; the ids (of the _Pending objects) whose rows are new."""
        firsts: dict[tuple[str, str], _Pending] = {}
        for pending in batch:  # the same update twice in one batch: the second is a redelivery
            firsts.setdefault(pending.key, pending)
        now = utcnow()
        rows = [{**pending.row, "created_at": now} for pending in firsts.values()]
        async with self.sessions() as session, session.begin():
            dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
            statement = (
                dialect.insert(InboxMessage)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["channel", "platform_id"])
                .returning(InboxMessage.channel, InboxMessage.platform_id)
            )
            inserted = {(row.channel, row.platform_id) for row in await session.execute(statement)}
        return {id(firsts[key]) for key in inserted}


def _row(row_id: str, channel: str, platform_id: str, **values: Any) -> dict[str, Any]:
    row = {"payload_enc": None, "processed_at": None, "failed_at": None, "failure": None, **values}
    return {"id": row_id, "channel": channel, "platform_id": platform_id[:128], **row}


def _answer(batch: list[_Pending], new: set[int]) -> None:
    for pending in batch:
        if not pending.stored.done():
            pending.stored.set_result(id(pending) in new)


def _refuse(batch: list[_Pending], failure: Exception) -> None:
    log.error("inbox_write_failed", batch=len(batch), exc_info=failure)
    for pending in batch:
        if not pending.stored.done():
            pending.stored.set_exception(failure)
