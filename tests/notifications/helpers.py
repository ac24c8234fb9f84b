"""Small factories and a recording channel for the outbox tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from backend.accounts.chats import new_identity
from backend.models import OutboxMessage, Role, User, new_id
from backend.outbox import service
from notifications.sender import Delivery, Notice
from tests.keys import run_cipher

# 12:00 in Asia/Kolkata. In the future on purpose: what the backend writes with the real time
# (an admin alert, a retried dead letter) must already be due by this clock, whatever the hour.
NOON_IST = datetime(2031, 6, 2, 6, 30, tzinfo=UTC)


class Clock:
    """A settable clock for the dispatcher ("time travel")."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def travel(self, **delta) -> None:
        self.now += timedelta(**delta)


async def outbox_row(sessions, key: str) -> OutboxMessage:
    async with sessions() as session:
        return await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))


async def make_user(
    session,
    *,
    role: Role = Role.PATIENT,
    timezone: str = "Asia/Kolkata",
    locale: str = "en",
    chats: tuple[tuple[str, str], ...] = (("telegram", None),),
    last_seen: tuple[datetime | None, ...] = (),
) -> User:
    user = User(id=new_id(), role=role, timezone=timezone, locale=locale, display_name="Asha")
    session.add(user)
    await session.flush()
    for index, (channel, address) in enumerate(chats):
        session.add(
            new_identity(
                run_cipher(),
                channel,
                address or f"{channel}-{user.id[:8]}-{index}",
                user_id=user.id,
                last_seen_at=last_seen[index] if index < len(last_seen) else None,
            )
        )
    await session.flush()
    return user


@dataclass
class RecordingSender:
    """A channel that records what it was given; `refuse` / `fail` make it say no."""

    channel: str = "telegram"
    chat_interval: float = 0.0
    sent: list[tuple[str, Notice]] = field(default_factory=list)
    refuse: bool = False
    can_wait: bool = False
    fail: bool = False

    async def deliver(self, address: str, notice: Notice) -> Delivery:
        if self.fail:
            return Delivery.failed("platform kept failing")
        if self.refuse:
            return Delivery.refused("blocked", can_wait=self.can_wait)
        self.sent.append((address, notice))
        return Delivery.sent(f"{self.channel}-{len(self.sent)}")

    @property
    def texts(self) -> list[str]:
        return [notice.text for _, notice in self.sent]


async def enqueue_nudge(
    session, cipher, *, key: str, name: str = "Asha", user_id: str | None = None
) -> OutboxMessage:
    """A profile nudge with one button ("Complete my profile"), for `user_id` or else the newest
    user, written to the outbox as the domain would. Urgent, so that quiet hours never hold it,
    whatever the hour of the test run."""
    if user_id is None:
        user_id = (await session.scalars(select(User.id).order_by(User.created_at.desc()))).first()
    return await service.enqueue(
        session,
        cipher,
        key=key,
        user_id=user_id,
        template="profile_nudge",
        params={"name": name},
        kind="profile",
        urgent=True,
        actions=(service.ActionButton("open", "btn_complete_profile"),),
        action="profile_nudge",
    )


async def nudge_through_app(app, key: str, name: str = "Asha") -> str:
    """`enqueue_nudge` in a running app's database, then wake its dispatcher. The row's id."""
    async with app.state.sessions() as session, session.begin():
        row = await enqueue_nudge(session, app.state.cipher, key=key, name=name)
    app.state.dispatcher.wake()
    return row.id
