"""A chat busy with its user's own updates must not hold a sending slot that other recipients'
messages need (issue 13: one chat cannot stall the others)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from backend.outbox import service
from conversations.chat_locks import ChatLocks
from notifications.dispatcher import Dispatcher, DispatchSettings
from tests.notifications.helpers import RecordingSender, make_user

NOON_IST = datetime(2031, 6, 2, 6, 30, tzinfo=UTC)  # outside quiet hours, whatever the hour of the run


class LockedChatSender(RecordingSender):
    """A channel whose chats are ordered by a lock, as Telegram's and WhatsApp's are: a notice
    waits for the chat's own updates to finish."""

    def __init__(self) -> None:
        super().__init__("telegram")
        self.chat_order = ChatLocks()

    async def wait_for_chat(self, address: str) -> None:
        await self.chat_order.wait_turn(address)

    async def deliver(self, address, notice):
        async with self.chat_order.hold(address):
            return await super().deliver(address, notice)


class WithoutWaiting(LockedChatSender):
    """The same channel as it was before: no way to wait for a chat outside the slot."""

    wait_for_chat = None


async def _two_recipients(sessions, cipher) -> None:
    async with sessions() as session, session.begin():
        # The busy chat's notice is due first, so without the fix it is the one holding the slot.
        for minutes, name in ((2, "busy"), (1, "idle")):
            user = await make_user(session, chats=(("telegram", f"chat-{name}"),))
            await service.enqueue(
                session, cipher, key=f"welcome:{name}", user_id=user.id, template="welcome",
                params={"name": name}, due_at=NOON_IST - timedelta(minutes=minutes),
            )  # fmt: skip


async def _idle_chat_served_while_the_busy_one_is_held(sessions, cipher, sender) -> list[str]:
    dispatcher = Dispatcher(
        sessions, cipher, {"telegram": sender}, DispatchSettings(concurrency=1), clock=lambda: NOON_IST
    )
    await _two_recipients(sessions, cipher)
    async with sender.chat_order.hold("chat-busy"):  # a burst of the user's own updates in progress
        drain = asyncio.create_task(dispatcher.drain())
        for _ in range(200):
            if sender.sent:
                break
            await asyncio.sleep(0.01)
        served_meanwhile = [address for address, _ in sender.sent]
    await asyncio.wait_for(drain, 10)
    assert sorted(address for address, _ in sender.sent) == ["chat-busy", "chat-idle"]
    return served_meanwhile


async def test_a_busy_chat_holds_no_sending_slot(sessions, cipher):
    served = await _idle_chat_served_while_the_busy_one_is_held(sessions, cipher, LockedChatSender())
    assert served == ["chat-idle"]


async def test_without_waiting_outside_the_slot_the_busy_chat_stalls_the_other(sessions, cipher):
    """The same scene without `wait_for_chat`: the one slot is held by the busy chat's notice, so
    the idle chat gets nothing until the burst ends. This is what the fix prevents."""
    served = await _idle_chat_served_while_the_busy_one_is_held(sessions, cipher, WithoutWaiting())
    assert served == []
