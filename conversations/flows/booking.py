"""Booking a doctor: day → time → reason → summary → the slot is held → payment link.

Entered with `ctx.data["booking"] = {"doctor_id": …}` (from the search, or a "Pick a time"
button); with `"move": <appointment id>` added it moves that appointment instead (no reason, no
new payment). The hold and the link come from backend.appointments; what happens after payment
arrives by notification (the webhook settles it)."""

from __future__ import annotations

from backend.access import AccessDenied
from backend.appointments import service as appointments
from backend.appointments.service import BookingError
from backend.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Doctor,
    Payment,
    Slot,
    VerificationStatus,
)
from backend.payments.gateway import GatewayError
from conversations import actions, when
from conversations.context import Context
from conversations.flow import (
    Answer,
    Flow,
    Option,
    Outcome,
    Prompt,
    Step,
    next_step,
    prompt,
    retry,
    say,
    switch,
)
from conversations.flows import booking_days
from conversations.flows.menu import money
from conversations.messages import Link

DAYS_PER_PAGE = 6
TIMES_PER_PAGE = 8


def _booking(ctx: Context) -> dict:
    return ctx.data.setdefault("booking", {})


async def _doctor(ctx: Context) -> Doctor | None:
    doctor_id = _booking(ctx).get("doctor_id")
    doctor = await ctx.session.get(Doctor, doctor_id) if doctor_id else None
    return doctor if doctor is not None and doctor.status is VerificationStatus.VERIFIED else None


def _gone(ctx: Context, key: str = "booking_doctor_gone") -> Outcome:
    ctx.data.pop("booking", None)
    return switch("find_doctor", ctx.t(key))


# --- day ----------------------------------------------------------------------------------------


async def ask_day(ctx: Context) -> Prompt:
    doctor = await _doctor(ctx)
    if doctor is None:
        return prompt(ctx.t("booking_doctor_gone"), options=[Option("search", ctx.t("btn_search_again"))])
    days = await booking_days.free_days(ctx, doctor)
    page = ctx.form.get("day_page", 0)
    shown = list(days.items())[page * DAYS_PER_PAGE : (page + 1) * DAYS_PER_PAGE]
    options = [Option(f"day:{iso}", label) for iso, label in shown]
    if len(days) > (page + 1) * DAYS_PER_PAGE:
        options.append(Option("more", ctx.t("btn_later_days")))
    options.append(Option("search", ctx.t("btn_search_again")))
    moving = ctx.t("booking_moving") if _booking(ctx).get("move") else ""
    if not days:
        text = ctx.t("booking_no_days", doctor=doctor.full_name, days=ctx.settings.booking_horizon_days)
        return prompt(moving, text, options=options)
    return prompt(moving, ctx.t("booking_pick_day", doctor=doctor.full_name), options=options)


async def answer_day(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "search":
        ctx.data.pop("booking", None)
        return switch("find_doctor")
    if answer.value == "more":
        ctx.form["day_page"] = ctx.form.get("day_page", 0) + 1
        return retry()
    doctor = await _doctor(ctx)
    if doctor is None:
        return _gone(ctx)
    if answer.value is None:
        return await booking_days.typed_day(ctx, doctor, answer.text)
    ctx.form["day"] = answer.value.removeprefix("day:")
    ctx.form["time_page"] = 0
    return next_step("time")


# --- time ---------------------------------------------------------------------------------------


async def ask_time(ctx: Context) -> Prompt:
    doctor = await _doctor(ctx)
    if doctor is None:
        return prompt(ctx.t("booking_doctor_gone"), options=[Option("search", ctx.t("btn_search_again"))])
    slots = [
        s
        for s in await booking_days.free_slots(ctx, doctor)
        if when.local_day(ctx, s.starts_at).isoformat() == ctx.form["day"]
    ]
    page = ctx.form.get("time_page", 0)
    shown = slots[page * TIMES_PER_PAGE : (page + 1) * TIMES_PER_PAGE]
    options = [Option(f"slot:{slot.id}", when.clock(ctx, slot.starts_at)) for slot in shown]
    if len(slots) > (page + 1) * TIMES_PER_PAGE:
        options.append(Option("more", ctx.t("btn_later_times")))
    options.append(Option("days", ctx.t("btn_other_day")))
    if not slots:
        return prompt(ctx.t("booking_day_full"), options=options)
    return prompt(ctx.t("booking_pick_time", day=when.day_label(ctx, slots[0].starts_at)), options=options)


async def answer_time(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "search":
        return _gone(ctx)
    if answer.value == "days":
        return next_step("day")
    if answer.value == "more":
        ctx.form["time_page"] = ctx.form.get("time_page", 0) + 1
        return retry()
    ctx.form["slot"] = answer.value.removeprefix("slot:")
    return next_step("summary" if _booking(ctx).get("move") else "reason")


# --- reason and summary -------------------------------------------------------------------------


async def ask_reason(ctx: Context) -> Prompt:
    return prompt(ctx.t("booking_ask_reason", limit=appointments.MAX_REASON_CHARS))


async def answer_reason(ctx: Context, answer: Answer) -> Outcome:
    reason = " ".join(answer.text.split())
    if len(reason) < 3:
        return retry(ctx.t("booking_reason_short"))
    if len(reason) > appointments.MAX_REASON_CHARS:
        return retry(ctx.t("booking_reason_long", limit=appointments.MAX_REASON_CHARS))
    ctx.form["reason"] = reason
    # Red-flag words kept after the emergency guidance: the doctor sees the reason marked.
    ctx.form["reason_red_flag"] = answer.red_flag
    return next_step("summary")


async def ask_summary(ctx: Context) -> Prompt:
    doctor = await _doctor(ctx)
    slot = await ctx.session.get(Slot, ctx.form.get("slot", ""))
    if doctor is None or slot is None:
        return prompt(ctx.t("booking_doctor_gone"), options=[Option("search", ctx.t("btn_search_again"))])
    if _booking(ctx).get("move"):
        return prompt(
            ctx.t("booking_move_summary", doctor=doctor.full_name, when=when.when(ctx, slot.starts_at)),
            options=[Option("confirm", ctx.t("btn_move_here")), Option("time", ctx.t("btn_other_time"))],
        )
    text = ctx.t(
        "booking_summary",
        doctor=doctor.full_name,
        qualification=doctor.qualification,
        registration=f"{doctor.council}/{doctor.registration_number}",
        when=when.when(ctx, slot.starts_at),
        fee=money(doctor.fee_minor, doctor.currency, ctx.locale),
        reason=_marked(ctx, ctx.form.get("reason", ""), flagged=ctx.form.get("reason_red_flag", False)),
        minutes=ctx.settings.hold_minutes,
    )
    return prompt(
        text,
        options=[
            Option("confirm", ctx.t("btn_hold_and_pay")),
            Option("time", ctx.t("btn_other_time")),
            Option("cancel", ctx.t("btn_cancel_booking")),
        ],
    )


def _marked(ctx: Context, reason: str, *, flagged: bool) -> str:
    """The reason as the patient checks it, with the note that the doctor will see it marked."""
    return f"{reason}\n{ctx.t('booking_reason_red_flag')}" if flagged else reason


async def answer_summary(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "search":
        return _gone(ctx)
    if answer.value == "time":
        return next_step("time")
    if answer.value == "cancel":
        ctx.data.pop("booking", None)
        return switch("menu", ctx.t("booking_dropped"))
    if _booking(ctx).get("move"):
        return await _move(ctx)
    try:
        held = await appointments.hold(
            ctx.session,
            ctx.cipher,
            ctx.settings,
            patient_id=ctx.user.id,
            slot_id=ctx.form.get("slot", ""),
            reason=ctx.form.get("reason", ""),
            now=ctx.now,
            gateways=ctx.gateways,
            reason_red_flag=ctx.form.get("reason_red_flag", False),
        )
    except BookingError as error:
        return _refused(ctx, error)
    ctx.form["appointment"] = held.id
    return next_step("pay")


SLOT_ERRORS = ("slot_taken", "slot_gone", "slot_past")


def _refused(ctx: Context, error: BookingError) -> Outcome:
    if error.code == "doctor_not_bookable":
        return _gone(ctx)
    if error.code == "too_many_holds":
        ctx.data.pop("booking", None)
        return switch("appointments", ctx.t("booking_too_many_holds"))
    if error.code in SLOT_ERRORS:  # someone else was quicker, or the time passed: pick another
        ctx.form.pop("slot", None)
        return Outcome(say=say(ctx.t(f"booking_{error.code}")), goto="time", remember=False)
    return retry(ctx.t(f"booking_{error.code}"))


async def _move(ctx: Context) -> Outcome:
    move_id = _booking(ctx)["move"]
    try:
        moved = await appointments.reschedule(
            ctx.session,
            ctx.cipher,
            ctx.settings,
            ctx.actor,
            move_id,
            ctx.form.get("slot", ""),
            now=ctx.now,
            gateways=ctx.gateways,
        )
    except AccessDenied:
        ctx.data.pop("booking", None)
        return switch("appointments", ctx.t("appointment_not_found"))
    except BookingError as error:
        if error.code in SLOT_ERRORS:
            ctx.form.pop("slot", None)
            return Outcome(say=say(ctx.t(f"booking_{error.code}")), goto="time", remember=False)
        ctx.data.pop("booking", None)
        return switch("appointments", ctx.t(f"booking_{error.code}"))
    ctx.data.pop("booking", None)
    return switch("appointments", ctx.t("booking_moved", when=when.when(ctx, moved.starts_at)))


# --- payment ------------------------------------------------------------------------------------


def _held_id(ctx: Context) -> str:
    """The appointment being paid: just held here, or opened from 'My appointments'."""
    return ctx.form.get("appointment") or _booking(ctx).get("pay") or ""


async def ask_pay(ctx: Context) -> Prompt:
    appointment = await ctx.session.get(Appointment, _held_id(ctx))
    if appointment is None or appointment.patient_id != ctx.user.id:
        return prompt(ctx.t("appointment_not_found"), options=[Option("menu", ctx.t("menu_button"))])
    if appointment.status is not AppointmentStatus.HELD:
        return prompt(ctx.t(f"booking_after_pay_{appointment.status.value}"), options=_after_options(ctx))
    try:
        payment = await payment_link(ctx, appointment)
    except BookingError:
        return prompt(ctx.t("booking_after_pay_expired"), options=_after_options(ctx))
    if payment is None:
        return pay_unavailable(ctx)
    fee = money(payment.amount_minor, payment.currency, ctx.locale)
    return prompt(
        ctx.t(
            "booking_pay",
            doctor=doctor.full_name if (doctor := await _doctor(ctx)) else "—",
            when=when.when(ctx, appointment.starts_at),
            fee=fee,
            until=when.clock(ctx, appointment.hold_expires_at),
        ),
        options=[Option("check", ctx.t("btn_paid_check")), Option("cancel", ctx.t("btn_cancel_booking"))],
        link=checkout_link(ctx, payment, fee),
    )


def checkout_link(ctx: Context, payment: Payment, fee: str) -> Link:
    """The payment's checkout as a button ("💳 Pay ₹500"), not a bare URL in the text."""
    return Link(label=ctx.t("btn_pay_link", fee=fee), url=payment.url or "")


async def payment_link(ctx: Context, appointment: Appointment) -> Payment | None:
    """The hold's payment link; None when the gateway is not answering (nothing of the attempt
    is kept: the hold stands and the next try makes the link). BookingError once the hold lapsed."""
    try:
        async with ctx.session.begin_nested():
            return await appointments.pay_link(
                ctx.session, ctx.settings, ctx.gateways, appointment, now=ctx.now
            )
    except GatewayError:
        return None


def pay_unavailable(ctx: Context) -> Prompt:
    return prompt(
        ctx.t("booking_pay_unavailable"),
        options=[Option("check", ctx.t("btn_try_again")), Option("cancel", ctx.t("btn_cancel_booking"))],
    )


async def release_unpaid(ctx: Context, appointment_id: str) -> Outcome | None:
    """The pay step's Cancel: only an unpaid hold is released (checked on the locked row). A Cancel
    left on screen from before the payment must not cancel a paid booking, which is cancelled from
    'My appointments', where the refund is said first. None once released."""
    try:
        await appointments.release_hold(
            ctx.session, ctx.cipher, ctx.settings, ctx.gateways, ctx.actor, appointment_id, now=ctx.now
        )
    except BookingError:
        return retry(ctx.t("booking_paid_cancel_elsewhere"))
    except AccessDenied:
        return retry()
    return None


def to_pay_step(ctx: Context, appointment: Appointment) -> Outcome:
    """The pay step of a held appointment, which shows its link (a new one after a failure): an
    urgent consult has its own (no doctor, no time yet)."""
    if appointment.kind is AppointmentKind.URGENT:
        ctx.data["urgent_pay"] = appointment.id
        return switch("urgent", step="pay")
    ctx.data["booking"] = {"doctor_id": appointment.doctor_id, "pay": appointment.id}
    return switch("booking", step="pay")


async def _pay_again_button(ctx: Context, value: str, ref: str | None) -> Outcome | None:
    """'Pay again' on the message about a failed payment. Only its patient's; None (the button
    no longer applies) for anyone else."""
    appointment = await ctx.session.get(Appointment, ref) if ref and value == "pay_again" else None
    if appointment is None or ctx.user is None or appointment.patient_id != ctx.user.id:
        return None
    return to_pay_step(ctx, appointment)


async def not_paid_yet(ctx: Context, appointment: Appointment | None) -> Outcome:
    """ "I have paid — check" while the payment has not arrived (or failed: a new link follows)."""
    if appointment is not None and appointment.status is AppointmentStatus.HELD:
        failed = await appointments.last_payment_failed(ctx.session, appointment)
        return retry(ctx.t("booking_payment_failed" if failed else "booking_not_paid_yet"))
    return retry()


def _after_options(ctx: Context) -> list[Option]:
    return [Option("appointments", ctx.t("menu_item_appointments")), Option("menu", ctx.t("menu_button"))]


async def answer_pay(ctx: Context, answer: Answer) -> Outcome:
    appointment_id = _held_id(ctx)
    if answer.value == "menu":
        ctx.data.pop("booking", None)
        return switch("menu")
    if answer.value == "appointments":
        ctx.data.pop("booking", None)
        return switch("appointments")
    if answer.value == "cancel":
        if refused := await release_unpaid(ctx, appointment_id):
            return refused
        ctx.data.pop("booking", None)
        return switch("menu", ctx.t("booking_dropped"))
    return await not_paid_yet(ctx, await ctx.session.get(Appointment, appointment_id))


actions.register("pay_again", _pay_again_button)

FLOW = Flow(
    name="booking",
    first="day",
    steps={
        # Free text: "today", "tomorrow", "kal" are days too (conversations.when.DAY_WORDS).
        "day": Step(ask_day, answer_day, free_text=True),
        "time": Step(ask_time, answer_time),
        "reason": Step(ask_reason, answer_reason, free_text=True, takes_words=True),
        "summary": Step(ask_summary, answer_summary),
        "pay": Step(ask_pay, answer_pay),
    },
    halt_on_emergency=True,
)
