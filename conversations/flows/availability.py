"""A doctor's availability: weekly hours, slot length, daily break, days off and one-off hours, on
call and manual or automatic acceptance. Only a verified doctor may change anything; after each
change the slots are regenerated up to the booking horizon (backend.scheduling.service)."""

from __future__ import annotations

from datetime import date, time, timedelta

from babel.dates import format_skeleton, format_time, get_day_names

from backend.directory import service as directory
from backend.models import Doctor, VerificationStatus
from backend.scheduling import parsing
from backend.scheduling import service as scheduling
from backend.scheduling.service import AvailabilityError, Interval
from conversations.context import Context
from conversations.copy import format_locale
from conversations.flow import Answer, Flow, Option, Outcome, Prompt, Step, prompt, retry, say, switch

BACK = "back"


# --- showing the hours -------------------------------------------------------------------------


def _time(ctx: Context, value: time) -> str:
    return format_time(value, "short", locale=format_locale(ctx.locale))


def _intervals(ctx: Context, intervals: list[Interval]) -> str:
    return ", ".join(f"{_time(ctx, start)}–{_time(ctx, end)}" for start, end in intervals)


def _day(ctx: Context, day: date) -> str:
    return format_skeleton("yMMMEd", day, locale=format_locale(ctx.locale))


async def _summary(ctx: Context, doctor: Doctor) -> str:
    work, breaks = scheduling.rules_by_weekday(await scheduling.weekly_rules(ctx.session, doctor.id))
    names = get_day_names("wide", locale=format_locale(ctx.locale))
    week = "\n".join(
        f"• {names[day]}: {_intervals(ctx, sorted(work[day])) if work.get(day) else ctx.t('av_off')}"
        for day in range(7)
    )
    daily_breaks = sorted({interval for intervals in breaks.values() for interval in intervals})
    today = scheduling.local_today(doctor, ctx.now)
    dates = _exception_lines(ctx, await scheduling.exceptions_between(ctx.session, doctor.id, today))
    horizon = ctx.settings.booking_horizon_days
    free = await scheduling.count_free(
        ctx.session, doctor.id, start=ctx.now, end=ctx.now + timedelta(days=horizon), now=ctx.now
    )
    return ctx.t(
        "av_summary",
        timezone=doctor.timezone,
        week=week,
        breaks=_intervals(ctx, daily_breaks) if daily_breaks else ctx.t("av_none"),
        minutes=doctor.slot_minutes,
        dates="\n".join(dates) if dates else ctx.t("av_none"),
        on_call=ctx.t("av_yes" if doctor.on_call else "av_no"),
        acceptance=ctx.t("av_accept_auto" if doctor.auto_accept else "av_accept_manual"),
        days=horizon,
        free=free,
    )


def _exception_lines(ctx: Context, exceptions) -> list[str]:
    by_day: dict[date, list] = {}
    for exception in exceptions:
        by_day.setdefault(exception.day, []).append(exception)
    lines = []
    for day, rows in by_day.items():
        if any(row.kind == "off" for row in rows):
            lines.append(f"• {_day(ctx, day)}: {ctx.t('av_off')}")
        else:
            hours = sorted((row.start_time, row.end_time) for row in rows)
            lines.append(f"• {_day(ctx, day)}: {_intervals(ctx, hours)}")
    return lines


# --- the doctor, and applying a change ---------------------------------------------------------


async def _doctor(ctx: Context) -> Doctor | None:
    return await directory.doctor_of(ctx.session, ctx.user.id)


def _overview(*texts: str) -> Outcome:
    return Outcome(say=say(*texts), goto="overview", remember=False)


async def _regenerate(ctx: Context, doctor: Doctor) -> str:
    """Slots follow the change at once; the doctor hears how many are bookable and whether any
    booked appointment is now outside the hours (it stays booked)."""
    result = await scheduling.regenerate(
        ctx.session, doctor, now=ctx.now, horizon_days=ctx.settings.booking_horizon_days
    )
    horizon = ctx.settings.booking_horizon_days
    free = await scheduling.count_free(
        ctx.session, doctor.id, start=ctx.now, end=ctx.now + timedelta(days=horizon), now=ctx.now
    )
    text = ctx.t("av_saved", free=free, days=horizon)
    if result.booked_outside:
        text += "\n" + ctx.t("av_booked_stay", count=result.booked_outside)
    return text


async def _verified_doctor(ctx: Context) -> Doctor | None:
    doctor = await _doctor(ctx)
    return doctor if doctor is not None and doctor.status is VerificationStatus.VERIFIED else None


def _refused(ctx: Context) -> Outcome:
    """The doctor is not (or no longer) verified: nothing is saved; the overview says why."""
    return _overview()


# --- overview ------------------------------------------------------------------------------------


async def ask_overview(ctx: Context) -> Prompt:
    doctor = await _doctor(ctx)
    menu = Option("menu", ctx.t("menu_button"))
    if doctor is None:
        return prompt(ctx.t("doctor_no_record"), options=[menu])
    if doctor.status is not VerificationStatus.VERIFIED:
        return prompt(
            ctx.t("av_not_verified_status", status=ctx.t(f"status_{doctor.status.value}")), options=[menu]
        )
    return prompt(
        await _summary(ctx, doctor),
        ctx.t("av_what_to_change"),
        options=[
            Option("hours", ctx.t("av_btn_hours")),
            Option("slot_length", ctx.t("av_btn_slot_length")),
            Option("break", ctx.t("av_btn_break")),
            Option("dates", ctx.t("av_btn_dates")),
            Option("on_call", ctx.t("av_btn_on_call_off" if doctor.on_call else "av_btn_on_call_on")),
            Option("acceptance", ctx.t("av_btn_manual" if doctor.auto_accept else "av_btn_auto")),
            menu,
        ],
    )


async def answer_overview(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "menu":
        return switch("menu")
    doctor = await _verified_doctor(ctx)
    if doctor is None:
        return retry(ctx.t("av_not_verified"))
    if answer.value == "on_call":
        scheduling.set_on_call(doctor, not doctor.on_call)
        return retry(ctx.t("av_on_call_now_on" if doctor.on_call else "av_on_call_now_off"))
    if answer.value == "acceptance":
        scheduling.set_auto_accept(doctor, not doctor.auto_accept)
        return retry(ctx.t("av_accept_now_auto" if doctor.auto_accept else "av_accept_now_manual"))
    return Outcome(goto=answer.value)


# --- weekly hours --------------------------------------------------------------------------------


def _back(ctx: Context) -> list[Option]:
    return [Option(BACK, ctx.t("av_btn_back"))]


async def ask_hours(ctx: Context) -> Prompt:
    return prompt(ctx.t("av_ask_hours"), options=_back(ctx))


async def _apply(ctx: Context, change) -> Outcome:
    """Run one change for the verified doctor; a refusal or bad input asks again with the reason."""
    doctor = await _verified_doctor(ctx)
    if doctor is None:
        return _refused(ctx)
    try:
        done = await change(doctor)
    except AvailabilityError as bad:
        if bad.reason == "av_not_verified":
            return _refused(ctx)
        return retry(ctx.t(bad.reason))
    return _overview(*(done or ()), await _regenerate(ctx, doctor))


async def answer_hours(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == BACK:
        return _overview()

    async def change(doctor: Doctor) -> None:
        await scheduling.set_weekly_hours(ctx.session, doctor, parsing.parse_weekly_hours(answer.text))

    return await _apply(ctx, change)


# --- slot length ---------------------------------------------------------------------------------


async def ask_slot_length(ctx: Context) -> Prompt:
    options = [Option(str(m), ctx.t("av_minutes", minutes=m)) for m in scheduling.ALLOWED_SLOT_MINUTES]
    return prompt(ctx.t("av_ask_slot_length"), options=[*options, *_back(ctx)])


async def answer_slot_length(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == BACK:
        return _overview()
    typed = answer.value or answer.text.lower().removesuffix("minutes").removesuffix("min").strip()
    if not typed.isdecimal() or len(typed) > 3:
        return retry(ctx.t("av_bad_slot_length"))

    async def change(doctor: Doctor) -> None:
        scheduling.set_slot_minutes(doctor, int(typed))

    return await _apply(ctx, change)


# --- daily break ---------------------------------------------------------------------------------


async def ask_break(ctx: Context) -> Prompt:
    return prompt(ctx.t("av_ask_break"), options=[Option("none", ctx.t("av_btn_no_break")), *_back(ctx)])


async def answer_break(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == BACK:
        return _overview()

    async def change(doctor: Doctor) -> None:
        breaks = [] if answer.value == "none" else parsing.parse_intervals(answer.text)
        await scheduling.set_breaks(ctx.session, doctor, breaks)

    return await _apply(ctx, change)


# --- days off and one-off hours --------------------------------------------------------------------


async def ask_dates(ctx: Context) -> Prompt:
    doctor = await _doctor(ctx)
    if doctor is None:
        return prompt(ctx.t("doctor_no_record"), options=_back(ctx))
    today = scheduling.local_today(doctor, ctx.now)
    exceptions = await scheduling.exceptions_between(ctx.session, doctor.id, today)
    lines = _exception_lines(ctx, exceptions)
    # An option names its date, not its position: an old button removes exactly what it says.
    removals = [
        Option(f"clear:{day.isoformat()}", ctx.t("av_btn_clear_day", day=_day(ctx, day)))
        for day in sorted({e.day for e in exceptions})
    ]
    return prompt(
        ctx.t("av_dates", dates="\n".join(lines) if lines else ctx.t("av_none")),
        options=[
            Option("day_off", ctx.t("av_btn_add_day_off")),
            Option("one_off", ctx.t("av_btn_add_one_off")),
            *removals,
            *_back(ctx),
        ],
    )


async def answer_dates(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == BACK:
        return _overview()
    if answer.value in ("day_off", "one_off"):
        return Outcome(goto=answer.value)
    day = date.fromisoformat(answer.value.removeprefix("clear:"))

    async def change(doctor: Doctor) -> tuple[str, ...]:
        cleared = await scheduling.clear_day(ctx.session, doctor, day)
        return (ctx.t("av_day_cleared" if cleared else "av_day_already_clear", day=_day(ctx, day)),)

    return await _apply(ctx, change)


async def ask_day_off(ctx: Context) -> Prompt:
    return prompt(ctx.t("av_ask_day_off"), options=_back(ctx))


def _today(ctx: Context, doctor: Doctor) -> date:
    return scheduling.local_today(doctor, ctx.now)


async def answer_day_off(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == BACK:
        return Outcome(goto="dates", remember=False)

    async def change(doctor: Doctor) -> tuple[str, ...]:
        day = parsing.parse_day(answer.text, today=_today(ctx, doctor))
        await scheduling.set_day_off(ctx.session, doctor, day, today=_today(ctx, doctor))
        return (ctx.t("av_day_off_added", day=_day(ctx, day)),)

    return await _apply(ctx, change)


async def ask_one_off(ctx: Context) -> Prompt:
    return prompt(ctx.t("av_ask_one_off"), options=_back(ctx))


async def answer_one_off(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == BACK:
        return Outcome(goto="dates", remember=False)

    async def change(doctor: Doctor) -> tuple[str, ...]:
        today = _today(ctx, doctor)
        day, hours = parsing.parse_day_and_hours(answer.text, today=today)
        if hours is None:
            await scheduling.set_day_off(ctx.session, doctor, day, today=today)
            return (ctx.t("av_day_off_added", day=_day(ctx, day)),)
        await scheduling.set_day_hours(ctx.session, doctor, day, hours, today=today)
        return (ctx.t("av_one_off_added", day=_day(ctx, day), hours=_intervals(ctx, hours)),)

    return await _apply(ctx, change)


FLOW = Flow(
    name="availability",
    first="overview",
    steps={
        "overview": Step(ask_overview, answer_overview),
        "hours": Step(ask_hours, answer_hours, free_text=True),
        "slot_length": Step(ask_slot_length, answer_slot_length, free_text=True),
        "break": Step(ask_break, answer_break, free_text=True),
        "dates": Step(ask_dates, answer_dates),
        "day_off": Step(ask_day_off, answer_day_off, free_text=True),
        "one_off": Step(ask_one_off, answer_one_off, free_text=True),
    },
)
