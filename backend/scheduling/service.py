"""Doctors' availability: weekly hours, breaks, days off and one-off hours, all in the doctor's own
timezone, and the bookable slots made from them up to the booking horizon.

Slots are stored in UTC. Each is made from a wall-clock time on its own date in the doctor's zone
(zoneinfo), so a 09:00 slot stays at 09:00 local across daylight-saving changes. A wall-clock time
the clocks skip (spring forward) makes no slot; one they repeat (fall back) makes one slot, at its
first occurrence.

A slot is *free* when its status is "free", it starts after now, and no appointment holds it: no
appointment has `slot_lock` = the slot's id, except a hold that has lapsed unpaid. `free_condition`
is that predicate, shared by search and booking so that both agree.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    AvailabilityRule,
    Doctor,
    Slot,
    VerificationStatus,
    new_id,
)

ALLOWED_SLOT_MINUTES = (10, 15, 20, 30, 45, 60)
# A date further ahead than this is taken for a typo ("2062"), not a plan.
MAX_DAYS_AHEAD = 366
# Rows per INSERT: well under SQLite's and PostgreSQL's limits on bound parameters.
_INSERT_CHUNK = 1000

Interval = tuple[time, time]


class AvailabilityError(Exception):
    """A change that cannot be made; `reason` is a message key the chat shows."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# A slot whose appointment the doctor cancelled: they cannot do that time, so regenerating the
# hours does not reopen it.
WITHDRAWN = "withdrawn"
# A slot starting sooner than this is not offered or held: the doctor needs time to accept.
BOOKING_LEAD = timedelta(minutes=30)


def require_verified(doctor: Doctor) -> None:
    """Until verified, a doctor cannot be listed or booked, so they may not open hours either."""
    if doctor.status is not VerificationStatus.VERIFIED:
        raise AvailabilityError("av_not_verified")


# --- the free-slot predicate ------------------------------------------------------------------


def _holds_slot(now: datetime) -> ColumnElement[bool]:
    """An appointment holds the slot: it carries the slot's lock and is not a lapsed unpaid hold."""
    return exists(
        select(Appointment.id).where(
            Appointment.slot_lock == Slot.id,
            or_(
                Appointment.status != AppointmentStatus.HELD,
                Appointment.hold_expires_at.is_(None),
                Appointment.hold_expires_at > now,
            ),
        )
    )


def free_condition(now: datetime) -> ColumnElement[bool]:
    """SQL: this slot can be booked now (open, far enough ahead for the doctor to answer, and not
    held by a live appointment)."""
    return and_(Slot.status == "free", Slot.starts_at > now + BOOKING_LEAD, ~_holds_slot(now))


async def free_slots(
    session: AsyncSession, doctor_id: str, *, start: datetime, end: datetime, now: datetime
) -> list[Slot]:
    """The doctor's free slots starting in [start, end), in time order."""
    query = (
        select(Slot)
        .where(
            Slot.doctor_id == doctor_id, Slot.starts_at >= start, Slot.starts_at < end, free_condition(now)
        )
        .order_by(Slot.starts_at)
    )
    return list(await session.scalars(query))


async def count_free(
    session: AsyncSession, doctor_id: str, *, start: datetime, end: datetime, now: datetime
) -> int:
    query = select(func.count()).where(
        Slot.doctor_id == doctor_id, Slot.starts_at >= start, Slot.starts_at < end, free_condition(now)
    )
    return await session.scalar(query) or 0


async def next_free_starts(
    session: AsyncSession, doctor_id: str, *, now: datetime, count: int
) -> list[datetime]:
    query = (
        select(Slot.starts_at)
        .where(Slot.doctor_id == doctor_id, free_condition(now))
        .order_by(Slot.starts_at)
        .limit(count)
    )
    return list(await session.scalars(query))


async def nearest_free_slots(
    session: AsyncSession,
    doctor_id: str,
    *,
    around: datetime,
    now: datetime,
    count: int = 3,
    exclude: frozenset[str] = frozenset(),
) -> list[Slot]:
    """The `count` free slots closest in time to `around`, before or after it, without the slots
    in `exclude`; returned in time order (a tie in distance goes to the earlier slot)."""
    if count <= 0:
        return []
    where = [Slot.doctor_id == doctor_id, free_condition(now)]
    if exclude:
        where.append(Slot.id.not_in(exclude))
    after = select(Slot).where(*where, Slot.starts_at >= around).order_by(Slot.starts_at).limit(count)
    before = select(Slot).where(*where, Slot.starts_at < around).order_by(Slot.starts_at.desc()).limit(count)
    candidates = [*await session.scalars(after), *await session.scalars(before)]
    candidates.sort(key=lambda slot: (abs(slot.starts_at - around), slot.starts_at))
    return sorted(candidates[:count], key=lambda slot: slot.starts_at)


# --- from rules to wall-clock windows to UTC slots (pure) ------------------------------------


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union: overlapping or touching intervals become one."""
    merged: list[list[time]] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def subtract(intervals: Iterable[Interval], cuts: Iterable[Interval]) -> list[Interval]:
    """`intervals` with every `cuts` interval taken out (a break out of working hours)."""
    pieces = merge(intervals)
    for cut_start, cut_end in merge(cuts):
        kept: list[Interval] = []
        for start, end in pieces:
            if cut_end <= start or end <= cut_start:
                kept.append((start, end))
                continue
            if start < cut_start:
                kept.append((start, cut_start))
            if cut_end < end:
                kept.append((cut_end, end))
        pieces = kept
    return pieces


def check_intervals(intervals: Sequence[Interval]) -> None:
    """Hours a doctor typed: each ends after it starts, and none overlaps another."""
    if any(end <= start for start, end in intervals):
        raise AvailabilityError("av_end_before_start")
    ordered = sorted(intervals)
    if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ordered)):
        raise AvailabilityError("av_overlap")


def day_windows(
    day: date,
    work: dict[int, list[Interval]],
    breaks: dict[int, list[Interval]],
    exceptions: Sequence[AvailabilityException],
) -> list[Interval]:
    """Bookable wall-clock windows of one date: the weekday's hours (or that date's one-off hours)
    minus the weekday's breaks; nothing on a day off. The daily break applies to one-off hours too."""
    own = [e for e in exceptions if e.day == day]
    if any(e.kind == "off" for e in own):
        return []
    one_off = [(e.start_time, e.end_time) for e in own if e.kind == "hours" and e.start_time and e.end_time]
    hours = one_off or work.get(day.weekday(), [])
    return subtract(hours, breaks.get(day.weekday(), []))


def _wall_to_utc(moment: datetime, zone: ZoneInfo) -> datetime | None:
    """A naive wall-clock time in `zone` as UTC; None when the clocks skip it. An ambiguous time
    (fold=0, the default) is its first occurrence."""
    utc = moment.replace(tzinfo=zone).astimezone(UTC)
    return utc if utc.astimezone(zone).replace(tzinfo=None) == moment else None


def slot_times(
    days: Iterable[date],
    windows_of: Callable[[date], list[Interval]],
    zone: ZoneInfo,
    minutes: int,
) -> list[tuple[datetime, datetime]]:
    """(start, end) in UTC for every slot that fits wholly inside a window, stepping the wall clock.
    Slots never overlap: around a daylight-saving change a start that would fall inside the
    previous slot (in real time) is left out."""
    length = timedelta(minutes=minutes)
    slots: list[tuple[datetime, datetime]] = []
    previous_end: datetime | None = None
    for day in days:
        for start, end in windows_of(day):
            window_end = datetime.combine(day, end)
            real_end = window_end.replace(tzinfo=zone).astimezone(UTC)
            cursor = datetime.combine(day, start)
            while cursor + length <= window_end:
                begins = _wall_to_utc(cursor, zone)
                cursor += length
                if begins is None:
                    continue
                ends = begins + length
                if ends > real_end or (previous_end is not None and begins < previous_end):
                    continue
                slots.append((begins, ends))
                previous_end = ends
    return slots


def rules_by_weekday(rules: Iterable[AvailabilityRule]) -> tuple[dict, dict]:
    work: dict[int, list[Interval]] = defaultdict(list)
    breaks: dict[int, list[Interval]] = defaultdict(list)
    for rule in rules:
        (breaks if rule.kind == "break" else work)[rule.weekday].append((rule.start_time, rule.end_time))
    return work, breaks


def local_today(doctor: Doctor, now: datetime) -> date:
    return now.astimezone(ZoneInfo(doctor.timezone)).date()


# --- reading and changing the rules ------------------------------------------------------------


async def weekly_rules(session: AsyncSession, doctor_id: str) -> list[AvailabilityRule]:
    return list(
        await session.scalars(
            select(AvailabilityRule)
            .where(AvailabilityRule.doctor_id == doctor_id)
            .order_by(AvailabilityRule.weekday, AvailabilityRule.start_time)
        )
    )


async def exceptions_between(
    session: AsyncSession, doctor_id: str, first: date, last: date | None = None
) -> list[AvailabilityException]:
    query = select(AvailabilityException).where(
        AvailabilityException.doctor_id == doctor_id, AvailabilityException.day >= first
    )
    if last is not None:
        query = query.where(AvailabilityException.day <= last)
    return list(
        await session.scalars(query.order_by(AvailabilityException.day, AvailabilityException.start_time))
    )


async def set_weekly_hours(session: AsyncSession, doctor: Doctor, hours: dict[int, list[Interval]]) -> None:
    """Replace the working hours of the given weekdays (an empty list: that weekday off)."""
    require_verified(doctor)
    for intervals in hours.values():
        check_intervals(intervals)
    if not hours:
        return
    await session.execute(
        delete(AvailabilityRule).where(
            AvailabilityRule.doctor_id == doctor.id,
            AvailabilityRule.kind == "work",
            AvailabilityRule.weekday.in_(list(hours)),
        )
    )
    for weekday, intervals in hours.items():
        for start, end in intervals:
            session.add(
                AvailabilityRule(
                    doctor_id=doctor.id, weekday=weekday, start_time=start, end_time=end, kind="work"
                )
            )
    await session.flush()


async def set_breaks(session: AsyncSession, doctor: Doctor, breaks: list[Interval]) -> None:
    """Replace the daily breaks (every weekday); an empty list removes them."""
    require_verified(doctor)
    check_intervals(breaks)
    await session.execute(
        delete(AvailabilityRule).where(
            AvailabilityRule.doctor_id == doctor.id, AvailabilityRule.kind == "break"
        )
    )
    for weekday in range(7):
        for start, end in breaks:
            session.add(
                AvailabilityRule(
                    doctor_id=doctor.id, weekday=weekday, start_time=start, end_time=end, kind="break"
                )
            )
    await session.flush()


def set_slot_minutes(doctor: Doctor, minutes: int) -> None:
    require_verified(doctor)
    if minutes not in ALLOWED_SLOT_MINUTES:
        raise AvailabilityError("av_bad_slot_length")
    doctor.slot_minutes = minutes


def set_on_call(doctor: Doctor, on_call: bool) -> None:
    require_verified(doctor)
    doctor.on_call = on_call


def set_auto_accept(doctor: Doctor, auto_accept: bool) -> None:
    require_verified(doctor)
    doctor.auto_accept = auto_accept


def _check_day(day: date, today: date) -> None:
    if day < today:
        raise AvailabilityError("av_date_past")
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        raise AvailabilityError("av_date_too_far")


async def _replace_exceptions(session: AsyncSession, doctor: Doctor, day: date, rows: list) -> None:
    await session.execute(
        delete(AvailabilityException).where(
            AvailabilityException.doctor_id == doctor.id, AvailabilityException.day == day
        )
    )
    session.add_all(rows)
    await session.flush()


async def set_day_off(session: AsyncSession, doctor: Doctor, day: date, *, today: date) -> None:
    """No slots on `day` (the doctor's local date); replaces any one-off hours of that date."""
    require_verified(doctor)
    _check_day(day, today)
    await _replace_exceptions(
        session, doctor, day, [AvailabilityException(doctor_id=doctor.id, day=day, kind="off")]
    )


async def set_day_hours(
    session: AsyncSession, doctor: Doctor, day: date, intervals: list[Interval], *, today: date
) -> None:
    """One-off hours on `day` instead of that weekday's usual hours."""
    require_verified(doctor)
    _check_day(day, today)
    if not intervals:
        raise AvailabilityError("av_no_hours")
    check_intervals(intervals)
    rows = [
        AvailabilityException(doctor_id=doctor.id, day=day, kind="hours", start_time=start, end_time=end)
        for start, end in intervals
    ]
    await _replace_exceptions(session, doctor, day, rows)


async def clear_day(session: AsyncSession, doctor: Doctor, day: date) -> bool:
    """Back to the usual weekly hours on `day`. False when there was nothing to clear."""
    require_verified(doctor)
    result = await session.execute(
        delete(AvailabilityException).where(
            AvailabilityException.doctor_id == doctor.id, AvailabilityException.day == day
        )
    )
    return bool(result.rowcount)


# --- generating slots --------------------------------------------------------------------------


async def _lock_doctor(session: AsyncSession, doctor_id: str, *, skip_locked: bool = False) -> bool:
    """Serialise slot generation per doctor across processes (a row lock on PostgreSQL; SQLite
    already serialises writers). With `skip_locked`, False when someone else holds it."""
    query = select(Doctor.id).where(Doctor.id == doctor_id).with_for_update(skip_locked=skip_locked)
    return await session.scalar(query) is not None


@dataclass(frozen=True)
class Regenerated:
    added: int  # slots that became bookable (new or reopened)
    closed: int  # free slots that no longer fit and were closed
    booked_outside: int  # booked slots that no longer fit: they stay, the doctor should know


async def generate_slots(session: AsyncSession, doctor: Doctor, *, now: datetime, horizon_days: int) -> int:
    """Make the doctor's future slots match their availability up to `now + horizon_days`.

    New slots are added; a closed slot that fits again is reopened (with the current length);
    a free slot that no longer fits is closed, unless an appointment holds it: booked slots stay
    exactly as they are, and no new slot may overlap one. Idempotent. Returns the number of
    slots that became bookable (added or reopened)."""
    return (await regenerate(session, doctor, now=now, horizon_days=horizon_days)).added


async def regenerate(
    session: AsyncSession, doctor: Doctor, *, now: datetime, horizon_days: int
) -> Regenerated:
    """`generate_slots`, telling also what was closed and which booked slots fall outside the hours."""
    await _lock_doctor(session, doctor.id)
    return await _generate(session, doctor, now=now, horizon_days=horizon_days)


async def _generate(
    session: AsyncSession, doctor: Doctor, *, now: datetime, horizon_days: int
) -> Regenerated:
    zone = ZoneInfo(doctor.timezone)
    until = now + timedelta(days=horizon_days)
    first, last = now.astimezone(zone).date(), until.astimezone(zone).date()
    work, breaks = rules_by_weekday(await weekly_rules(session, doctor.id))
    exceptions = await exceptions_between(session, doctor.id, first, last)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    wanted = [
        (start, end)
        for start, end in slot_times(
            days, lambda day: day_windows(day, work, breaks, exceptions), zone, doctor.slot_minutes
        )
        if now < start < until
    ]

    existing = list(
        await session.scalars(select(Slot).where(Slot.doctor_id == doctor.id, Slot.starts_at > now))
    )
    held = set(
        await session.scalars(
            select(Slot.id).where(Slot.doctor_id == doctor.id, Slot.starts_at > now, _holds_slot(now))
        )
    )
    by_start = {slot.starts_at: slot for slot in existing}
    booked = [slot for slot in existing if slot.id in held]

    bookable = 0
    keep: set[datetime] = set()
    rows: list[dict] = []
    for start, end in wanted:
        slot = by_start.get(start)
        if slot is not None and (slot.id in held or slot.status == WITHDRAWN):
            keep.add(start)  # booked, or given up by the doctor (a cancellation): left as it is
            continue
        if any(other.starts_at < end and start < other.ends_at for other in booked):
            continue  # a booked slot of the old length is in the way
        keep.add(start)
        if slot is None:
            rows.append(
                {"id": new_id(), "doctor_id": doctor.id, "starts_at": start, "ends_at": end, "status": "free"}
            )
        elif slot.status != "free" or slot.ends_at != end:
            bookable += slot.status != "free"
            slot.status, slot.ends_at = "free", end
    closed = 0
    for slot in existing:
        if slot.status == "free" and slot.id not in held and slot.starts_at not in keep:
            slot.status = "closed"
            closed += 1
    await session.flush()
    added = bookable + await _insert_new(session, rows)
    outside = sum(1 for slot in booked if slot.starts_at not in keep)
    return Regenerated(added=added, closed=closed, booked_outside=outside)


async def _insert_new(session: AsyncSession, rows: list[dict]) -> int:
    """Insert slots, skipping any another transaction added meanwhile (same doctor and start)."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    added = 0
    for index in range(0, len(rows), _INSERT_CHUNK):
        statement = (
            dialect.insert(Slot)
            .values(rows[index : index + _INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=["doctor_id", "starts_at"])
            .returning(Slot.id)
        )
        added += len(list(await session.scalars(statement)))
    return added


async def refresh_all(session: AsyncSession, *, now: datetime, horizon_days: int) -> int:
    """Keep every verified doctor's slots generated up to the horizon (the periodic sweeper). A
    doctor whose row is locked (they are changing their hours right now) is skipped this round:
    their own change regenerates their slots."""
    doctors = list(
        await session.scalars(
            select(Doctor).where(Doctor.status == VerificationStatus.VERIFIED).order_by(Doctor.id)
        )
    )
    added = 0
    for doctor in doctors:
        if await _lock_doctor(session, doctor.id, skip_locked=True):
            added += (await _generate(session, doctor, now=now, horizon_days=horizon_days)).added
    return added
