"""'My appointments' for patients and doctors: the list, one appointment, and what can be done
with it now — pay, cancel (with the refund the policy gives, said before confirming), move,
accept or reject a request, mark the outcome after the start. Also the handlers of the buttons
on booking notifications (the doctor's Accept / Reject, an urgent offer, "Pick a time")."""

from __future__ import annotations

from datetime import timedelta

from backend.access import AccessDenied
from backend.appointments import notices, reach, urgent
from backend.appointments import service as appointments
from backend.appointments.service import BookingError
from backend.directory import service as directory
from backend.models import Appointment, AppointmentKind, AppointmentStatus, Role
from backend.payments.gateway import GatewayError
from backend.scheduling.names import specialty_name
from conversations import actions, patient_summary, when
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
from conversations.flows.booking import to_pay_step
from conversations.flows.menu import money
from conversations.labels import list_label


async def _mine(ctx: Context) -> list[Appointment]:
    if ctx.user.role is Role.DOCTOR:
        doctor = await directory.doctor_of(ctx.session, ctx.user.id)
        return await appointments.of_doctor(ctx.session, doctor.id, now=ctx.now) if doctor else []
    return await appointments.of_patient(ctx.session, ctx.user.id, now=ctx.now)


async def _other_party(ctx: Context, appointment: Appointment) -> str:
    if ctx.user.role is Role.DOCTOR:
        return await _patient_name(ctx, appointment)
    doctor = await appointments.doctor_of(ctx.session, appointment)
    return (
        ctx.t("fd_btn_doctor", name=doctor.full_name)  # "Dr Asha Rao", "डॉ. Asha Rao"
        if doctor
        else ctx.t("urgent_any_doctor", specialty=specialty_name(appointment.specialty or "", ctx.locale))
    )


async def _patient_name(ctx: Context, appointment: Appointment) -> str:
    return await notices.patient_name(ctx.session, ctx.cipher, appointment, "doctor_appointment_list")


def _status(ctx: Context, appointment: Appointment) -> str:
    """The state in words for who is reading: a request waits for the patient's doctor, but it
    needs the doctor's own answer."""
    if ctx.user.role is Role.DOCTOR and appointment.status is AppointmentStatus.REQUESTED:
        return ctx.t("appt_status_requested_doctor")
    return ctx.t(f"appt_status_{appointment.status.value}")


def _when(ctx: Context, appointment: Appointment) -> str:
    return when.when(ctx, appointment.starts_at) if appointment.starts_at else ctx.t("urgent_now")


# --- the list -----------------------------------------------------------------------------------


def _list_status(ctx: Context, appointment: Appointment) -> str:
    """The status in a list label: "waiting for the doctor" is shortened there, so that the
    doctor's name fits beside it."""
    if ctx.user.role is Role.PATIENT and appointment.status is AppointmentStatus.REQUESTED:
        return ctx.t("appt_list_status_requested")
    return _status(ctx, appointment)


async def ask_list(ctx: Context) -> Prompt:
    rows = await _mine(ctx)
    options = [
        Option(f"appt:{a.id}", list_label(_when(ctx, a), await _other_party(ctx, a), _list_status(ctx, a)))
        for a in rows
    ]
    if ctx.user.role is Role.PATIENT:
        options.append(Option("find", ctx.t("menu_item_find_doctor")))
    options.append(Option("menu", ctx.t("menu_button")))
    return prompt(ctx.t("appointments_list") if rows else ctx.t("appointments_none"), options=options)


async def answer_list(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "menu":
        return switch("menu")
    if answer.value == "find":
        return switch("find_doctor")
    ctx.form["appointment"] = answer.value.removeprefix("appt:")
    return next_step("detail")


# --- one appointment ----------------------------------------------------------------------------


async def _current(ctx: Context) -> Appointment | None:
    try:
        return await appointments.for_actor(ctx.session, ctx.actor, ctx.form.get("appointment", ""))
    except AccessDenied:
        return None


def _movable(ctx: Context, appointment: Appointment) -> bool:
    """Moving is offered only while it is allowed (a slot, and not within the cancel notice)."""
    notice = timedelta(hours=ctx.settings.free_cancel_hours)
    return appointment.slot_id is not None and appointment.starts_at - ctx.now >= notice


def _choices(ctx: Context, appointment: Appointment) -> list[Option]:
    status, started = (
        appointment.status,
        appointment.starts_at is not None and appointment.starts_at <= ctx.now,
    )
    names: list[str] = []
    if ctx.user.role is Role.PATIENT:
        if status is AppointmentStatus.HELD:
            names = ["pay", "cancel"]
        elif status in (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED) and started:
            names = ["doctor_no_show"] if status is AppointmentStatus.CONFIRMED else []
        elif status in (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED):
            names = ["move", "cancel"] if _movable(ctx, appointment) else ["cancel"]
    elif status is AppointmentStatus.REQUESTED:
        names = ["accept", "reject"]
    elif status is AppointmentStatus.CONFIRMED:
        names = ["completed", "patient_no_show"] if started else ["doctor_cancel"]
    return [Option(name, ctx.t(f"btn_appt_{name}")) for name in names] + [
        Option("list", ctx.t("btn_back_to_list"))
    ]


async def _urgent_reach(ctx: Context, appointment: Appointment) -> str:
    """On a running urgent consult the doctor calls the patient: the number, again, on the card."""
    if (
        appointment.kind is not AppointmentKind.URGENT
        or appointment.status is not AppointmentStatus.CONFIRMED
    ):
        return ""
    contact = await reach.for_doctor(
        ctx.session, ctx.cipher, ctx.actor, appointment, now=ctx.now, channel=ctx.channel
    )
    return "\n\n" + ctx.t(f"urgent_reach_{contact.kind}", contact=contact.shown) if contact else ""


async def ask_detail(ctx: Context) -> Prompt:
    if opened := ctx.data.pop(OPEN_CARD, None):  # a notification's button brought us here
        ctx.form["appointment"] = opened
    appointment = await _current(ctx)
    if appointment is None:
        return prompt(ctx.t("appointment_not_found"), options=[Option("list", ctx.t("btn_back_to_list"))])
    text = ctx.t(
        "appointment_detail",
        when=_when(ctx, appointment),
        who=await _other_party(ctx, appointment),
        status=_status(ctx, appointment),
        fee=money(appointment.fee_minor, appointment.currency, ctx.locale),
        reason=await appointments.read_reason(
            ctx.session, ctx.cipher, appointment, actor=ctx.actor, purpose="view_appointment"
        )
        or "—",
    )
    if appointment.reason_red_flag:  # right under the reason, the card's last line
        text += "\n" + ctx.t(
            "appointment_reason_red_flag" + ("" if ctx.user.role is Role.DOCTOR else "_patient")
        )
    if ctx.user.role is Role.DOCTOR:  # read live, authorised and audited on every view
        if flagged := await patient_summary.red_flags(ctx, appointment, "view_appointment"):
            text += "\n" + flagged
        text += "\n\n" + await patient_summary.for_doctor(ctx, appointment, "view_appointment")
        text += await _urgent_reach(ctx, appointment)
    # A doctor's card holds the patient's summary (and contact), readable only while their access
    # lasts: never kept in a chat history that outlives it.
    return prompt(text, options=_choices(ctx, appointment), private=ctx.user.role is Role.DOCTOR)


async def answer_detail(ctx: Context, answer: Answer) -> Outcome:
    choice = answer.value
    if choice == "list":
        return next_step("list")
    appointment = await _current(ctx)
    if appointment is None or choice not in {o.value for o in _choices(ctx, appointment)}:
        return retry(ctx.t("appointment_changed"))
    if choice == "pay":
        return to_pay_step(ctx, appointment)
    if choice == "move":
        ctx.data["booking"] = {"doctor_id": appointment.doctor_id, "move": appointment.id}
        return switch("booking")
    if choice in ("cancel", "doctor_cancel"):
        return next_step("confirm_cancel")
    return await _act(ctx, appointment, choice)


async def _act(ctx: Context, appointment: Appointment, choice: str) -> Outcome:
    try:
        async with ctx.session.begin_nested():  # a refund the gateway refuses undoes the whole change
            await _apply(ctx, appointment.id, choice)
    except BookingError as error:
        return retry(ctx.t(f"appt_error_{error.code}"))
    except GatewayError:
        return _gateway_away(ctx)
    return retry(ctx.t(f"appt_done_{choice}"))


async def _apply(ctx: Context, appointment_id: str, choice: str) -> None:
    """What a button of the appointment view does: the doctor's decision, or an outcome."""
    if choice in ("accept", "reject"):
        doctor = await directory.doctor_of(ctx.session, ctx.user.id)
        if doctor is None:
            raise BookingError("not_allowed")
        if choice == "accept":
            await appointments.accept(ctx.session, ctx.cipher, doctor, appointment_id, now=ctx.now)
        else:
            await appointments.reject(
                ctx.session, ctx.cipher, ctx.settings, ctx.gateways, doctor, appointment_id, now=ctx.now
            )
        return
    await appointments.record_outcome(
        ctx.session, ctx.cipher, ctx.settings, ctx.gateways, ctx.actor, appointment_id, choice, now=ctx.now
    )


def _gateway_away(ctx: Context) -> Outcome:
    """A refund the gateway would not take just now: the change was rolled back (it ran in a
    savepoint), so nothing happened; say so."""
    return retry(ctx.t("appt_error_gateway"))


async def ask_confirm_cancel(ctx: Context) -> Prompt:
    appointment = await _current(ctx)
    if appointment is None:
        return prompt(ctx.t("appointment_not_found"), options=[Option("list", ctx.t("btn_back_to_list"))])
    if ctx.user.role is Role.DOCTOR:
        text = ctx.t("appt_cancel_doctor_confirm", when=_when(ctx, appointment))
    elif appointment.status is AppointmentStatus.HELD:
        text = ctx.t("appt_cancel_unpaid_confirm", when=_when(ctx, appointment))
    else:
        text = _patient_cancel_quote(ctx, appointment)
    return prompt(
        text, options=[Option("yes", ctx.t("btn_yes_cancel")), Option("no", ctx.t("btn_keep_appointment"))]
    )


def _patient_cancel_quote(ctx: Context, appointment: Appointment) -> str:
    """The refund cancelling now gives, with the rule that gives it (not the full-refund rule when
    the late one applies): not yet accepted → all; up to the notice → all; inside it → the share."""
    refund = appointments.patient_refund(ctx.settings, appointment, ctx.now)
    amount = appointment.fee_minor if refund is None else refund
    ctx.form["promised_refund"] = amount  # cancelling gives at least this, or asks again
    if refund is not None:
        key = "appt_cancel_confirm_late"
    elif appointment.status is AppointmentStatus.CONFIRMED:
        key = "appt_cancel_confirm"
    else:
        key = "appt_cancel_confirm_unaccepted"
    return ctx.t(
        key,
        when=_when(ctx, appointment),
        refund=money(amount, appointment.currency, ctx.locale),
        fee=money(appointment.fee_minor, appointment.currency, ctx.locale),
        hours=ctx.settings.free_cancel_hours,
        percent=ctx.settings.late_cancel_refund_percent,
    )


async def answer_confirm_cancel(ctx: Context, answer: Answer) -> Outcome:
    if answer.value != "yes":
        return next_step("detail")
    appointment_id = ctx.form.get("appointment", "")
    try:
        async with ctx.session.begin_nested():  # a refund the gateway refuses undoes the cancellation
            refunded = await _cancel(ctx, appointment_id)
    except GatewayError:
        return Outcome(goto="detail", remember=False, say=say(ctx.t("appt_error_gateway")))
    except AccessDenied:
        return Outcome(say=(), goto="list", remember=False)
    except BookingError as error:
        if error.code == "refund_changed":  # ask again, with what it would give back now
            return retry(ctx.t("appt_error_refund_changed"))
        return Outcome(goto="detail", remember=False, say=say(ctx.t(f"appt_error_{error.code}")))
    if refunded and refunded.amount_minor:
        key = "appt_cancelled_by_doctor_done" if ctx.user.role is Role.DOCTOR else "appt_cancelled_refund"
        done = ctx.t(key, refund=money(refunded.amount_minor, refunded.currency, ctx.locale))
    else:
        done = ctx.t("appt_cancelled")
    return Outcome(goto="list", remember=False, say=say(done))


async def _cancel(ctx: Context, appointment_id: str):
    if ctx.user.role is Role.DOCTOR:
        doctor = await directory.doctor_of(ctx.session, ctx.user.id)
        if doctor is None:
            raise BookingError("not_cancellable")
        return await appointments.cancel_by_doctor(
            ctx.session, ctx.cipher, ctx.settings, ctx.gateways, doctor, appointment_id, now=ctx.now
        )
    return await appointments.cancel_by_patient(
        ctx.session,
        ctx.cipher,
        ctx.settings,
        ctx.gateways,
        ctx.actor,
        appointment_id,
        now=ctx.now,
        expected_refund_minor=ctx.form.get("promised_refund"),
    )


FLOW = Flow(
    name="appointments",
    first="list",
    steps={
        "list": Step(ask_list, answer_list),
        "detail": Step(ask_detail, answer_detail),
        "confirm_cancel": Step(ask_confirm_cancel, answer_confirm_cancel),
    },
)


# --- buttons on notifications -------------------------------------------------------------------

# Where a button on a notification leaves its appointment's id for the card to open: the flow's own
# form is cleared when the chat switches into this flow from another one.
OPEN_CARD = "open_appointment"


def _card(ctx: Context, appointment_id: str, *texts: str) -> Outcome:
    """Say `texts`, then show the card of the appointment the button was about (not whatever card,
    or question, the chat was on before)."""
    ctx.data[OPEN_CARD] = appointment_id
    return switch("appointments", *texts, step="detail")


async def _request_button(ctx: Context, value: str, ref: str | None) -> Outcome | None:
    """The doctor's Accept / Reject on a paid request."""
    doctor = await directory.doctor_of(ctx.session, ctx.user.id) if ctx.user.role is Role.DOCTOR else None
    if doctor is None or ref is None or value not in ("accept", "reject"):
        return None
    try:
        if value == "accept":
            await appointments.accept(ctx.session, ctx.cipher, doctor, ref, now=ctx.now)
        else:
            await appointments.reject(
                ctx.session, ctx.cipher, ctx.settings, ctx.gateways, doctor, ref, now=ctx.now
            )
    except AccessDenied:
        return None
    except BookingError as error:
        return _card(ctx, ref, ctx.t(f"appt_error_{error.code}"))
    return _card(ctx, ref, ctx.t(f"appt_done_{value}"))


async def _urgent_button(ctx: Context, value: str, ref: str | None) -> Outcome | None:
    doctor = await directory.doctor_of(ctx.session, ctx.user.id) if ctx.user.role is Role.DOCTOR else None
    if doctor is None or ref is None or value != "accept":
        return None
    try:
        taken = await urgent.accept(ctx.session, ctx.cipher, doctor, ref, now=ctx.now)
    except BookingError as error:
        return retry(ctx.t(f"appt_error_{error.code}"))
    taken_text = ctx.t("urgent_taken_by_you", patient=await _patient_name(ctx, taken))
    return _card(ctx, taken.id, taken_text)  # the card shows the patient's summary, now theirs to see


async def _rebook_button(ctx: Context, value: str, ref: str | None) -> Outcome | None:
    """ "Pick a time" after a hold lapsed or a doctor cancelled: straight to that doctor's days."""
    if value != "rebook" or ref is None or ctx.user.role is not Role.PATIENT:
        return None
    ctx.data["booking"] = {"doctor_id": ref}
    return switch("booking")


actions.register("appointment_request", _request_button)
actions.register(urgent.OFFER_ACTION, _urgent_button)
actions.register("rebook", _rebook_button)
