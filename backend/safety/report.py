"""`telecare safety report`: red flags per category per day, happening-now and history apart, and
the misses operators recorded on those days. Counts only: no patient, no words. Reading the
categories (health data, encrypted) for it is audited."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.access import Actor
from backend.crypto import FieldCipher
from backend.models import RedFlag, RedFlagMiss
from backend.safety.flags import category_of
from backend.timefmt import zone


@dataclass
class Report:
    first_day: date
    last_day: date
    timezone: str
    flags: Counter = field(default_factory=Counter)  # (day, category, history) → count
    misses: Counter = field(default_factory=Counter)  # (day, category) → count

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]


def _start_of(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone(timezone))


async def daily(
    session: AsyncSession,
    cipher: FieldCipher,
    actor: Actor,
    *,
    last_day: date,
    days: int,
    timezone: str,
    channel: str | None = None,
) -> Report:
    """The `days` days up to and including `last_day`, each a calendar day in `timezone`."""
    report = Report(last_day - timedelta(days=days - 1), last_day, timezone)
    start, end = _start_of(report.first_day, timezone), _start_of(last_day + timedelta(days=1), timezone)
    where = zone(timezone)
    flags = await session.scalars(
        select(RedFlag).where(RedFlag.created_at >= start, RedFlag.created_at < end)
    )
    for flag in flags:
        report.flags[(flag.created_at.astimezone(where).date(), category_of(cipher, flag), flag.history)] += 1
    misses = await session.execute(
        select(RedFlagMiss.created_at, RedFlagMiss.category).where(
            RedFlagMiss.created_at >= start, RedFlagMiss.created_at < end
        )
    )
    for at, category in misses:
        report.misses[(at.astimezone(where).date(), category)] += 1
    await audit.record(
        session,
        actor=actor,
        action="read",
        resource_type="red_flags",
        purpose="safety_report",
        channel=channel,
    )
    return report
