"""Quiet hours: when a non-urgent message would arrive at night in the recipient's timezone, it is
held until the morning. Wall-clock times are turned into UTC with zoneinfo on the day they fall,
so the morning after a daylight-saving change is still 08:00 local."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def held_until(now: datetime, timezone: str | None, start: time, end: time) -> datetime | None:
    """When quiet hours `start`–`end` (local) are on at `now`, the UTC time they end; else None.
    `start == end` means no quiet hours; `start > end` spans midnight (21:00–08:00)."""
    if start == end:
        return None
    tz = zone(timezone)
    local = now.astimezone(tz)
    at = local.time().replace(tzinfo=None)
    quiet = start <= at < end if start < end else (at >= start or at < end)
    if not quiet:
        return None
    day = local.date() if at < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
