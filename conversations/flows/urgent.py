"""An urgent consult: for a patient who needs a doctor now but is not in a red-flag emergency
(those get emergency guidance first, from the engine). Pick what kind of doctor, say why, pay;
the request then goes to every doctor on call (backend.appointments.urgent)."""

from __future__ import annotations

from sqlalchemy import select

from backend.access import AccessDenied
from backend.appointments import service as appointments
from backend.appointments import urgent
from backend.appointments.service import BookingError
from backend.models import Appointment, AppointmentStatus, Doctor, Specialty, VerificationStatus
from backend.models.directory import doctor_specialties
from backend.scheduling.names import specialty_name
from conversations.context import Context
from conversations.flow import Answer, Flow, Option, Outcome, Prompt, Step, next_step, prompt, retry, switch
from conversations.flows.booking import (
    checkout_link,
    not_paid_yet,
    pay_unavailable,
    payment_link,
    release_unpaid,
)
from conversations.flows.menu import money


async def _specialties_on_call(ctx: Context) -> list[str]:
    names = await ctx.session.scalars(
        select(Specialty.name)
        .join(doctor_specialties, doctor_specialties.c.specialty_id == Specialty.id)
        .join(Doctor, Doctor.id == doctor_specialties.c.doctor_id)
        .where(
            Doctor.on_call.is_(True),
            Doctor.status == VerificationStatus.VERIFIED,
            Doctor.currency == ctx.settings.currency,
        )
        .distinct()
        .order_by(Specialty.name)
    )
    return list(names)


async def ask_intro(ctx: Context) -> Prompt:
    names = await _specialties_on_call(ctx)
    if not names:
        return prompt(ctx.t("urgent_nobody"), options=[Option("menu", ctx.t("menu_button"))])
    options = [Option(f"spec:{name}", specialty_name(name, ctx.locale)) for name in names[:9]]
    options.append(Option("menu", ctx.t("menu_button")))
    fee = money(ctx.settings.urgent_fee_minor, ctx.settings.currency, ctx.locale)
    return prompt(ctx.t("urgent_intro", fee=fee, minutes=ctx.settings.urgent_wait_minutes), options=options)


async def answer_intro(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "menu":
        return switch("menu")
    ctx.form["specialty"] = answer.value.removeprefix("spec:")
    return next_step("reason")


async def ask_reason(ctx: Context) -> Prompt:
    return prompt(ctx.t("urgent_ask_reason"))


async def answer_reason(ctx: Context, answer: Answer) -> Outcome:
    reason = " ".join(answer.text.split())
    if len(reason) < 3:
        return retry(ctx.t("booking_reason_short"))
    if len(reason) > appointments.MAX_REASON_CHARS:
        return retry(ctx.t("booking_reason_long", limit=appointments.MAX_REASON_CHARS))
    try:
        held = await urgent.request(
            ctx.session,
            ctx.cipher,
            ctx.settings,
            patient_id=ctx.user.id,
            specialty=ctx.form.get("specialty", ""),
            reason=reason,
            now=ctx.now,
        )
    except BookingError as error:
        return switch("menu", ctx.t(f"urgent_error_{error.code}"))
    ctx.form["appointment"] = held.id
    return next_step("pay")


def _held_id(ctx: Context) -> str:
    """The consult being paid: just requested here, or opened from 'My appointments'."""
    return ctx.form.get("appointment") or ctx.data.get("urgent_pay") or ""


async def _held(ctx: Context) -> Appointment | None:
    try:
        return await appointments.for_actor(ctx.session, ctx.actor, _held_id(ctx))
    except AccessDenied:
        return None


async def ask_pay(ctx: Context) -> Prompt:
    appointment = await _held(ctx)
    back = [Option("menu", ctx.t("menu_button"))]
    if appointment is None:
        return prompt(ctx.t("appointment_not_found"), options=back)
    if appointment.status is AppointmentStatus.REQUESTED:
        place = await urgent.position(ctx.session, appointment)
        return prompt(
            ctx.t("urgent_in_line", position=place), options=[Option("check", ctx.t("btn_paid_check")), *back]
        )
    if appointment.status is not AppointmentStatus.HELD:
        return prompt(ctx.t(f"urgent_status_{appointment.status.value}"), options=back)
    try:
        payment = await payment_link(ctx, appointment)
    except BookingError:
        return prompt(ctx.t("urgent_status_expired"), options=back)
    if payment is None:
        return pay_unavailable(ctx)
    fee = money(payment.amount_minor, payment.currency, ctx.locale)
    return prompt(
        ctx.t("urgent_pay", fee=fee),
        options=[Option("check", ctx.t("btn_paid_check")), Option("cancel", ctx.t("btn_cancel_booking"))],
        link=checkout_link(ctx, payment, fee),
    )


async def answer_pay(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "menu":
        return switch("menu")
    if answer.value == "cancel":
        if refused := await release_unpaid(ctx, _held_id(ctx)):
            return refused
        return switch("menu", ctx.t("booking_dropped"))
    return await not_paid_yet(ctx, await _held(ctx))


FLOW = Flow(
    name="urgent",
    first="intro",
    steps={
        "intro": Step(ask_intro, answer_intro),
        "reason": Step(ask_reason, answer_reason, free_text=True, takes_words=True),
        "pay": Step(ask_pay, answer_pay),
    },
    halt_on_emergency=True,
)
