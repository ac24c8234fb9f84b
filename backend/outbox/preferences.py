"""Each user's notification preferences: the channel they want messages on (when they have
several chats), the reminder kinds they muted, and their quiet hours (local time)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import NotificationPreference, utcnow
from backend.outbox.service import MUTABLE_KINDS

DEFAULT_QUIET = ("21:00", "08:00")
_HHMM = re.compile(r"^\s*([01]?\d|2[0-3])[:.]?([0-5]\d)\s*$")


@dataclass(frozen=True, slots=True)
class Preferences:
    channel: str | None = None
    muted: frozenset[str] = frozenset()
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)

    @property
    def quiet_off(self) -> bool:
        return self.quiet_start == self.quiet_end


def parse_time(text: str) -> time | None:
    """ "21:00", "9:30", "2130", "21.00" → a time; anything else → None."""
    match = _HHMM.match(text or "")
    return time(int(match.group(1)), int(match.group(2))) if match else None


def of(row: NotificationPreference | None) -> Preferences:
    if row is None:
        return Preferences()
    return Preferences(
        channel=row.channel,
        muted=frozenset(k for k in row.muted_kinds.split(",") if k),
        quiet_start=parse_time(row.quiet_start) or time(21, 0),
        quiet_end=parse_time(row.quiet_end) or time(8, 0),
    )


async def get(session: AsyncSession, user_id: str) -> Preferences:
    return of(await session.get(NotificationPreference, user_id))


async def _row(session: AsyncSession, user_id: str) -> NotificationPreference:
    row = await session.get(NotificationPreference, user_id)
    if row is None:
        row = NotificationPreference(
            user_id=user_id, muted_kinds="", quiet_start=DEFAULT_QUIET[0], quiet_end=DEFAULT_QUIET[1]
        )
        session.add(row)
    row.updated_at = utcnow()
    return row


async def set_channel(session: AsyncSession, user_id: str, channel: str | None) -> None:
    (await _row(session, user_id)).channel = channel


async def toggle_kind(session: AsyncSession, user_id: str, kind: str) -> bool:
    """Mute or unmute one reminder kind; True when it is muted now."""
    if kind not in MUTABLE_KINDS:
        raise ValueError(f"not a reminder kind: {kind}")
    row = await _row(session, user_id)
    muted = {k for k in row.muted_kinds.split(",") if k}
    muted ^= {kind}
    row.muted_kinds = ",".join(sorted(muted))
    return kind in muted


async def set_quiet_hours(session: AsyncSession, user_id: str, start: time, end: time) -> None:
    """Equal start and end turn quiet hours off."""
    row = await _row(session, user_id)
    row.quiet_start, row.quiet_end = start.strftime("%H:%M"), end.strftime("%H:%M")
