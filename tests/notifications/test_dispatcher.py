"""The dispatcher with recording channels: what is sent, to whom, when, and what happens when a
channel says no. Time is a settable clock ("time travel")."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from backend.models import ChannelIdentity, NotificationAction, OutboxMessage, OutboxStatus, Role
from backend.outbox import preferences, service
from notifications.dispatcher import Dispatcher, DispatchSettings
from tests.notifications.helpers import RecordingSender, make_user, outbox_row


async def test_a_message_is_sent_once_in_the_recipients_language(
    sessions, cipher, dispatcher, telegram, clock
):
    async with sessions() as session, session.begin():
        user = await make_user(session, locale="hi")
        for _ in range(2):  # the same key twice is one message
            await service.enqueue(
                session,
                cipher,
                key="welcome:1",
                user_id=user.id,
                template="welcome",
                params={"name": "आशा"},
                due_at=clock.now,
            )
    assert await dispatcher.drain() == 1
    assert await dispatcher.drain() == 0
    assert telegram.texts == [telegram.sent[0][1].text]
    assert "telecare में आपका स्वागत है, आशा" in telegram.texts[0]
    row = await outbox_row(sessions, "welcome:1")
    assert (row.status, row.channel, row.platform_message_id) == (OutboxStatus.SENT, "telegram", "telegram-1")


async def test_params_are_encrypted_at_rest(sessions, cipher, clock):
    async with sessions() as session, session.begin():
        user = await make_user(session)
        await service.enqueue(
            session,
            cipher,
            key="k",
            user_id=user.id,
            template="welcome",
            params={"name": "Asha Verma"},
            due_at=clock.now,
        )
    row = await outbox_row(sessions, "k")
    assert b"Asha" not in row.params_enc
    assert service.open_params(cipher, row) == {"name": "Asha Verma"}


async def test_a_reminder_arrives_at_its_local_time_and_a_cancelled_one_never(
    sessions, cipher, dispatcher, telegram, clock
):
    appointment_at = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)  # 10:30 IST
    clock.now = appointment_at - timedelta(hours=30)
    async with sessions() as session, session.begin():
        user = await make_user(session)
        for key, hours in (("appointment:a1:24h", 24), ("appointment:a1:1h", 1)):
            await service.schedule(
                session,
                cipher,
                key=key,
                user_id=user.id,
                template="reminder",
                kind="appointment",
                due_at=appointment_at - timedelta(hours=hours),
                params={"what": "Dr Rao", "when_at": appointment_at.isoformat()},
            )
    assert await dispatcher.drain() == 0  # not due yet
    clock.now = appointment_at - timedelta(hours=24)  # 10:30 IST the day before
    assert await dispatcher.drain() == 1
    assert telegram.texts == ["⏰ Reminder: Dr Rao at Sat, 28 Nov 2026, 10:30 AM."]  # shown in IST
    async with sessions() as session, session.begin():
        assert await service.cancel_prefix(session, "appointment:a1:") == 1  # only the 1 h one is left
    clock.now = appointment_at - timedelta(minutes=30)
    assert await dispatcher.drain() == 0
    assert len(telegram.sent) == 1
    assert (await outbox_row(sessions, "appointment:a1:1h")).status is OutboxStatus.CANCELLED


async def test_rescheduling_replaces_the_reminder(sessions, cipher, dispatcher, telegram, clock):
    async with sessions() as session, session.begin():
        user = await make_user(session)
        await service.schedule(
            session,
            cipher,
            key="appointment:a2:1h",
            user_id=user.id,
            template="reminder",
            kind="appointment",
            due_at=clock.now + timedelta(hours=1),
            params={"what": "first", "when_at": clock.now.isoformat()},
        )
        await service.schedule(
            session,
            cipher,
            key="appointment:a2:1h",
            user_id=user.id,
            template="reminder",
            kind="appointment",
            due_at=clock.now + timedelta(hours=3),
            params={"what": "moved", "when_at": clock.now.isoformat()},
        )
    clock.travel(hours=2)
    assert await dispatcher.drain() == 0
    clock.travel(hours=1)
    assert await dispatcher.drain() == 1
    assert "moved" in telegram.texts[0]


async def test_a_late_reminder_is_dropped_not_sent_late(sessions, cipher, dispatcher, telegram, clock):
    async with sessions() as session, session.begin():
        user = await make_user(session)
        await service.schedule(
            session,
            cipher,
            key="r",
            user_id=user.id,
            template="reminder",
            kind="appointment",
            due_at=clock.now,
            window=timedelta(minutes=15),
            params={"what": "x", "when_at": clock.now.isoformat()},
        )
    clock.travel(minutes=20)  # the workers were down for 20 minutes
    await dispatcher.drain()
    assert telegram.sent == []
    row = await outbox_row(sessions, "r")
    assert row.status is OutboxStatus.DROPPED and row.last_error == "too late to be useful"


async def test_quiet_hours_hold_until_morning_across_a_daylight_saving_change(
    sessions, cipher, dispatcher, telegram, clock
):
    # New York springs forward on 2026-03-08 at 02:00. A message due at 22:00 EST on the 7th is held
    # until 08:00 EDT on the 8th: 12:00 UTC (it would be 13:00 UTC without the change).
    clock.now = datetime(2026, 3, 8, 3, 0, tzinfo=UTC)  # 22:00 EST, 7 March
    async with sessions() as session, session.begin():
        user = await make_user(session, timezone="America/New_York")
        await service.enqueue(
            session, cipher, key="n", user_id=user.id, template="welcome", kind="profile", due_at=clock.now
        )
    await dispatcher.drain()
    row = await outbox_row(sessions, "n")
    assert (row.status, row.due_at) == (OutboxStatus.PENDING, datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    assert row.attempts == 0  # a hold is not an attempt
    clock.now = datetime(2026, 3, 8, 11, 59, tzinfo=UTC)
    assert await dispatcher.drain() == 0
    clock.now = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    assert await dispatcher.drain() == 1
    assert len(telegram.sent) == 1


async def test_quiet_hours_in_autumn_end_at_local_eight(sessions, cipher, dispatcher, clock):
    # Falls back on 2026-11-01 at 02:00 EDT → 01:00 EST. 23:30 EDT on 31 Oct is held to 08:00 EST: 13:00 UTC.
    clock.now = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
    async with sessions() as session, session.begin():
        user = await make_user(session, timezone="America/New_York")
        await service.enqueue(
            session, cipher, key="n", user_id=user.id, template="welcome", kind="profile", due_at=clock.now
        )
    await dispatcher.drain()
    assert (await outbox_row(sessions, "n")).due_at == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)


async def test_urgent_messages_ignore_quiet_hours_and_mutes(sessions, cipher, dispatcher, telegram, clock):
    clock.now = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 23:30 IST
    async with sessions() as session, session.begin():
        user = await make_user(session)
        await preferences.toggle_kind(session, user.id, "appointment")
        await service.enqueue(
            session,
            cipher,
            key="u",
            user_id=user.id,
            template="reminder",
            kind="appointment",
            urgent=True,
            due_at=clock.now,
        )
        await service.enqueue(
            session,
            cipher,
            key="quiet",
            user_id=user.id,
            template="reminder",
            kind="status",
            due_at=clock.now,
        )
    await dispatcher.drain()
    assert len(telegram.sent) == 1 and telegram.sent[0][1].outbox_id == (await outbox_row(sessions, "u")).id
    assert (await outbox_row(sessions, "quiet")).status is OutboxStatus.PENDING


async def test_own_quiet_hours_and_turning_them_off(sessions, cipher, dispatcher, telegram, clock):
    clock.now = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 23:30 IST
    async with sessions() as session, session.begin():
        user = await make_user(session)
        await preferences.set_quiet_hours(session, user.id, *(preferences.parse_time("0:00"),) * 2)
        await service.enqueue(session, cipher, key="q", user_id=user.id, template="welcome", due_at=clock.now)
    assert await dispatcher.drain() == 1
    assert len(telegram.sent) == 1


async def test_a_muted_reminder_kind_is_not_sent(sessions, cipher, dispatcher, telegram, clock):
    async with sessions() as session, session.begin():
        user = await make_user(session)
        assert await preferences.toggle_kind(session, user.id, "profile") is True
        await service.enqueue(
            session,
            cipher,
            key="m",
            user_id=user.id,
            template="profile_nudge",
            kind="profile",
            due_at=clock.now,
        )
    await dispatcher.drain()
    assert telegram.sent == []
    assert (await outbox_row(sessions, "m")).status is OutboxStatus.DROPPED


async def test_preferred_channel_first_then_the_most_recent_chat(
    sessions, cipher, dispatcher, telegram, whatsapp, clock
):
    async with sessions() as session, session.begin():
        user = await make_user(
            session,
            chats=(("telegram", "t1"), ("whatsapp", "+911")),
            last_seen=(clock.now - timedelta(days=1), clock.now),
        )
        await service.enqueue(session, cipher, key="a", user_id=user.id, template="welcome", due_at=clock.now)
    await dispatcher.drain()
    assert [a for a, _ in whatsapp.sent] == ["+911"] and telegram.sent == []  # most recent
    async with sessions() as session, session.begin():
        await preferences.set_channel(session, user.id, "telegram")
        await service.enqueue(session, cipher, key="b", user_id=user.id, template="welcome", due_at=clock.now)
    await dispatcher.drain()
    assert [a for a, _ in telegram.sent] == ["t1"]


async def test_unreachable_on_one_channel_tries_the_next(
    sessions, cipher, dispatcher, telegram, whatsapp, clock
):
    telegram.refuse = True
    async with sessions() as session, session.begin():
        user = await make_user(session, chats=(("telegram", "t1"), ("whatsapp", "+911")))
        await preferences.set_channel(session, user.id, "telegram")
        await service.enqueue(session, cipher, key="a", user_id=user.id, template="welcome", due_at=clock.now)
    await dispatcher.drain()
    assert [a for a, _ in whatsapp.sent] == ["+911"]
    assert (await outbox_row(sessions, "a")).channel == "whatsapp"


async def test_failures_retry_with_backoff_then_dead_letter_and_admins_are_told(
    sessions, cipher, dispatcher, telegram, clock
):
    async with sessions() as session, session.begin():
        user = await make_user(session)
        admin = await make_user(session, role=Role.ADMIN, chats=(("whatsapp", "+91admin"),))
        await service.enqueue(session, cipher, key="f", user_id=user.id, template="welcome", due_at=clock.now)
    telegram.fail = True
    delays = []
    for attempt in (1, 2):
        await dispatcher.drain()
        row = await outbox_row(sessions, "f")
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, attempt)
        delay = (row.due_at - clock.now).total_seconds()
        delays.append(delay)
        assert 10 * 2 ** (attempt - 1) * 0.5 <= delay <= 10 * 2 ** (attempt - 1)  # backoff with jitter
        assert await dispatcher.drain() == 0  # not before its time
        clock.now = row.due_at
    await dispatcher.drain()
    row = await outbox_row(sessions, "f")
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, 3)
    assert "platform kept failing" in row.last_error
    # The admin alert went out with Retry / Discard buttons, to the admin only.
    whatsapp_sender = dispatcher.senders["whatsapp"]
    await dispatcher.drain()
    ((address, notice),) = whatsapp_sender.sent
    assert (
        address == "+91admin" and "'welcome' message could not be delivered after 3 attempts" in notice.text
    )
    assert [a.label for a in notice.actions] == ["Retry", "Discard"]
    async with sessions() as session:
        actions = (await session.scalars(select(NotificationAction))).all()
    assert {a.user_id for a in actions} == {admin.id} and len({a.code for a in actions}) == 1
    assert all(a.token.startswith("n.") for a in actions)


async def test_a_crashed_workers_claim_expires_and_counts_as_an_attempt(sessions, cipher, telegram, clock):
    from backend.outbox import queue

    async with sessions() as session, session.begin():
        user = await make_user(session)
        await service.enqueue(session, cipher, key="c", user_id=user.id, template="welcome", due_at=clock.now)
    async with sessions() as session, session.begin():
        claimed = await queue.claim_due(
            session, "dead-worker", limit=10, lease=timedelta(minutes=2), now=clock.now
        )
    assert len(claimed) == 1
    survivor = Dispatcher(sessions, cipher, {"telegram": telegram}, DispatchSettings(), clock=clock)
    assert await survivor.drain() == 0  # still leased to the dead worker
    clock.travel(minutes=3)
    assert await survivor.drain() == 1
    row = await outbox_row(sessions, "c")
    assert (row.status, row.attempts, len(telegram.sent)) == (OutboxStatus.SENT, 1, 1)


async def test_no_chat_at_all_waits_and_web_waits_when_nothing_else_works(sessions, cipher, clock):
    web = RecordingSender("web", refuse=True, can_wait=True)
    telegram = RecordingSender("telegram", refuse=True)
    dispatcher = Dispatcher(sessions, cipher, {"web": web, "telegram": telegram}, clock=clock)
    async with sessions() as session, session.begin():
        nobody = await make_user(session, chats=())
        both = await make_user(session, chats=(("web", "w1"), ("telegram", "t1")))
        await service.enqueue(
            session, cipher, key="none", user_id=nobody.id, template="welcome", due_at=clock.now
        )
        await service.enqueue(
            session, cipher, key="both", user_id=both.id, template="welcome", due_at=clock.now
        )
    await dispatcher.drain()
    none = await outbox_row(sessions, "none")
    assert (none.status, none.channel, none.delivery_status) == (OutboxStatus.SENT, None, "waiting")
    row = await outbox_row(sessions, "both")
    assert (row.status, row.channel, row.delivery_status) == (OutboxStatus.SENT, "web", "waiting")


async def test_a_row_cancelled_while_claimed_is_not_marked_sent(sessions, cipher, clock):
    from backend.outbox import queue

    async with sessions() as session, session.begin():
        user = await make_user(session)
        await service.enqueue(session, cipher, key="x", user_id=user.id, template="welcome", due_at=clock.now)
    async with sessions() as session, session.begin():
        (row,) = await queue.claim_due(session, "w1", limit=5, lease=timedelta(minutes=1), now=clock.now)
        await service.cancel(session, "x")
    async with sessions() as session, session.begin():
        await queue.finish(
            session, cipher, "w1", [queue.Result(row.id, OutboxStatus.SENT, channel="telegram")]
        )
    assert (await outbox_row(sessions, "x")).status is OutboxStatus.CANCELLED
    # And an admin can retry a dead one, or discard it.
    async with sessions() as session, session.begin():
        assert await queue.retry_dead(session, row.id) is False


# --- found in review: what must never happen ----------------------------------------------------


class SlowSender(RecordingSender):
    """Takes `delay` seconds per message (and moves `clock` on by as much, when given), and runs
    `during` (once) while sending the first."""

    def __init__(self, channel="telegram", delay=0.0, during=None, clock=None):
        super().__init__(channel)
        self.delay, self.during, self.clock = delay, during, clock

    async def deliver(self, address, notice):
        if self.during is not None:
            during, self.during = self.during, None
            await during()
        await asyncio.sleep(self.delay)
        if self.clock is not None:
            self.clock.travel(seconds=self.delay)
        return await super().deliver(address, notice)


async def test_a_message_cancelled_or_replaced_while_claimed_is_not_sent_as_it_was(sessions, cipher, clock):
    async with sessions() as session, session.begin():
        user = await make_user(session)
        for order, key in enumerate(("first", "cancelled", "replaced")):
            await service.enqueue(
                session,
                cipher,
                key=key,
                user_id=user.id,
                template="reminder",
                params={"what": key},
                due_at=clock.now - timedelta(seconds=3 - order),  # sent in this order
            )

    async def meanwhile():  # while the first is being sent, the domain changes its mind
        async with sessions() as session, session.begin():
            assert await service.cancel(session, "cancelled")
            await service.schedule(
                session,
                cipher,
                key="replaced",
                user_id=user.id,
                template="reminder",
                kind="appointment",
                params={"what": "moved"},
                due_at=clock.now + timedelta(hours=1),
            )

    sender = SlowSender(during=meanwhile)
    await Dispatcher(sessions, cipher, {"telegram": sender}, clock=clock).drain()
    assert [n.text.split(": ")[1].split(" at")[0] for _, n in sender.sent] == ["first"]
    assert (await outbox_row(sessions, "cancelled")).status is OutboxStatus.CANCELLED
    replaced = await outbox_row(sessions, "replaced")
    assert (replaced.status, replaced.due_at) == (OutboxStatus.PENDING, clock.now + timedelta(hours=1))


async def test_claims_are_renewed_while_messages_wait_here(sessions, cipher, clock):
    """A busy chat sends slowly; its queued messages must not be claimed a second time.
    The settable clock (noon in India, so the welcomes are not held for the night) moves on with
    each send, not with the machine: a loaded machine makes the sends slower, never the lease
    shorter."""
    async with sessions() as session, session.begin():
        user = await make_user(session)
        for n in range(8):
            await service.enqueue(
                session, cipher, key=f"slow:{n}", user_id=user.id, template="welcome", due_at=clock.now
            )
    sender = SlowSender(delay=0.3, clock=clock)  # 2.4 s in all, with a 1 s lease
    settings = DispatchSettings(lease=timedelta(seconds=1), poll_seconds=0.05)
    dispatcher = Dispatcher(sessions, cipher, {"telegram": sender}, settings, clock=clock)
    running = asyncio.create_task(dispatcher.run())
    for _ in range(200):
        if len(sender.sent) >= 8:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    dispatcher.stop()
    await running
    assert len(sender.sent) == 8 and len({n.outbox_id for _, n in sender.sent}) == 8
    async with sessions() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert {(r.status, r.attempts) for r in rows} == {(OutboxStatus.SENT, 0)}


async def test_one_unreadable_message_does_not_hold_up_the_rest(
    sessions, cipher, dispatcher, telegram, clock
):
    async with sessions() as session, session.begin():
        user = await make_user(session)
        await service.enqueue(
            session, cipher, key="bad", user_id=user.id, template="welcome", due_at=clock.now
        )
        await service.enqueue(
            session, cipher, key="good", user_id=user.id, template="welcome", due_at=clock.now
        )
        bad = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "bad"))
        bad.params_enc = b"not an envelope"
    await dispatcher.drain()
    assert [n.outbox_id for _, n in telegram.sent] == [(await outbox_row(sessions, "good")).id]
    row = await outbox_row(sessions, "bad")
    assert row.status is OutboxStatus.DEAD and row.last_error.startswith("unreadable")


async def test_a_message_that_keeps_stopping_workers_ends_dead(sessions, cipher, dispatcher, telegram, clock):
    async with sessions() as session, session.begin():
        user = await make_user(session)
        row = await service.enqueue(
            session, cipher, key="poison", user_id=user.id, template="welcome", due_at=clock.now
        )
        row.attempts = 3  # max_attempts in this fixture: three workers died holding it
    await dispatcher.drain()
    assert telegram.sent == [] and (await outbox_row(sessions, "poison")).status is OutboxStatus.DEAD


async def test_blocked_everywhere_waits_not_a_dead_letter(sessions, cipher, dispatcher, telegram, clock):
    async with sessions() as session, session.begin():
        user = await make_user(session)
        await session.execute(update(ChannelIdentity).values(unreachable=True))
        await make_user(session, role=Role.ADMIN, chats=(("whatsapp", "+91admin"),))
        await service.enqueue(session, cipher, key="b", user_id=user.id, template="welcome", due_at=clock.now)
    await dispatcher.drain()
    row = await outbox_row(sessions, "b")
    assert (row.status, row.delivery_status, row.attempts) == (OutboxStatus.SENT, "waiting", 0)
    assert telegram.sent == [] and dispatcher.senders["whatsapp"].sent == [], "no admin alert for it"


async def test_a_message_that_dies_again_after_a_retry_alerts_again(
    sessions, cipher, dispatcher, telegram, clock
):
    from backend.outbox import queue

    telegram.fail = True
    async with sessions() as session, session.begin():
        user = await make_user(session)
        await make_user(session, role=Role.ADMIN, chats=(("whatsapp", "+91admin"),))
        row = await service.enqueue(
            session, cipher, key="d", user_id=user.id, template="welcome", due_at=clock.now
        )
        row.attempts = 2
    for _ in range(2):
        await dispatcher.drain()
        assert (await outbox_row(sessions, "d")).status is OutboxStatus.DEAD
        await dispatcher.drain()  # the alert
        dead_id = (await outbox_row(sessions, "d")).id
        async with sessions() as session, session.begin():
            assert await queue.retry_dead(session, dead_id)  # an admin's Retry
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == dead_id).values(attempts=2))
        clock.travel(seconds=1)
    alerts = [n for _, n in dispatcher.senders["whatsapp"].sent if n.template == "dead_letter"]
    assert len(alerts) == 2


async def test_a_reminder_replaced_while_queued_here_goes_out_as_replaced(sessions, cipher, clock):
    async with sessions() as session, session.begin():
        user = await make_user(session)
        for order, key in enumerate(("a", "b")):
            await service.enqueue(
                session,
                cipher,
                key=key,
                user_id=user.id,
                template="reminder",
                params={"what": key},
                due_at=clock.now - timedelta(seconds=2 - order),
            )

    async def meanwhile():  # "b" is moved to now, with new words, while "a" is being sent
        async with sessions() as session, session.begin():
            await service.schedule(
                session,
                cipher,
                key="b",
                user_id=user.id,
                template="reminder",
                kind="appointment",
                params={"what": "b-moved"},
                due_at=clock.now,
            )

    sender = SlowSender(during=meanwhile)
    await Dispatcher(sessions, cipher, {"telegram": sender}, clock=clock).drain()
    assert [n.text.split(": ")[1].split(" at")[0] for _, n in sender.sent] == ["a", "b-moved"]
    assert (await outbox_row(sessions, "b")).status is OutboxStatus.SENT


async def test_the_gate_serves_the_highest_priority_first():
    from notifications.gate import PriorityGate

    gate, order = PriorityGate(1), []
    await gate.acquire(0)  # the one slot is taken

    async def wait(name: str, priority: int) -> None:
        await gate.acquire(priority)
        order.append(name)
        gate.release()

    waiters = [
        asyncio.create_task(wait(n, p)) for n, p in (("short", 1), ("urgent", 1_000_001), ("busy", 30))
    ]
    await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(*waiters)
    assert order == ["urgent", "busy", "short"]
