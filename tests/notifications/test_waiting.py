"""A message for a user no chat can reach (none yet, or every one blocked, opted out or stopped)
waits instead of being dropped: it is never claimed again meanwhile, never a dead letter, and goes
out when the user opens a chat — unless it is past its window or withdrawn first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from backend.accounts.chats import new_identity
from backend.models import ChannelIdentity, NotificationAction, OutboxStatus, Role
from backend.outbox import queue, service
from bot.web.notify import flush_waiting
from tests.keys import run_cipher
from tests.notifications.helpers import NOON_IST, enqueue_nudge, make_user, outbox_row


async def _user_without_a_chat_and_a_request(sessions, cipher, clock, *, window=None) -> str:
    """A doctor with no chat yet, a request with buttons for them, and an admin who would be
    alerted about a dead letter. Returns the doctor's id."""
    async with sessions() as session, session.begin():
        doctor = await make_user(session, role=Role.DOCTOR, chats=())
        await make_user(session, role=Role.ADMIN, chats=(("whatsapp", "+91admin"),))
        await service.enqueue(
            session,
            cipher,
            key="request",
            user_id=doctor.id,
            template="profile_nudge",
            params={"name": "Asha"},
            due_at=clock.now,
            window=window,
            urgent=True,
            actions=(service.ActionButton("open", "btn_complete_profile"),),
            action="profile_nudge",
        )
    return doctor.id


async def test_a_message_for_a_user_with_no_chat_waits_and_is_never_claimed_again(
    sessions, cipher, dispatcher, whatsapp, clock
):
    await _user_without_a_chat_and_a_request(sessions, cipher, clock)
    assert await dispatcher.drain() == 1
    row = await outbox_row(sessions, "request")
    assert (row.status, row.channel, row.delivery_status, row.attempts) == (
        OutboxStatus.SENT,
        None,
        "waiting",
        0,
    )
    # No busy loop: past any lease or retry delay, nothing claims it again ...
    for later in (timedelta(0), timedelta(minutes=5), timedelta(days=2)):
        clock.now = NOON_IST + later
        assert await dispatcher.drain() == 0
        async with sessions() as session, session.begin():
            assert (
                await queue.claim_due(session, "other", limit=10, lease=timedelta(minutes=2), now=clock.now)
                == []
            )
    # ... and it is no dead letter: no admin was alerted.
    async with sessions() as session:
        assert await queue.dead_letters(session) == []
    assert whatsapp.sent == []


async def test_a_waiting_message_goes_out_with_its_buttons_on_the_chat_the_user_opens(
    sessions, cipher, dispatcher, telegram, clock
):
    doctor_id = await _user_without_a_chat_and_a_request(sessions, cipher, clock)
    await dispatcher.drain()
    async with sessions() as session:
        tokens = set((await session.scalars(select(NotificationAction.token))).all())
    assert len(tokens) == 1
    async with sessions() as session, session.begin():  # the doctor signs in on Telegram
        session.add(new_identity(run_cipher(), "telegram", "t-doctor", user_id=doctor_id))
        assert await queue.release_waiting(session, doctor_id, due_at=clock.now) == 1
    assert await dispatcher.drain() == 1
    ((address, notice),) = telegram.sent
    assert address == "t-doctor" and {a.token for a in notice.actions} == tokens
    row = await outbox_row(sessions, "request")
    assert (row.status, row.channel, row.delivery_status) == (OutboxStatus.SENT, "telegram", "sent")
    async with sessions() as session, session.begin():
        assert await queue.release_waiting(session, doctor_id, due_at=clock.now) == 0  # shown: done


async def test_a_waiting_message_past_its_window_is_not_shown(sessions, cipher, dispatcher, telegram, clock):
    doctor_id = await _user_without_a_chat_and_a_request(sessions, cipher, clock, window=timedelta(hours=1))
    await dispatcher.drain()
    async with sessions() as session:
        assert len(await queue.waiting_for_web(session, doctor_id, now=clock.now)) == 1
    clock.now += timedelta(hours=2)
    async with sessions() as session, session.begin():
        assert await queue.waiting_for_web(session, doctor_id, now=clock.now) == []
        session.add(new_identity(run_cipher(), "telegram", "t-doctor", user_id=doctor_id))
        await queue.release_waiting(session, doctor_id, due_at=clock.now)
    await dispatcher.drain()
    assert telegram.sent == []
    assert (await outbox_row(sessions, "request")).status is OutboxStatus.DROPPED


async def test_a_waiting_message_can_still_be_withdrawn(sessions, cipher, dispatcher, clock):
    doctor_id = await _user_without_a_chat_and_a_request(sessions, cipher, clock)
    await dispatcher.drain()
    async with sessions() as session, session.begin():
        assert await service.cancel(session, "request")
    async with sessions() as session, session.begin():
        assert await queue.waiting_for_web(session, doctor_id, now=clock.now) == []
        assert await queue.release_waiting(session, doctor_id, due_at=clock.now) == 0
    assert (await outbox_row(sessions, "request")).status is OutboxStatus.CANCELLED


async def test_a_chat_that_said_stop_is_not_messaged_when_its_waiting_message_is_released(
    sessions, cipher, dispatcher, whatsapp, clock
):
    async with sessions() as session, session.begin():
        user = await make_user(session, chats=(("whatsapp", "+919800000001"),))
        chat = await session.scalar(select(ChannelIdentity))
        chat.opted_out_at = clock.now
        await enqueue_nudge(session, cipher, key="nudge", user_id=user.id)
    await dispatcher.drain()
    async with sessions() as session, session.begin():  # they write again, still opted out
        assert await queue.release_waiting(session, user.id, due_at=clock.now) == 1
    await dispatcher.drain()
    assert whatsapp.sent == []
    row = await outbox_row(sessions, "nudge")
    assert (row.status, row.channel, row.delivery_status) == (OutboxStatus.SENT, None, "waiting")


class Tabs:
    """A web chat's open tabs, as flush_waiting sees them: each send says how many tabs took it."""

    def __init__(self, open_tabs: int) -> None:
        self.open_tabs = open_tabs
        self.frames: list[dict] = []

    async def send(self, chat_key: str, message: dict, *, skip=None) -> int:
        if self.open_tabs:
            self.frames.append(message)
        return self.open_tabs


async def _waiting_for_a_web_chat(sessions, cipher, dispatcher, clock) -> str:
    """The request waits (no chat); then the doctor gets a web chat. Returns its address."""
    doctor_id = await _user_without_a_chat_and_a_request(sessions, cipher, clock)
    await dispatcher.drain()
    async with sessions() as session, session.begin():
        session.add(new_identity(run_cipher(), "web", "w-doctor", user_id=doctor_id))
    return "w-doctor"


async def test_two_tabs_opening_at_once_show_a_waiting_message_once(sessions, cipher, dispatcher, clock):
    address = await _waiting_for_a_web_chat(sessions, cipher, dispatcher, clock)
    tabs = Tabs(open_tabs=1)
    shown = await asyncio.gather(*(flush_waiting(sessions, cipher, tabs, address) for _ in range(2)))
    assert sorted(shown) == [0, 1] and len(tabs.frames) == 1  # claimed before shown: one tab shows it
    row = await outbox_row(sessions, "request")
    assert (row.channel, row.delivery_status) == ("web", "delivered")


async def test_a_message_claimed_for_a_tab_that_closed_waits_again(sessions, cipher, dispatcher, clock):
    address = await _waiting_for_a_web_chat(sessions, cipher, dispatcher, clock)
    assert await flush_waiting(sessions, cipher, Tabs(open_tabs=0), address) == 0
    assert (await outbox_row(sessions, "request")).delivery_status == "waiting"
    tabs = Tabs(open_tabs=1)
    assert await flush_waiting(sessions, cipher, tabs, address) == 1 and len(tabs.frames) == 1


async def test_a_message_shown_on_the_web_is_not_released_to_telegram_as_well(
    sessions, cipher, dispatcher, telegram, clock
):
    address = await _waiting_for_a_web_chat(sessions, cipher, dispatcher, clock)
    assert await flush_waiting(sessions, cipher, Tabs(open_tabs=1), address) == 1
    row = await outbox_row(sessions, "request")
    async with sessions() as session, session.begin():  # the user writes on Telegram just after
        assert await queue.release_waiting(session, row.user_id, due_at=clock.now) == 0
    assert await dispatcher.drain() == 0 and telegram.sent == []
