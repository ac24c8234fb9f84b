"""Hours, times and dates as doctors type them in chat.

    "Mon-Fri 09:00-13:00, 14:00-17:00"     "Sat 10:00-12:00"     "Sun off"
    "9am-1pm"   "9:30 pm"   "0930-1300"   "weekdays 9 to 5pm"   "सोमवार 10:00-12:00"
    "25-12-2026"   "2026-12-25"   "25 Dec"   "tomorrow"

Each parser returns plain values or raises `AvailabilityError` with the message key to show.
Day names come from babel (English and Hindi, wide and abbreviated), so the chat accepts the
names it prints."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta

from babel.dates import get_day_names

from backend.scheduling.service import AvailabilityError, Interval, check_intervals

_TIME = r"(?:\d{1,2}(?:[:.]?\d{2})?\s*(?:[ap]\.?\s?m\b\.?)?|noon)"
_TOKENS = re.compile(
    rf"(?P<interval>{_TIME}\s*-\s*{_TIME})|(?P<word>[a-z\u0900-\u0963\u0970-\u097f]+)|(?P<dash>-)|(?P<other>[^\s,;&/.|])"
)
_ONE_TIME = re.compile(r"(?P<hour>\d{1,2})(?:[:.]?(?P<minute>\d{2}))?\s*(?:(?P<half>[ap])\.?\s?m\.?)?")

_GROUPS = {
    "daily": range(7),
    "everyday": range(7),
    "weekdays": range(5),
    "weekday": range(5),
    "weekends": (5, 6),
    "weekend": (5, 6),
    "रोज़": range(7),
    "रोज": range(7),
}
_OFF = {"off", "closed", "none", "holiday", "leave", "छुट्टी", "बंद"}
# Words that join, and change nothing: "Mon and Wed from 9 to 1".
_FILLERS = {"and", "from", "on", "at", "every", "all", "days", "और", "से", "तक", "को"}
_ENGLISH_DAYS = {name.casefold(): day for day, name in get_day_names("wide", locale="en").items()}


def _day_names() -> dict[str, int]:
    names: dict[str, int] = {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
    for locale in ("en", "hi"):
        for width in ("wide", "abbreviated"):
            for day, name in get_day_names(width, locale=locale).items():
                names[unicodedata.normalize("NFC", name).casefold()] = day
    return names


_DAYS = _day_names()


def _day(word: str) -> int | None:
    if word in _DAYS:
        return _DAYS[word]
    # "mo", "tu", "thu", "satur": the start of exactly one English day name.
    matches = {day for name, day in _ENGLISH_DAYS.items() if len(word) >= 2 and name.startswith(word)}
    return matches.pop() if len(matches) == 1 else None


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    text = re.sub(r"[\u2010-\u2015\u2212~]", "-", text)  # en and em dashes, minus sign, tilde
    text = re.sub(r"\s+(?:to|till|until)\s+", "-", text)
    return re.sub(r"\bevery\s+day\b|\ball\s+days\b", "daily", text)


def parse_time(text: str) -> time:
    """ "09:00", "9", "9am", "9:30 pm", "0930", "21.30", "noon" → a time of day."""
    cleaned = _normalise(text).strip()
    if cleaned == "noon":
        return time(12, 0)
    match = _ONE_TIME.fullmatch(cleaned)
    if not match:
        raise AvailabilityError("av_time_invalid")
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            raise AvailabilityError("av_time_invalid")
        hour = hour % 12 + (12 if match["half"] == "p" else 0)
    if hour > 23 or minute > 59:
        raise AvailabilityError("av_time_invalid")
    return time(hour, minute)


def _interval(text: str) -> Interval:
    start_text, end_text = text.split("-", 1)
    start_text, end_text = start_text.strip(), end_text.strip()
    # "9-1pm": the start takes the end's am/pm when it has none and that makes the hours run forward.
    half = re.search(r"([ap])\.?\s?m\.?$", end_text)
    start = parse_time(start_text)
    if half and not re.search(r"[ap]\.?\s?m\.?$", start_text) and start.hour <= 12:
        with_half = parse_time(f"{start_text}{half[1]}m")
        if with_half < parse_time(end_text):
            start = with_half
    return start, parse_time(end_text)


def parse_intervals(text: str) -> list[Interval]:
    """ "13:00-14:00", "9am-1pm, 2pm-5pm" → intervals (checked: each ends after it starts, no overlap)."""
    intervals: list[Interval] = []
    for token in _TOKENS.finditer(_normalise(text)):
        if token["interval"]:
            intervals.append(_interval(token["interval"]))
        elif token["word"] not in _FILLERS:
            raise AvailabilityError("av_hours_invalid")
    if not intervals:
        raise AvailabilityError("av_hours_invalid")
    check_intervals(intervals)
    return intervals


def parse_weekly_hours(text: str) -> dict[int, list[Interval]]:
    """ "Mon-Fri 09:00-13:00, 14:00-17:00; Sat 10:00-12:00; Sun off" → {weekday: intervals}; an
    empty list is a day off. Later entries win for the same day ("daily 9-5, sun off")."""
    entries: list[tuple[list[int], list[Interval] | None]] = []
    days: list[int] = []
    hours: list[Interval] = []
    off = False
    range_from: int | None = None  # a day followed by "-": the next day ends a range
    last_day: int | None = None

    def close() -> None:
        nonlocal days, hours, off
        if days:
            if not hours and not off:
                raise AvailabilityError("av_hours_missing")
            entries.append((days, None if off else hours))
        days, hours, off = [], [], False

    for token in _TOKENS.finditer(_normalise(text)):
        word = token["word"]
        if token["interval"]:
            if not days or off:
                raise AvailabilityError("av_days_missing")
            hours.append(_interval(token["interval"]))
            last_day = None
        elif token["dash"]:
            if last_day is None:
                raise AvailabilityError("av_hours_invalid")
            range_from = last_day
        elif word in _GROUPS or (word and _day(word) is not None):
            if hours or off:
                close()
            if word in _GROUPS:
                days.extend(d for d in _GROUPS[word] if d not in days)
                last_day, range_from = None, None
                continue
            day = _day(word)
            span = (
                [day]
                if range_from is None
                else [(range_from + n) % 7 for n in range((day - range_from) % 7 + 1)]
            )
            days.extend(d for d in span if d not in days)
            last_day, range_from = day, None
        elif word in _OFF:
            if not days or hours:
                raise AvailabilityError("av_hours_invalid")
            off = True
        elif word not in _FILLERS:
            raise AvailabilityError("av_hours_invalid")
    if range_from is not None:
        raise AvailabilityError("av_hours_invalid")
    if not days and not entries:
        raise AvailabilityError("av_days_missing")
    close()

    weekly: dict[int, list[Interval]] = {}
    for entry_days, entry_hours in entries:
        if entry_hours:
            check_intervals(entry_hours)
        for day in entry_days:
            weekly[day] = sorted(entry_hours or [])
    return weekly


# --- dates --------------------------------------------------------------------------------------

_WITH_YEAR = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y")
_WITHOUT_YEAR = ("%d-%m", "%d/%m", "%d.%m", "%d %b", "%d %B", "%b %d", "%B %d")
_RELATIVE = {
    "today": 0,
    "tomorrow": 1,
    "आज": 0,
    "कल": 1,
}  # "कल" is also yesterday; only ahead makes sense here
_DATE_AT_START = re.compile(
    r"^\s*(?P<date>\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[-/.]\d{1,2}(?:[-/.]\d{4})?|\d{1,2}\s+[a-z]+\.?(?:\s+\d{4}\b)?"
    r"|[a-z]+\.?\s+\d{1,2}(?:\s*,?\s*\d{4}\b)?|today|tomorrow|आज|कल)(?=\s|,|$)"
)


def parse_day(text: str, *, today: date) -> date:
    """ "25-12-2026", "2026-12-25", "25/12", "25 Dec", "Dec 25, 2026", "tomorrow" → a date. Without a
    year: the next such date from today. Day first ("05-06" is 5 June), as in India."""
    cleaned = re.sub(r"(?<=[a-z])\.", "", _normalise(text))  # "Dec." is "Dec"
    cleaned = " ".join(cleaned.replace(",", " ").split())
    if cleaned in _RELATIVE:
        return today + timedelta(days=_RELATIVE[cleaned])
    for fmt in _WITH_YEAR:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    for fmt in _WITHOUT_YEAR:
        try:
            parsed = datetime.strptime(f"{cleaned} {today.year}", f"{fmt} %Y").date()
        except ValueError:
            continue
        return parsed if parsed >= today else parsed.replace(year=today.year + 1)
    raise AvailabilityError("av_date_invalid")


def parse_day_and_hours(text: str, *, today: date) -> tuple[date, list[Interval] | None]:
    """ "24-12-2026 10:00-12:00, 15:00-17:00" → (date, intervals); "25 Dec off" → (date, None)."""
    normalised = _normalise(text)
    match = _DATE_AT_START.match(normalised)
    if not match:
        raise AvailabilityError("av_date_invalid")
    day = parse_day(match["date"], today=today)
    rest = normalised[match.end() :].strip(" ,:")
    if not rest:
        raise AvailabilityError("av_hours_missing")
    if rest in _OFF:
        return day, None
    return day, parse_intervals(rest)
