"""The patient's summary as their doctor reads it in the chat: on an appointment's card and when
an urgent consult is taken, with the emergency red flags the patient raised in chat lately. Read
live through backend.records and backend.safety (authorised while an appointment joins them,
audited either way)."""

from __future__ import annotations

from backend.access import AccessDenied
from backend.models import Appointment
from backend.records import service as records
from backend.records.summary import one_line
from backend.safety import flags
from backend.safety.shown import flags_line
from conversations.context import Context


async def for_doctor(ctx: Context, appointment: Appointment, purpose: str) -> str:
    """The summary in the doctor's language, or a line saying why it is not shown."""
    try:
        summary = await records.read_for_doctor(
            ctx.session, ctx.cipher, ctx.actor, appointment, now=ctx.now, channel=ctx.channel, purpose=purpose
        )
    except AccessDenied:
        return ctx.t("patient_summary_denied")
    except records.ProfileError:
        return ctx.t("patient_summary_missing")
    return ctx.t(
        "patient_summary",
        age="—" if summary.age is None else summary.age,
        sex=ctx.t(f"sex_{summary.sex or 'undisclosed'}"),
        **{name: one_line(cut, ctx.t) for name, cut in summary.lists.items()},
    )


async def red_flags(ctx: Context, appointment: Appointment, purpose: str) -> str:
    """The patient's recent red flags on one line, dates in the doctor's timezone; "" when there are
    none or the doctor may not see them (the summary then says why)."""
    try:
        shown = await flags.for_doctor(
            ctx.session, ctx.cipher, ctx.actor, appointment, now=ctx.now, channel=ctx.channel, purpose=purpose
        )
    except AccessDenied:
        return ""
    return flags_line(shown, ctx.t, ctx.locale, ctx.user.timezone)
