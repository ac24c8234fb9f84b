"""Times and days as a user reads them: in their own timezone and language."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from conversations.context import Context
from conversations.copy import format_locale


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
