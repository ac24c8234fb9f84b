"""The outbox dispatcher: claims due messages and sends them through the channels.

One loop claims batches while there is room (`max_in_flight`) and keeps the claims alive;
claimed messages queue per recipient and each recipient's queue is sent in order by its own task,
so one busy chat never holds up the others (a chat busy with the user's own updates is waited for
before a sending slot is taken, see `_wait_for_first_chat`). A priority gate lets urgent messages, then the
longest queues, send first. For each message, in order:

1. a worker died holding it too often, or it cannot be read → dead;
2. too late (past its window) → dropped; a muted reminder kind → dropped;
3. non-urgent inside the recipient's quiet hours → held until they end (not an attempt);
4. no usable chat (none yet, or all blocked, opted out or stopped) → waiting, on no channel,
   until the user opens a chat; still ours and unchanged since the claim (not cancelled or
   replaced)? otherwise skipped;
5. rendered in the recipient's language and timezone, with buttons if it has actions;
6. tried on the recipient's chats: the preferred channel first, then the most recently used; a
   chat that refuses (blocked, opted out, a closed web chat) passes it to the next;
7. none took it → retried later with exponential backoff and jitter; after the last attempt it is
   dead and admins are told.

Results are committed by one writer task, batched only while the previous commit runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.accounts.chats import address_of
from backend.crypto import FieldCipher
from backend.models import (
    ChannelIdentity,
    NotificationAction,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    User,
    utcnow,
)
from backend.outbox import preferences, queue
from backend.outbox.queue import Result
from backend.outbox.service import ACTION_TOKEN_PREFIX, open_params
from notifications import templates
from notifications.gate import PriorityGate
from notifications.quiet import held_until
from notifications.sender import Delivery, Notice, NoticeAction, Sender

log = structlog.get_logger(__name__)
MAX_WRITE_FAILURES = 5
URGENT_FIRST = 1_000_000  # added to an urgent message's priority at the gate


@dataclass
class DispatchSettings:
    batch_size: int = 200
    # Claimed and not yet finished, in this worker. Generous: the further ahead a worker sees,
    # the better it orders the sends (the busiest chats first); leases are renewed meanwhile.
    max_in_flight: int = 5000
    # Messages being sent at once (each to a different recipient). Enough to keep the slowest
    # platform busy; few enough that the queue at the bot's rate limit stays short, so the
    # gate's priority decides who goes next.
    concurrency: int = 32
    lease: timedelta = timedelta(minutes=2)
    max_attempts: int = 6
    retry_base_seconds: float = 30.0
    poll_seconds: float = 1.0
    action_ttl: timedelta = timedelta(days=7)


@dataclass
class Job:
    row: OutboxMessage
    params: dict
    user: User | None
    prefs: preferences.Preferences
    chats: list[ChannelIdentity]
    actions: list[NotificationAction] = field(default_factory=list)


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        senders: dict[str, Sender],
        settings: DispatchSettings | None = None,
        *,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self.senders = senders
        self.settings = settings or DispatchSettings()
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.clock = clock
        self._queues: dict[str, deque[Job]] = defaultdict(deque)
        self._runners: dict[str, asyncio.Task] = {}
        self._sending = PriorityGate(self.settings.concurrency)
        self._in_flight = 0
        self._room = asyncio.Event()
        self._wake = asyncio.Event()
        self._results: list[Result] = []
        self._results_ready = asyncio.Event()
        self._writer: asyncio.Task | None = None
        self._writing = 0
        self._stopping = False
        self._write_failures = 0
        self._to_confirm: list[tuple[Job, asyncio.Future]] = []
        self._confirming: asyncio.Task | None = None
        self._held: set[tuple[str, datetime]] = set()  # (id, updated_at) claimed by us, not finished
        self._renewed_at = datetime.min.replace(tzinfo=utcnow().tzinfo)

    # --- running ----------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due messages now (something was just enqueued), not at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Claim and send until `stop()`."""
        self._start_writer()
        try:
            while not self._stopping:
                with contextlib.suppress(Exception):  # a missed renewal is retried next round
                    await self._renew_leases(self.clock())
                full = self._in_flight > self.settings.max_in_flight - self.settings.batch_size
                try:
                    claimed = 0 if full else await self._claim_batch()
                except Exception as failure:  # the database is away: say so, try again later
                    log.warning("outbox_claim_failed", error=type(failure).__name__)
                    claimed = 0
                if claimed >= self.settings.batch_size:
                    continue  # there is more: claim again while there is room
                # Full: wait for room. Otherwise nothing more is due: wait for a wake-up or the poll.
                await self._wait_for(self._room if full else self._wake)
        finally:
            await self.close()

    def stop(self) -> None:
        """Finish what is being sent, give back what is only queued, and end `run()`. (Never
        cancel `run()` itself: a transaction cut in half leaves its connection to be closed by a
        task nobody waits for.)"""
        self._stopping = True
        self._wake.set()
        self._room.set()

    async def _wait_for(self, event: asyncio.Event) -> None:
        event.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=self.settings.poll_seconds)

    async def drain(self) -> int:
        """Send everything due now and wait for the results to be written (tests, `--once`)."""
        self._start_writer()
        total = 0
        while True:
            await self._renew_leases(self.clock())
            full = self._in_flight > self.settings.max_in_flight - self.settings.batch_size
            claimed = 0 if full else await self._claim_batch()
            total += claimed
            if claimed == 0 and self._in_flight == 0:
                break
            if claimed == 0:
                await self._wait_for(self._room)
        await self._flush()
        return total

    async def close(self, grace_seconds: float = 10.0) -> None:
        self._stopping = True
        queued = [job.row.id for jobs in self._queues.values() for job in jobs]
        for jobs in self._queues.values():
            jobs.clear()  # each runner stops after the message it is sending now
        self._in_flight -= len(queued)
        runners = list(self._runners.values())
        if runners:
            _done, late = await asyncio.wait(runners, timeout=grace_seconds)
            for task in late:  # their messages stay claimed; the lease hands them on later
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._confirming is not None:  # let a confirmation under way finish its transaction
            await asyncio.gather(self._confirming, return_exceptions=True)
        await self._flush()
        if queued:  # not started: back to the queue at once, for this or another worker
            async with self.sessions() as session, session.begin():
                await queue.release(session, self.worker_id, queued)
        if self._writer:  # let it finish on its own: cancelled mid-write, its connection would leak
            self._results_ready.set()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None

    # --- claiming ---------------------------------------------------------------------------

    async def _claim_batch(self) -> int:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            rows = await queue.claim_due(
                session, self.worker_id, limit=self.settings.batch_size, lease=self.settings.lease, now=now
            )
            # Our own lease ran out on a message still queued here: it is already ours to send.
            # (A row replaced meanwhile has a new updated_at: that is a new message, queued.)
            rows = [row for row in rows if (row.id, row.updated_at) not in self._held]
            if not rows:
                return 0
            jobs, broken = await self._jobs(session, rows, now)
            if broken:  # one bad row must not hold up the others: it is dead, admins are told
                await queue.finish(session, self.cipher, self.worker_id, broken)
        for job in jobs:
            self._in_flight += 1
            self._held.add((job.row.id, job.row.updated_at))
            self._queues[job.row.user_id].append(job)
            if job.row.user_id not in self._runners:
                self._runners[job.row.user_id] = asyncio.create_task(self._run_recipient(job.row.user_id))
        return len(rows)

    async def _renew_leases(self, now: datetime) -> None:
        """Messages can wait here a while (a busy chat sends one a second): keep their claims
        alive, so that no other worker, nor this one, takes them a second time."""
        if not self._held or now - self._renewed_at < self.settings.lease / 3:
            return
        async with self.sessions() as session, session.begin():
            ids = [row_id for row_id, _ in self._held]
            await queue.renew(session, self.worker_id, ids, now + self.settings.lease)
        self._renewed_at = now  # only once it worked: a failed renewal is tried again next round

    async def _jobs(
        self, session: AsyncSession, rows: list[OutboxMessage], now: datetime
    ) -> tuple[list[Job], list[Result]]:
        """Everything the sends need, loaded for the whole batch in a few queries; and the rows
        that cannot be sent at all (unreadable parameters, or a message that kept killing the
        worker), as dead results."""
        user_ids = {row.user_id for row in rows}
        users = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_(user_ids)))).all()}
        prefs = {
            p.user_id: preferences.of(p)
            for p in (
                await session.scalars(
                    select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids))
                )
            ).all()
        }
        chats: dict[str, list[ChannelIdentity]] = defaultdict(list)
        for identity in (
            await session.scalars(select(ChannelIdentity).where(ChannelIdentity.user_id.in_(user_ids)))
        ).all():
            chats[identity.user_id].append(identity)
        jobs: list[Job] = []
        broken: list[Result] = []
        for row in rows:
            if row.attempts >= self.settings.max_attempts:
                broken.append(
                    Result(row.id, OutboxStatus.DEAD, error="a worker stopped while sending it, every time")
                )
                continue
            try:
                params = open_params(self.cipher, row)
            except Exception as failure:
                log.error("outbox_unreadable", outbox_id=row.id, error=type(failure).__name__)
                broken.append(
                    Result(row.id, OutboxStatus.DEAD, error=f"unreadable: {type(failure).__name__}")
                )
                continue
            jobs.append(
                Job(
                    row=row,
                    params=params,
                    user=users.get(row.user_id),
                    prefs=prefs.get(row.user_id, preferences.Preferences()),
                    chats=chats.get(row.user_id, []),
                )
            )
        with_actions = [job for job in jobs if job.row.actions_json]
        if with_actions:
            await self._attach_actions(session, with_actions, now)
        return jobs, broken

    async def _attach_actions(self, session: AsyncSession, jobs: list[Job], now: datetime) -> None:
        """Buttons are made once per message (a retry shows the same ones): a random token each,
        and one short code per message for typing ("retry 417")."""
        ids = [job.row.id for job in jobs]
        existing: dict[str, list[NotificationAction]] = defaultdict(list)
        for action in (
            await session.scalars(select(NotificationAction).where(NotificationAction.outbox_id.in_(ids)))
        ).all():
            existing[action.outbox_id].append(action)
        for job in jobs:
            if existing.get(job.row.id):
                job.actions = existing[job.row.id]
                continue
            taken = set(
                (
                    await session.scalars(
                        select(NotificationAction.code).where(
                            NotificationAction.user_id == job.row.user_id,
                            NotificationAction.used_at.is_(None),
                            NotificationAction.expires_at > now,
                        )
                    )
                ).all()
            )
            code = _free_code(taken)
            for spec in json.loads(job.row.actions_json):
                action = NotificationAction(
                    token=ACTION_TOKEN_PREFIX + secrets.token_urlsafe(9),
                    outbox_id=job.row.id,
                    user_id=job.row.user_id,
                    code=code,
                    value=spec["value"],
                    # In the recipient's words: typed replies are matched against it.
                    label=templates.word(job.user.locale if job.user else "en", spec["label"])[:64],
                    expires_at=now + self.settings.action_ttl,
                )
                session.add(action)
                job.actions.append(action)

    # --- sending ----------------------------------------------------------------------------

    async def _run_recipient(self, user_id: str) -> None:
        """One recipient's messages, in order. Between two messages into the same chat the
        channel's pace is kept here, before taking a sending slot, so a chat waiting for its
        turn never holds a slot (or the bot's budget) that another chat could use. It counts
        from when the previous send started, as the channel's own per-chat limiter does."""
        queue_ = self._queues[user_id]
        loop = asyncio.get_running_loop()
        ready_at = 0.0
        try:
            while queue_:
                job = queue_.popleft()
                if (pause := ready_at - loop.time()) > 0:
                    await asyncio.sleep(pause)
                try:
                    await self._wait_for_first_chat(job)
                    # Urgent first, then the longest queue (see notifications/gate.py).
                    await self._sending.acquire(
                        priority=len(queue_) + 1 + (URGENT_FIRST if job.row.urgent else 0)
                    )
                    started = loop.time()  # the chat's pace counts from here, as its limiter's does
                    try:
                        result = await self._process(job)
                    finally:
                        self._sending.release()
                except Exception as failure:  # a bug must not lose the message: it is retried
                    log.exception("outbox_process_failed", outbox_id=job.row.id)
                    result = self._failed(job, type(failure).__name__)
                if result is not None:
                    log.info(  # what became of it, for operators (no parameters: they can be health data)
                        "outbox_result",
                        outbox_id=job.row.id,
                        template=job.row.template,
                        status=result.status.value,
                        channel=result.channel,
                        note=result.error,
                    )
                    if result.status is OutboxStatus.SENT and result.channel in self.senders:
                        ready_at = started + getattr(self.senders[result.channel], "chat_interval", 0.0)
                    self._record(result)
                self._held.discard((job.row.id, job.row.updated_at))
                self._in_flight -= 1
                self._room.set()
        finally:
            self._runners.pop(user_id, None)
            if not queue_:
                self._queues.pop(user_id, None)

    async def _wait_for_first_chat(self, job: Job) -> None:
        """Before taking a sending slot, wait while the chat this message will try first is busy
        with the user's own updates (their replies go first, paced): a burst in one chat must not
        hold a slot that other recipients' messages need. Best effort: an update that arrives
        between this wait and the send is waited for inside the slot, one update at most."""
        chats = self._chats(job)
        if not chats:
            return
        wait = getattr(self.senders.get(chats[0].channel), "wait_for_chat", None)
        if wait is not None:
            await wait(address_of(self.cipher, chats[0]))

    async def _still_ours(self, job: Job) -> bool:
        """Confirmed in groups: every send that asks while one confirmation is running joins the
        next one (one transaction for many, under load)."""
        future = asyncio.get_running_loop().create_future()
        self._to_confirm.append((job, future))
        if self._confirming is None or self._confirming.done():
            self._confirming = asyncio.create_task(self._confirm_waiting())
        return await asyncio.shield(future)

    async def _confirm_waiting(self) -> None:
        while self._to_confirm:
            group, self._to_confirm = self._to_confirm, []
            try:
                async with self.sessions() as session, session.begin():
                    mine = await queue.confirm(
                        session,
                        self.worker_id,
                        [(job.row.id, job.row.updated_at) for job, _ in group],
                        self.clock() + self.settings.lease,
                    )
            except Exception as failure:
                for _, future in group:
                    if not future.done():
                        future.set_exception(failure)  # that send fails, and is retried
                continue
            for job, future in group:
                if not future.done():
                    future.set_result(job.row.id in mine)

    async def _process(self, job: Job) -> Result | None:
        row, now = job.row, self.clock()
        if row.expires_at is not None and now > row.expires_at:
            return Result(row.id, OutboxStatus.DROPPED, error="too late to be useful")
        if job.user is None or not job.user.active:
            return Result(row.id, OutboxStatus.DROPPED, error="recipient inactive")
        if not row.urgent:
            if row.kind in job.prefs.muted:
                return Result(row.id, OutboxStatus.DROPPED, error="muted by the recipient")
            wake = held_until(now, job.user.timezone, job.prefs.quiet_start, job.prefs.quiet_end)
            if wake is not None:
                if row.expires_at is not None and wake > row.expires_at:
                    return Result(row.id, OutboxStatus.DROPPED, error="only due within quiet hours")
                return Result(row.id, OutboxStatus.PENDING, due_at=wake, error="held for quiet hours")
        chats = self._chats(job)
        if not chats and job.row.tried_channels and self._chats(job, ignore_tried=True):
            # Every reachable chat already failed to deliver it (e.g. Twilio "undelivered"): an
            # attempt, and the next one tries them all again.
            return replace(self._failed(job, "every chat failed to deliver it"), tried_channels="")
        if not chats:
            # No chat at all, or every one blocked us, opted out or said stop: nobody to send to
            # now. It waits (not claimed again: a sent row) and is shown when the user next opens
            # a chat themselves (backend/outbox/queue.py `waiting_for_web`, `release_waiting`).
            why = (
                "the recipient has no chat"
                if not job.chats
                else "no reachable chat (blocked, opted out or stopped)"
            )
            return Result(row.id, OutboxStatus.SENT, delivery_status=queue.WAITING, error=why)
        if not await self._still_ours(job):
            return None  # cancelled or replaced meanwhile (or taken by another worker): not ours to send
        notice = self._notice(job)
        waiting_on: ChannelIdentity | None = None
        errors: list[str] = []
        for chat in chats:
            try:
                address = address_of(self.cipher, chat)  # only for a chat actually tried
                delivery = await self.senders[chat.channel].deliver(address, notice)
            except Exception as failure:  # a channel's bug is that channel's failure, not ours
                log.exception("outbox_channel_failed", channel=chat.channel)
                delivery = Delivery.failed(type(failure).__name__)
            if delivery.ok:
                return Result(
                    row.id,
                    OutboxStatus.SENT,
                    channel=chat.channel,
                    platform_message_id=delivery.platform_id,
                    delivery_status=delivery.status,
                )
            if delivery.can_wait and waiting_on is None:
                waiting_on = chat
            errors.append(f"{chat.channel}: {delivery.error}")
        if waiting_on is not None:
            return Result(
                row.id, OutboxStatus.SENT, channel=waiting_on.channel, delivery_status=queue.WAITING
            )
        return self._failed(job, "; ".join(errors))

    def _failed(self, job: Job, error: str) -> Result:
        attempts = job.row.attempts + 1
        if attempts >= self.settings.max_attempts:
            log.warning("outbox_dead", outbox_id=job.row.id, template=job.row.template, attempts=attempts)
            return Result(job.row.id, OutboxStatus.DEAD, attempts=attempts, error=error)
        due = self.clock() + queue.retry_delay(attempts, self.settings.retry_base_seconds)
        return Result(job.row.id, OutboxStatus.PENDING, attempts=attempts, due_at=due, error=error)

    def _chats(self, job: Job, *, ignore_tried: bool = False) -> list[ChannelIdentity]:
        """Where to try, in order: the preferred channel, then the most recently used chats."""
        tried = set() if ignore_tried else set(filter(None, job.row.tried_channels.split(",")))
        usable = [
            chat
            for chat in job.chats
            if chat.channel in self.senders
            and chat.channel not in tried
            and not chat.unreachable
            and not chat.muted
            and chat.opted_out_at is None
        ]
        oldest = datetime.min.replace(tzinfo=utcnow().tzinfo)
        usable.sort(key=lambda chat: chat.last_seen_at or oldest, reverse=True)
        usable.sort(key=lambda chat: chat.channel != job.prefs.channel)  # stable: preferred first
        return usable

    def _notice(self, job: Job) -> Notice:
        return notice_for(job.row, job.params, job.user, job.actions)

    # --- recording results ------------------------------------------------------------------

    def _start_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="outbox-results")

    def _record(self, result: Result) -> None:
        self._results.append(result)
        self._results_ready.set()

    async def _write_forever(self) -> None:
        while True:
            await self._results_ready.wait()
            await self._write_pending()
            if self._stopping and not self._results:
                return

    async def _write_pending(self) -> None:
        self._results_ready.clear()
        batch, self._results = self._results, []
        if not batch:
            return
        self._writing += 1
        try:
            async with self.sessions() as session, session.begin():
                await queue.finish(session, self.cipher, self.worker_id, batch)
            self._write_failures = 0
        except Exception:
            # Keep them and try again shortly (the database may be back); after a few failures
            # give up: the rows stay claimed and their lease hands them to a worker later.
            self._write_failures += 1
            log.exception("outbox_results_not_saved", count=len(batch), failures=self._write_failures)
            if self._write_failures < MAX_WRITE_FAILURES:
                self._results[:0] = batch
                await asyncio.sleep(min(5.0, 0.2 * 2**self._write_failures))
                self._results_ready.set()
        finally:
            self._writing -= 1

    async def _flush(self) -> None:
        """Wait until every result so far is written (by the writer task, or here without one)."""
        while self._results or self._writing:
            if self._writer is None or self._writer.done():
                await self._write_pending()
            else:
                self._results_ready.set()
                await asyncio.sleep(0.005)


def notice_for(row: OutboxMessage, params: dict, user: User, actions: list[NotificationAction]) -> Notice:
    """The message as the recipient reads it: their language, their timezone, their buttons."""
    rendered = templates.render(row.template, params, user.locale, user.timezone)
    return Notice(
        outbox_id=row.id,
        text=rendered.text,
        template=row.template,
        variables=rendered.variables,
        actions=tuple(NoticeAction(label=a.label, token=a.token, code=a.code) for a in actions),
        urgent=row.urgent,
        locale=user.locale,
        typed_hint=templates.typed_hint(user.locale, [(a.label, a.code) for a in actions]),
    )


def _free_code(taken: set[str]) -> str:
    """A short code no live button of this user has: 3 digits while there is room, then longer."""
    for digits in (3, 4, 5, 6, 8):
        for _ in range(50):
            code = str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))
            if code not in taken:
                return code
    return secrets.token_hex(4)
