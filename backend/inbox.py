"""Store-first inbox writes with group commit.

A channel whose platform must be answered before the work is done (Telegram webhooks, Twilio)
stores each update encrypted in `inbox_messages` and only then acknowledges it. Under load one
transaction per update makes every webhook wait for a database connection (and, on SQLite, for
the file's single write lock) behind the background processing. So writes are queued, and one
writer task stores everything queued so far in a single INSERT … ON CONFLICT DO NOTHING
RETURNING, then tells each waiting request whether its row was new. A batch is as large as what
arrived while the previous one was being written, so an idle server still writes at once.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from dataclasses import dataclass

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.crypto import FieldCipher
from backend.models import InboxMessage, new_id, utcnow

log = structlog.get_logger(__name__)
MAX_BATCH = 500
_CLAIM = (
    update(InboxMessage.__table__)
    .where(
        InboxMessage.channel == bindparam("claim_channel"),
        InboxMessage.platform_id == bindparam("claim_platform_id"),
        InboxMessage.processed_at.is_(None),
    )
    .values(processed_at=bindparam("claim_now"), payload_enc=None)
)


async def claim(session: AsyncSession, channel: str, platform_id: str) -> bool:
    """Mark a stored update processed (and drop its payload) in the caller's transaction, so that
    it is processed once with its effects; False when it was already claimed. Core, not ORM: no
    inbox rows live in the session, so there is nothing to synchronise."""
    connection = await session.connection()
    claimed = await connection.execute(
        _CLAIM, {"claim_channel": channel, "claim_platform_id": platform_id[:128], "claim_now": utcnow()}
    )
    return claimed.rowcount == 1


@dataclass
class _Pending:
    channel: str
    platform_id: str
    payload: str
    stored: asyncio.Future[bool]


class InboxWriter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self._queue: list[_Pending] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task | None = None

    async def store(self, channel: str, platform_id: str, payload: str) -> bool:
        """Keep one update, encrypted, unprocessed; False when it was stored before (a redelivery).
        Returns only once the row is committed."""
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="inbox-writer")
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(channel, platform_id[:128], payload, stored))
        self._wake.set()
        return await stored

    async def pending(self, channel: str) -> list[dict]:
        """The payloads stored for `channel` and not processed yet (a crash after the
        acknowledgement), oldest first: the channel processes them again on start."""
        async with self.sessions() as session:
            rows = (
                await session.scalars(
                    select(InboxMessage)
                    .where(InboxMessage.channel == channel, InboxMessage.processed_at.is_(None))
                    .order_by(InboxMessage.created_at)
                )
            ).all()
        return [
            json.loads(self.cipher.decrypt("inbox_messages", "payload", row.id, row.payload_enc))
            for row in rows
            if row.payload_enc
        ]

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
                except Exception as failure:  # the requests answer with an error; nothing is lost
                    log.exception("inbox_write_failed", batch=len(batch))
                    for pending in batch:
                        if not pending.stored.done():
                            pending.stored.set_exception(failure)
                    continue
                for pending in batch:
                    if not pending.stored.done():
                        pending.stored.set_result(id(pending) in new)

    async def _write(self, batch: list[_Pending]) -> set[int]:
        """Insert the batch; the ids (of the _Pending objects) whose rows are new."""
        firsts: dict[tuple[str, str], _Pending] = {}
        for pending in batch:  # the same update twice in one batch: the second is a redelivery
            firsts.setdefault((pending.channel, pending.platform_id), pending)
        now = utcnow()
        rows = []
        for (channel, platform_id), pending in firsts.items():
            row_id = new_id()
            rows.append(
                {
                    "id": row_id,
                    "channel": channel,
                    "platform_id": platform_id,
                    "payload_enc": self.cipher.encrypt("inbox_messages", "payload", row_id, pending.payload),
                    "created_at": now,
                }
            )
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
