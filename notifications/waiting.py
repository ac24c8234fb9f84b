"""Messages that waited for the user (their web chat was closed, or they had no chat that could
take them): shown when one of the user's web chats opens, then marked delivered there."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.accounts import chats
from backend.crypto import FieldCipher
from backend.models import ChannelIdentity, NotificationAction, OutboxMessage, User, utcnow
from backend.outbox import queue
from backend.outbox.service import open_params
from notifications.dispatcher import notice_for
from notifications.sender import Notice


async def for_web_chat(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, address: str
) -> list[Notice]:
    async with sessions() as session:
        user = await session.scalar(
            select(User)
            .join(ChannelIdentity, ChannelIdentity.user_id == User.id)
            .where(*chats.is_chat(cipher, "web", address), User.active)
        )
        if user is None:
            return []
        rows = await queue.waiting_for_web(session, user.id)
        if not rows:
            return []
        actions: dict[str, list[NotificationAction]] = {row.id: [] for row in rows}
        for action in (
            await session.scalars(
                select(NotificationAction).where(NotificationAction.outbox_id.in_(list(actions)))
            )
        ).all():
            actions[action.outbox_id].append(action)
        return [notice_for(row, open_params(cipher, row), user, actions[row.id]) for row in rows]


async def mark_delivered(sessions: async_sessionmaker[AsyncSession], outbox_ids: list[str]) -> set[str]:
    """Claim the messages for a web chat that opened: marked delivered there; returns those this
    call moved from waiting (of two tabs opening at once, one moves each, and only it shows it)."""
    async with sessions() as session, session.begin():
        moved = await session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.delivery_status == queue.WAITING)
            .values(channel="web", delivery_status="delivered", updated_at=utcnow())
            .returning(OutboxMessage.id)
        )
        return set(moved.all())


async def wait_again(sessions: async_sessionmaker[AsyncSession], outbox_ids: list[str]) -> None:
    """Claimed for a tab that closed before it could show them: they wait for the next one."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(outbox_ids),
                OutboxMessage.channel == "web",
                OutboxMessage.delivery_status == "delivered",
            )
            .values(delivery_status=queue.WAITING, updated_at=utcnow())
        )
