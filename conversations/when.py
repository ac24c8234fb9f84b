"""Times and days as a user reads them: in their own timezone and language."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from conversations.context import Context
from conversations.copy import format_locale
from conversations.recognize import normalise

# Days a patient types at a day picker, as days after today in their own timezone. In Hindi "kal"
# (कल) is yesterday or tomorrow; a picker offers only days ahead, so there it is tomorrow.
DAY_WORDS: dict[str, int] = {
    "today": 0,
    "aaj": 0,
    "आज": 0,
    "tomorrow": 1,
    "tmrw": 1,
    "kal": 1,
    "कल": 1,
    "day after tomorrow": 2,
    "parso": 2,
    "parson": 2,
    "परसों": 2,
}
_DAY_WORDS = {normalise(word): offset for word, offset in DAY_WORDS.items()}


def zone(ctx: Context) -> ZoneInfo:
    """The user's timezone; the platform's default for a chat with no account or a bad name."""
    for name in (ctx.user.timezone if ctx.user else None, ctx.settings.default_timezone):
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError, TypeError):
            continue
    return ZoneInfo("UTC")


def local_day(ctx: Context, moment: datetime) -> date:
    return moment.astimezone(zone(ctx)).date()


def day_label(ctx: Context, moment: datetime) -> str:
    """'Mon, 30 Nov'."""
    return format_skeleton("MMMEd", moment, tzinfo=zone(ctx), locale=format_locale(ctx.locale))


def clock(ctx: Context, moment: datetime) -> str:
    """'10:30 am'."""
    return format_skeleton("hm", moment, tzinfo=zone(ctx), locale=format_locale(ctx.locale))


def when(ctx: Context, moment: datetime) -> str:
    """'Mon, 30 Nov, 10:30 am'."""
    return f"{day_label(ctx, moment)}, {clock(ctx, moment)}"


def typed_day(ctx: Context, text: str) -> date | None:
    """The day a patient means by "today", "tomorrow", "aaj", "kal"…, in their timezone; else None."""
    offset = _DAY_WORDS.get(normalise(text[:40]))
    return None if offset is None else local_day(ctx, ctx.now) + timedelta(days=offset)


def date_label(ctx: Context, day: date) -> str:
    """'Mon, 30 Nov' for a calendar day of the user's."""
    return day_label(ctx, datetime.combine(day, time(12), tzinfo=zone(ctx)))
