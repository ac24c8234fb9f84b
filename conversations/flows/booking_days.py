"""The booking flow's days: which days a doctor is free on, in the patient's own timezone, and a
day typed in words at the day picker ("today", "tomorrow", "aaj", "kal"; the words themselves are
in conversations.when.DAY_WORDS)."""

from __future__ import annotations

from datetime import date, timedelta

from babel.lists import format_list

from backend.models import Doctor, Slot
from backend.scheduling import service as scheduling
from conversations import when
from conversations.context import Context
from conversations.copy import format_locale
from conversations.flow import Outcome, next_step, retry


async def free_slots(ctx: Context, doctor: Doctor) -> list[Slot]:
    """The doctor's free times from now to the booking horizon."""
    horizon = ctx.now + timedelta(days=ctx.settings.booking_horizon_days)
    return await scheduling.free_slots(ctx.session, doctor.id, start=ctx.now, end=horizon, now=ctx.now)


async def free_days(ctx: Context, doctor: Doctor) -> dict[str, str]:
    """The patient's days (ISO date → label) on which the doctor has a free time, in order."""
    days: dict[str, str] = {}
    for slot in await free_slots(ctx, doctor):
        days.setdefault(when.local_day(ctx, slot.starts_at).isoformat(), when.day_label(ctx, slot.starts_at))
    return days


async def typed_day(ctx: Context, doctor: Doctor, text: str) -> Outcome:
    """ "today", "tomorrow", "kal"…: that day's times, or, when it has none, the nearest days."""
    wanted = when.typed_day(ctx, text)
    if wanted is None:
        return retry(ctx.t("booking_day_unknown"))
    days = await free_days(ctx, doctor)
    if wanted.isoformat() in days:
        ctx.form.update(day=wanted.isoformat(), time_page=0)
        return next_step("time")
    nearest = sorted(days, key=lambda iso: (abs(date.fromisoformat(iso) - wanted), iso))[:2]
    if not nearest:
        return retry(ctx.t("booking_day_not_free_none", day=when.date_label(ctx, wanted)))
    return retry(
        ctx.t(
            "booking_day_not_free",
            day=when.date_label(ctx, wanted),
            nearest=format_list([days[iso] for iso in sorted(nearest)], locale=format_locale(ctx.locale)),
        )
    )
