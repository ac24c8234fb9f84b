"""A doctor's earnings and pending payout, and the last few movements of their money.

Only the signed-in doctor's own figures: the doctor is found from the chat's user, never from
anything the message says."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_date

from backend.directory import service as directory
from backend.models import Role
from backend.payments import ledger
from conversations.context import Context
from conversations.copy import format_locale
from conversations.flow import Answer, Flow, Option, Outcome, Prompt, Step, prompt, retry, switch
from conversations.flows.menu import money

RECENT = 5


async def ask_main(ctx: Context) -> Prompt:
    doctor = await directory.doctor_of(ctx.session, ctx.user.id) if ctx.user.role is Role.DOCTOR else None
    options = [Option("refresh", ctx.t("btn_earnings_refresh")), Option("menu", ctx.t("btn_back_to_menu"))]
    if doctor is None:
        return prompt(ctx.t("earnings_no_doctor"), options=options[1:])
    earnings = await ledger.doctor_earnings(ctx.session, doctor.id)
    currency = earnings.currency

    def cash(minor: int) -> str:
        return money(minor, currency, ctx.locale)

    summary = ctx.t(
        "earnings_summary",
        currency=currency,
        earned=cash(earnings.earned_minor),
        refunded=cash(earnings.refunded_minor),
        paid_out=cash(earnings.paid_out_minor),
        pending=cash(earnings.pending_payout_minor),
    )
    if earnings.owed_minor:
        summary += "\n" + ctx.t("earnings_owed", owed=cash(earnings.owed_minor))
    movements = await ledger.doctor_movements(ctx.session, doctor.id, limit=RECENT)
    zone = ZoneInfo(ctx.user.timezone or ctx.settings.default_timezone)
    lines = [
        ctx.t(
            f"earnings_line_{move.kind}",
            date=format_date(move.created_at.astimezone(zone), "d MMM", locale=format_locale(ctx.locale)),
            amount=money(abs(move.amount_minor), move.currency, ctx.locale),
        )
        for move in movements
        if move.kind in ("charge", "assign", "refund", "payout", "transfer") and move.amount_minor
    ]
    recent = ctx.t("earnings_recent", lines="\n".join(lines)) if lines else ctx.t("earnings_none_yet")
    return prompt(summary, recent, options=options)


async def answer_main(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "refresh":
        return retry()
    return switch("menu")


FLOW = Flow(name="earnings", first="main", steps={"main": Step(ask_main, answer_main)})
