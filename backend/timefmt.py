"""A moment as a person reads it: in their timezone and language ("Tue, 8 Dec 2026, 10:30 am").
One place, so the checkout the backend shows and the messages notifications send write a time the
same way."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, get_timezone_name

# Formatting follows India's conventions in both languages (₹1,50,000; "15 Aug 1990").
FORMAT_LOCALES = {"en": "en_IN", "hi": "hi_IN"}


def babel_locale(locale: str) -> str:
    return FORMAT_LOCALES.get(locale, "en_IN")


def zone(name: str) -> ZoneInfo:
    """The named timezone; UTC for a name that is not one (a stored value from an older list)."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def local_time(value: datetime | str, locale: str, timezone: str) -> str:
    """'Tue, 8 Dec 2026, 10:30 am' from a datetime or its ISO text (ValueError for bad text)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    # Skeletons, not patterns: each language orders day, month and time its own way.
    where, language = zone(timezone), babel_locale(locale)
    day = format_skeleton("yMMMEd", moment, tzinfo=where, locale=language)  # "Mon, 30 Nov 2026"
    return f"{day}, {format_skeleton('hm', moment, tzinfo=where, locale=language)}"


def zone_name(value: datetime, locale: str, timezone: str) -> str:
    """The timezone as a person names it at that moment: "India Standard Time", "भारतीय मानक समय"
    (daylight-saving aware: "British Summer Time" in June)."""
    return get_timezone_name(value.astimezone(zone(timezone)), locale=babel_locale(locale))
