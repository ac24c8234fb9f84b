"""The appointment service: holds, payment settling, the doctor's decision, cancellations with
their refunds, moves, reminders and the sweeper. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.access import AccessDenied, Actor
from backend.appointments import service as appointments
from backend.appointments.service import BookingError
from backend.models import (
    Appointment,
    AppointmentStatus,
    LedgerEntry,
    OutboxStatus,
    Payment,
    PaymentStatus,
    Role,
    VerificationStatus,
)
from backend.outbox import service as outbox
from backend.payments import ledger
from backend.payments.gateway import EventType
from tests.appointments.factories import NOW, make_doctor, make_patient, make_slot, outbox_for, record

START = NOW + timedelta(days=3)  # far enough for a free cancellation (24 h)


@pytest.fixture
async def booked(sessions, cipher, settings, gateways):
    """A patient holding a doctor's slot, with its payment link made."""
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)
        doctor = await make_doctor(session)
        slot = await make_slot(session, doctor, START)
        held = await appointments.hold(
            session,
            cipher,
            settings,
            patient_id=patient.id,
            slot_id=slot.id,
            reason="fever for 3 days",
            now=NOW,
        )
        payment = await appointments.pay_link(session, settings, gateways, held, now=NOW)
    return {"patient": patient, "doctor": doctor, "slot": slot, "appointment": held, "payment": payment}


async def settle_paid(sessions, cipher, settings, gateways, payment, *, now=NOW, event_id=None):
    async with sessions() as session, session.begin():
        fresh = await session.get(Payment, payment.id)
        change = await record(session, settings, fresh, EventType.PAID, event_id)
        if change:
            await appointments.settle(session, cipher, settings, gateways, change, now=now)
        return change


async def status_of(sessions, appointment_id):
    async with sessions() as session:
        return (await session.get(Appointment, appointment_id)).status


# --- holding ------------------------------------------------------------------------------------


async def test_a_hold_keeps_the_reason_encrypted_and_sets_its_expiry(sessions, cipher, settings, booked):
    async with sessions() as session:
        held = await session.get(Appointment, booked["appointment"].id)
        assert held.status is AppointmentStatus.HELD and held.slot_lock == booked["slot"].id
        assert held.hold_expires_at == NOW + timedelta(minutes=settings.hold_minutes)
        assert b"fever" not in held.reason_enc
        assert appointments.reason_of(cipher, held) == "fever for 3 days"
        assert booked["payment"].url.startswith("http://testserver/pay/sandbox/")


async def test_a_slot_another_patient_holds_cannot_be_held(sessions, cipher, settings, booked):
    async with sessions() as session, session.begin():
        other = await make_patient(session, cipher, name="Ravi Kumar")
        with pytest.raises(BookingError) as refused:
            await appointments.hold(
                session,
                cipher,
                settings,
                patient_id=other.id,
                slot_id=booked["slot"].id,
                reason="cough",
                now=NOW,
            )
    assert refused.value.code == "slot_taken"


async def test_a_slot_in_the_past_cannot_be_held(sessions, cipher, settings):
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)
        doctor = await make_doctor(session)
        slot = await make_slot(session, doctor, NOW - timedelta(minutes=5))
        with pytest.raises(BookingError) as refused:
            await appointments.hold(
                session, cipher, settings, patient_id=patient.id, slot_id=slot.id, reason="x y z", now=NOW
            )
    assert refused.value.code == "slot_past"


@pytest.mark.parametrize("status", [VerificationStatus.PENDING, VerificationStatus.REJECTED])
async def test_a_doctor_not_verified_cannot_be_booked(sessions, cipher, settings, status):
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)
        doctor = await make_doctor(session, status=status)
        slot = await make_slot(session, doctor, START)
        with pytest.raises(BookingError) as refused:
            await appointments.hold(
                session, cipher, settings, patient_id=patient.id, slot_id=slot.id, reason="cough", now=NOW
            )
    assert refused.value.code == "doctor_not_bookable"


async def test_a_lapsed_hold_frees_the_slot_for_the_next_patient_and_its_patient_is_told(
    sessions, cipher, settings, booked
):
    later = NOW + timedelta(minutes=settings.hold_minutes, seconds=1)
    async with sessions() as session, session.begin():
        other = await make_patient(session, cipher, name="Ravi Kumar")
        taken = await appointments.hold(
            session,
            cipher,
            settings,
            patient_id=other.id,
            slot_id=booked["slot"].id,
            reason="cough",
            now=later,
        )
    assert taken.slot_lock == booked["slot"].id
    assert await status_of(sessions, booked["appointment"].id) is AppointmentStatus.EXPIRED
    async with sessions() as session:
        told = [m.template for m in await outbox_for(session, booked["patient"].id)]
    assert "appointment_hold_expired" in told


async def test_a_patient_cannot_hoard_slots(sessions, cipher, settings):
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)
        doctor = await make_doctor(session)
        for hour in range(appointments.MAX_OPEN_HOLDS):
            slot = await make_slot(session, doctor, START + timedelta(hours=hour))
            await appointments.hold(
                session, cipher, settings, patient_id=patient.id, slot_id=slot.id, reason="ache", now=NOW
            )
        one_more = await make_slot(session, doctor, START + timedelta(hours=10))
        with pytest.raises(BookingError) as refused:
            await appointments.hold(
                session, cipher, settings, patient_id=patient.id, slot_id=one_more.id, reason="ache", now=NOW
            )
    assert refused.value.code == "too_many_holds"


async def test_another_patients_appointment_is_refused_and_the_refusal_audited(
    sessions, cipher, settings, gateways, booked
):
    async with sessions() as session, session.begin():
        other = await make_patient(session, cipher, name="Ravi Kumar")
    intruder = Actor(other.id, Role.PATIENT)
    for attempt in (
        lambda s: appointments.for_actor(s, intruder, booked["appointment"].id),
        lambda s: appointments.cancel_by_patient(
            s, cipher, settings, gateways, intruder, booked["appointment"].id, now=NOW
        ),
        lambda s: appointments.for_actor(s, intruder, "0" * 32),
    ):
        async with sessions() as session, session.begin():
            with pytest.raises(AccessDenied):
                await attempt(session)
    assert await status_of(sessions, booked["appointment"].id) is AppointmentStatus.HELD
    async with sessions() as session:
        from backend.models import AuditEntry

        denied = await session.scalar(
            select(func.count()).where(AuditEntry.actor_id == other.id, AuditEntry.outcome == "denied")
        )
    assert denied == 3


# --- paying -------------------------------------------------------------------------------------


async def test_payment_sends_the_request_to_the_doctor_with_accept_and_reject(
    sessions, cipher, settings, gateways, booked
):
    change = await settle_paid(sessions, cipher, settings, gateways, booked["payment"])
    assert change.first_time
    async with sessions() as session:
        held = await session.get(Appointment, booked["appointment"].id)
        assert held.status is AppointmentStatus.REQUESTED and held.paid_at == NOW
        assert held.decision_deadline == NOW + timedelta(minutes=settings.decision_minutes)
        request = [
            m
            for m in await outbox_for(session, booked["doctor"].user_id)
            if m.template == "appointment_request"
        ]
        assert len(request) == 1 and request[0].action == "appointment_request"
        assert request[0].action_ref == held.id and "accept" in request[0].actions_json
        params = outbox.open_params(cipher, request[0])
        assert params["patient"] == "Asha Verma" and params["reason"] == "fever for 3 days"
        paid = [m.template for m in await outbox_for(session, booked["patient"].id)]
        assert "appointment_paid" in paid


async def test_a_replayed_payment_event_changes_nothing(sessions, cipher, settings, gateways, booked):
    await settle_paid(sessions, cipher, settings, gateways, booked["payment"], event_id="evt_same")
    async with sessions() as session, session.begin():
        fresh = await session.get(Payment, booked["payment"].id)
        again = await record(session, settings, fresh, EventType.PAID, "evt_other")
        assert again is None or not again.first_time
    async with sessions() as session:
        requests = [
            m
            for m in await outbox_for(session, booked["doctor"].user_id)
            if m.template == "appointment_request"
        ]
        assert len(requests) == 1


async def test_a_doctor_who_auto_accepts_is_confirmed_at_once(sessions, cipher, settings, gateways):
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)
        doctor = await make_doctor(session, auto_accept=True)
        slot = await make_slot(session, doctor, START)
        held = await appointments.hold(
            session, cipher, settings, patient_id=patient.id, slot_id=slot.id, reason="rash", now=NOW
        )
        payment = await appointments.pay_link(session, settings, gateways, held, now=NOW)
    await settle_paid(sessions, cipher, settings, gateways, payment)
    assert await status_of(sessions, held.id) is AppointmentStatus.CONFIRMED
    async with sessions() as session:
        doctor_msgs = [m.template for m in await outbox_for(session, doctor.user_id)]
        assert "appointment_request" not in doctor_msgs and "appointment_confirmed_doctor" in doctor_msgs


async def test_paying_a_hold_that_lapsed_and_lost_its_slot_is_refunded_in_full(
    sessions, cipher, settings, gateways, booked
):
    later = NOW + timedelta(minutes=settings.hold_minutes + 1)
    async with sessions() as session, session.begin():
        await appointments.sweep(session, cipher, settings, gateways, now=later)
    await settle_paid(sessions, cipher, settings, gateways, booked["payment"], now=later)
    async with sessions() as session:
        payment = await session.get(Payment, booked["payment"].id)
        assert payment.refunded_minor == payment.amount_minor and payment.status is PaymentStatus.REFUNDED
        assert (await session.get(Appointment, booked["appointment"].id)).status is AppointmentStatus.EXPIRED
        told = [m.template for m in await outbox_for(session, booked["patient"].id)]
        assert "appointment_refund_paid_too_late" in told
        assert not [
            m
            for m in await outbox_for(session, booked["doctor"].user_id)
            if m.template == "appointment_request"
        ]


async def test_a_second_payment_for_one_appointment_is_refunded(sessions, cipher, settings, gateways, booked):
    await settle_paid(sessions, cipher, settings, gateways, booked["payment"])
    async with sessions() as session, session.begin():
        held = await session.get(Appointment, booked["appointment"].id)
        # The patient paid a second link too (e.g. opened on two devices).
        from backend.payments import service as payments

        held.status = AppointmentStatus.HELD  # a link can only be made for a hold
        second = await payments.start_payment(
            session, settings, gateways, held, description="again", destination=None, now=NOW
        )
        held.status = AppointmentStatus.REQUESTED
    await settle_paid(sessions, cipher, settings, gateways, second)
    async with sessions() as session:
        again = await session.get(Payment, second.id)
        first = await session.get(Payment, booked["payment"].id)
        assert again.refunded_minor == again.amount_minor
        assert first.refunded_minor == 0 and first.status is PaymentStatus.PAID
        told = [m.template for m in await outbox_for(session, booked["patient"].id)]
        assert "appointment_refund_duplicate_payment" in told


# --- the doctor's decision ----------------------------------------------------------------------


async def test_accepting_confirms_to_both_and_schedules_the_reminders(
    sessions, cipher, settings, gateways, booked
):
    await settle_paid(sessions, cipher, settings, gateways, booked["payment"])
    async with sessions() as session, session.begin():
        doctor = await session.get(type(booked["doctor"]), booked["doctor"].id)
        await appointments.accept(session, cipher, doctor, booked["appointment"].id, now=NOW)
    async with sessions() as session:
        patient_msgs = await outbox_for(session, booked["patient"].id)
        doctor_msgs = await outbox_for(session, booked["doctor"].user_id)
        assert "appointment_confirmed_patient" in [m.template for m in patient_msgs]
        assert "appointment_confirmed_doctor" in [m.template for m in doctor_msgs]
        reminders = sorted((m.due_at, m.template) for m in patient_msgs if m.kind == "appointment")
        assert reminders == [
            (START - timedelta(hours=24), "appointment_reminder_24h"),
            (START - timedelta(hours=1), "appointment_reminder_1h"),
            (START, "appointment_reminder_start"),
        ]
        assert len([m for m in doctor_msgs if m.kind == "appointment"]) == 3


async def test_reject_after_accept_is_refused_and_changes_nothing(
    sessions, cipher, settings, gateways, booked
):
    await settle_paid(sessions, cipher, settings, gateways, booked["payment"])
    async with sessions() as session, session.begin():
        doctor = await session.get(type(booked["doctor"]), booked["doctor"].id)
        await appointments.accept(session, cipher, doctor, booked["appointment"].id, now=NOW)
    async with sessions() as session, session.begin():
        doctor = await session.get(type(booked["doctor"]), booked["doctor"].id)
        with pytest.raises(BookingError) as refused:
            await appointments.reject(
                session, cipher, settings, gateways, doctor, booked["appointment"].id, now=NOW
            )
    assert refused.value.code == "already_decided"
    assert await status_of(sessions, booked["appointment"].id) is AppointmentStatus.CONFIRMED
    async with sessions() as session:
        assert (await session.get(Payment, booked["payment"].id)).refunded_minor == 0


async def test_rejecting_refunds_in_full_and_offers_the_three_nearest_times(
    sessions, cipher, settings, gateways, booked
):
    async with sessions() as session, session.begin():
        for hours in (-2, 1, 2, 30):
            await make_slot(session, booked["doctor"], START + timedelta(hours=hours))
    await settle_paid(sessions, cipher, settings, gateways, booked["payment"])
    async with sessions() as session, session.begin():
        doctor = await session.get(type(booked["doctor"]), booked["doctor"].id)
        await appointments.reject(
            session, cipher, settings, gateways, doctor, booked["appointment"].id, now=NOW
        )
    async with sessions() as session:
        held = await session.get(Appointment, booked["appointment"].id)
        assert held.status is AppointmentStatus.REJECTED and held.slot_lock is None
        assert (await session.get(Payment, booked["payment"].id)).refunded_minor == 50_000
        notice = next(
            m for m in await outbox_for(session, booked["patient"].id) if m.template == "appointment_rejected"
        )
        params = outbox.open_params(cipher, notice)
        expected = [(START + timedelta(hours=h)).isoformat() for h in (1, -2, 2)]
        assert sorted(params["alternatives_ats"]) == sorted(expected)
        assert notice.action == "rebook" and notice.action_ref == booked["doctor"].id


async def test_an_unanswered_request_is_refunded_by_the_sweeper_once(
    sessions, cipher, settings, gateways, booked
):
    await settle_paid(sessions, cipher, settings, gateways, booked["payment"])
    late = NOW + timedelta(minutes=settings.decision_minutes, seconds=1)
    for _ in range(2):
        async with sessions() as session, session.begin():
            await appointments.sweep(session, cipher, settings, gateways, now=late)
    async with sessions() as session:
        assert (await session.get(Appointment, booked["appointment"].id)).status is AppointmentStatus.REJECTED
        payment = await session.get(Payment, booked["payment"].id)
        assert payment.refunded_minor == payment.amount_minor
        templates = [m.template for m in await outbox_for(session, booked["patient"].id)]
        assert templates.count("appointment_not_answered") == 1
        assert "appointment_request_lapsed" in [
            m.template for m in await outbox_for(session, booked["doctor"].user_id)
        ]
        # The unsent request itself is withdrawn.
        request = [
            m
            for m in await outbox_for(session, booked["doctor"].user_id)
            if m.template == "appointment_request"
        ]
        assert request[0].status is OutboxStatus.CANCELLED


# --- cancelling and moving ----------------------------------------------------------------------


async def confirmed(sessions, cipher, settings, gateways, booked):
    await settle_paid(sessions, cipher, settings, gateways, booked["payment"])
    async with sessions() as session, session.begin():
        doctor = await session.get(type(booked["doctor"]), booked["doctor"].id)
        await appointments.accept(session, cipher, doctor, booked["appointment"].id, now=NOW)


async def test_a_patient_cancelling_early_gets_everything_back_and_reminders_are_withdrawn(
    sessions, cipher, settings, gateways, booked
):
    await confirmed(sessions, cipher, settings, gateways, booked)
    patient = Actor(booked["patient"].id, Role.PATIENT)
    async with sessions() as session, session.begin():
        refunded = await appointments.cancel_by_patient(
            session, cipher, settings, gateways, patient, booked["appointment"].id, now=NOW
        )
    assert refunded.amount_minor == 50_000
    async with sessions() as session:
        reminders = [m for m in await outbox_for(session, booked["patient"].id) if m.kind == "appointment"]
        assert reminders and all(m.status is OutboxStatus.CANCELLED for m in reminders)
        assert "appointment_cancelled_by_patient" in [
            m.template for m in await outbox_for(session, booked["doctor"].user_id)
        ]
        held = await session.get(Appointment, booked["appointment"].id)
        assert held.slot_lock is None and held.ended_by == "patient"


async def test_a_late_cancellation_refunds_per_policy(sessions, cipher, settings, gateways, booked):
    await confirmed(sessions, cipher, settings, gateways, booked)
    late = START - timedelta(hours=2)
    async with sessions() as session, session.begin():
        refunded = await appointments.cancel_by_patient(
            session,
            cipher,
            settings,
            gateways,
            Actor(booked["patient"].id, Role.PATIENT),
            booked["appointment"].id,
            now=late,
        )
    assert refunded.amount_minor == 50_000 * settings.late_cancel_refund_percent // 100


async def test_a_doctor_cancelling_refunds_in_full_and_the_ledger_balances(
    sessions, cipher, settings, gateways, booked
):
    await confirmed(sessions, cipher, settings, gateways, booked)
    async with sessions() as session, session.begin():
        await make_slot(session, booked["doctor"], START + timedelta(hours=1))
        doctor = await session.get(type(booked["doctor"]), booked["doctor"].id)
        refunded = await appointments.cancel_by_doctor(
            session, cipher, settings, gateways, doctor, booked["appointment"].id, now=NOW
        )
    assert refunded.amount_minor == 50_000
    async with sessions() as session:
        total = await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)))
        assert total == 0
        assert await ledger.balance(session, ledger.payable(booked["doctor"].id), "INR") == 0
        notice = [
            m
            for m in await outbox_for(session, booked["patient"].id)
            if m.template == "appointment_cancelled_by_doctor"
        ]
        assert len(notice) == 1
        assert outbox.open_params(cipher, notice[0])["alternatives_ats"] == [
            (START + timedelta(hours=1)).isoformat()
        ]


async def test_moving_keeps_the_payment_frees_the_old_slot_and_replaces_the_reminders(
    sessions, cipher, settings, gateways, booked
):
    await confirmed(sessions, cipher, settings, gateways, booked)
    new_start = START + timedelta(days=1)
    async with sessions() as session, session.begin():
        new_slot = await make_slot(session, booked["doctor"], new_start)
    patient = Actor(booked["patient"].id, Role.PATIENT)
    async with sessions() as session, session.begin():
        await appointments.reschedule(
            session, cipher, settings, patient, booked["appointment"].id, new_slot.id, now=NOW
        )
    async with sessions() as session, session.begin():
        moved = await session.get(Appointment, booked["appointment"].id)
        assert moved.slot_lock == new_slot.id and moved.starts_at == new_start
        assert moved.status is AppointmentStatus.CONFIRMED
        due = sorted(
            m.due_at
            for m in await outbox_for(session, booked["patient"].id)
            if m.kind == "appointment" and m.status is OutboxStatus.PENDING
        )
        assert due == [new_start - timedelta(hours=24), new_start - timedelta(hours=1), new_start]
        # The old slot can be booked by someone else now.
        other = await make_patient(session, cipher, name="Ravi Kumar")
        await appointments.hold(
            session, cipher, settings, patient_id=other.id, slot_id=booked["slot"].id, reason="cough", now=NOW
        )


async def test_moving_to_a_slot_someone_holds_is_refused(sessions, cipher, settings, gateways, booked):
    await confirmed(sessions, cipher, settings, gateways, booked)
    async with sessions() as session, session.begin():
        busy = await make_slot(session, booked["doctor"], START + timedelta(days=1))
        other = await make_patient(session, cipher, name="Ravi Kumar")
        await appointments.hold(
            session, cipher, settings, patient_id=other.id, slot_id=busy.id, reason="cough", now=NOW
        )
    async with sessions() as session, session.begin():
        with pytest.raises(BookingError) as refused:
            await appointments.reschedule(
                session,
                cipher,
                settings,
                Actor(booked["patient"].id, Role.PATIENT),
                booked["appointment"].id,
                busy.id,
                now=NOW,
            )
    assert refused.value.code == "slot_taken"


async def test_no_shows_are_recorded_and_a_missing_doctor_is_refunded(
    sessions, cipher, settings, gateways, booked
):
    await confirmed(sessions, cipher, settings, gateways, booked)
    patient = Actor(booked["patient"].id, Role.PATIENT)
    async with sessions() as session, session.begin():
        with pytest.raises(BookingError) as early:
            await appointments.record_outcome(
                session,
                cipher,
                settings,
                gateways,
                patient,
                booked["appointment"].id,
                "doctor_no_show",
                now=NOW,
            )
    assert early.value.code == "not_started"
    later = START + timedelta(minutes=15)
    async with sessions() as session, session.begin():
        refunded = await appointments.record_outcome(
            session,
            cipher,
            settings,
            gateways,
            patient,
            booked["appointment"].id,
            "doctor_no_show",
            now=later,
        )
    assert refunded.amount_minor == 50_000
    async with sessions() as session:
        held = await session.get(Appointment, booked["appointment"].id)
        assert held.status is AppointmentStatus.NO_SHOW and held.end_reason == "doctor_no_show"


# --- races and late arrivals (found in review) --------------------------------------------------


async def test_cancelling_a_hold_while_its_payment_lands_refunds_the_payment(
    sessions, cipher, settings, gateways, booked, database_url, monkeypatch
):
    """The patient's cancel read the hold as unpaid; the webhook committed the payment before the
    cancel changed anything. The cancel must see the payment and refund it."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writing transaction at a time: this interleaving cannot happen there")
    original = appointments.for_actor

    async def read_then_payment_lands(session, actor, appointment_id, **options):
        await original(session, actor, appointment_id)  # the cancel's first look: HELD, unlocked
        await settle_paid(sessions, cipher, settings, gateways, booked["payment"])  # another request
        return await original(session, actor, appointment_id, **options)

    monkeypatch.setattr(appointments, "for_actor", read_then_payment_lands)
    async with sessions() as session, session.begin():
        refunded = await appointments.cancel_by_patient(
            session,
            cipher,
            settings,
            gateways,
            Actor(booked["patient"].id, Role.PATIENT),
            booked["appointment"].id,
            now=NOW,
        )
    assert refunded.amount_minor == 50_000
    async with sessions() as session:
        assert (await session.get(Payment, booked["payment"].id)).status is PaymentStatus.REFUNDED


async def test_a_doctor_cannot_accept_after_the_deadline_the_patient_was_given(
    sessions, cipher, settings, gateways, booked
):
    await settle_paid(sessions, cipher, settings, gateways, booked["payment"])
    late = NOW + timedelta(minutes=settings.decision_minutes, seconds=1)
    async with sessions() as session, session.begin():
        doctor = await session.get(type(booked["doctor"]), booked["doctor"].id)
        with pytest.raises(BookingError) as refused:
            await appointments.accept(session, cipher, doctor, booked["appointment"].id, now=late)
    assert refused.value.code == "too_late_to_decide"


async def test_a_late_payment_for_a_slot_that_was_closed_meanwhile_is_refunded(
    sessions, cipher, settings, gateways, booked
):
    later = NOW + timedelta(minutes=settings.hold_minutes + 1)
    async with sessions() as session, session.begin():
        from backend.models import Slot

        (await session.get(Slot, booked["slot"].id)).status = "closed"  # the doctor changed their hours
    await settle_paid(sessions, cipher, settings, gateways, booked["payment"], now=later)
    async with sessions() as session:
        held = await session.get(Appointment, booked["appointment"].id)
        assert held.status is AppointmentStatus.EXPIRED and held.slot_lock is None
        assert (await session.get(Payment, booked["payment"].id)).status is PaymentStatus.REFUNDED


async def test_a_late_payment_for_a_slot_still_free_is_taken(sessions, cipher, settings, gateways, booked):
    later = NOW + timedelta(minutes=settings.hold_minutes + 1)  # lapsed, but nobody took the slot
    await settle_paid(sessions, cipher, settings, gateways, booked["payment"], now=later)
    assert await status_of(sessions, booked["appointment"].id) is AppointmentStatus.REQUESTED


async def test_a_doctor_no_show_can_be_reported_only_around_the_appointment(
    sessions, cipher, settings, gateways, booked
):
    await confirmed(sessions, cipher, settings, gateways, booked)
    patient = Actor(booked["patient"].id, Role.PATIENT)
    days_later = START + timedelta(days=2)
    async with sessions() as session, session.begin():
        with pytest.raises(BookingError) as refused:
            await appointments.record_outcome(
                session,
                cipher,
                settings,
                gateways,
                patient,
                booked["appointment"].id,
                "doctor_no_show",
                now=days_later,
            )
    assert refused.value.code == "too_late_to_report"
    assert await status_of(sessions, booked["appointment"].id) is AppointmentStatus.CONFIRMED


async def test_each_move_is_told_to_the_doctor_even_back_and_forth(
    sessions, cipher, settings, gateways, booked
):
    await confirmed(sessions, cipher, settings, gateways, booked)
    async with sessions() as session, session.begin():
        other = await make_slot(session, booked["doctor"], START + timedelta(days=1))
    patient = Actor(booked["patient"].id, Role.PATIENT)
    for slot in (other, booked["slot"], other):
        async with sessions() as session, session.begin():
            await appointments.reschedule(
                session, cipher, settings, patient, booked["appointment"].id, slot.id, now=NOW
            )
    async with sessions() as session:
        moved = [
            m
            for m in await outbox_for(session, booked["doctor"].user_id)
            if m.template == "appointment_moved"
        ]
    assert len(moved) == 3


async def test_showing_the_reason_for_a_visit_is_audited(sessions, cipher, settings, gateways, booked):
    from backend.models import AuditEntry

    await settle_paid(sessions, cipher, settings, gateways, booked["payment"])  # disclosed to the doctor
    async with sessions() as session, session.begin():
        held = await session.get(Appointment, booked["appointment"].id)
        patient = Actor(booked["patient"].id, Role.PATIENT)
        assert await appointments.read_reason(
            session, cipher, held, actor=patient, purpose="view_appointment"
        ) == ("fever for 3 days")
    async with sessions() as session:
        reads = (
            await session.scalars(
                select(AuditEntry.purpose).where(
                    AuditEntry.resource_type == "appointment_reason",
                    AuditEntry.patient_id == booked["patient"].id,
                )
            )
        ).all()
    assert sorted(reads) == ["disclose_to_doctor", "view_appointment"]


class RefusingRefunds:
    """The sandbox, except that refunds fail (the gateway is away)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.instant_refunds = inner.instant_refunds

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def refund(self, **_):
        from backend.payments.gateway import GatewayError

        raise GatewayError("gateway away")


async def test_a_refund_the_gateway_refuses_leaves_the_request_for_the_next_sweep(
    sessions, cipher, settings, gateways, booked
):
    from backend.payments.gateway import Gateways

    await settle_paid(sessions, cipher, settings, gateways, booked["payment"])
    away = Gateways(default=RefusingRefunds(gateways.default))
    late = NOW + timedelta(minutes=settings.decision_minutes, seconds=1)
    async with sessions() as session, session.begin():
        assert await appointments.sweep(session, cipher, settings, away, now=late) == 0
    assert await status_of(sessions, booked["appointment"].id) is AppointmentStatus.REQUESTED
    async with sessions() as session, session.begin():
        assert await appointments.sweep(session, cipher, settings, gateways, now=late) == 1
    assert await status_of(sessions, booked["appointment"].id) is AppointmentStatus.REJECTED


async def test_a_refund_the_gateway_later_reports_failed_is_told_to_the_patient_and_the_admins(
    sessions, cipher, settings, gateways, booked
):
    from backend.models import Refund
    from backend.payments import service as payments
    from backend.payments.gateway import GatewayEvent
    from tests.notifications.helpers import make_user

    await confirmed(sessions, cipher, settings, gateways, booked)
    async with sessions() as session, session.begin():
        admin = await make_user(session, role=Role.ADMIN)
        doctor = await session.get(type(booked["doctor"]), booked["doctor"].id)
        await appointments.cancel_by_doctor(
            session, cipher, settings, gateways, doctor, booked["appointment"].id, now=NOW
        )
    async with sessions() as session, session.begin():
        refund = await session.scalar(select(Refund))
        event = GatewayEvent(
            event_id="evt_refund_failed",
            type=EventType.REFUND_FAILED,
            refund_ref=refund.gateway_ref,
            charge_ref=None,
            checkout_ref=booked["payment"].checkout_ref,
        )
        change = await payments.record_event(session, "sandbox", event, settings=settings, now=NOW)
        await appointments.settle(session, cipher, settings, gateways, change, now=NOW)
    async with sessions() as session:
        assert "appointment_refund_failed" in [
            m.template for m in await outbox_for(session, booked["patient"].id)
        ]
        alert = [m for m in await outbox_for(session, admin.id) if m.template == "refund_failed_admin"]
        assert len(alert) == 1 and outbox.open_params(cipher, alert[0])["amount_money"] == "50000 INR"
        assert await ledger.balance(session, ledger.refund_owed(booked["patient"].id), "INR") == -50_000
        # The doctor's share stays refunded: nothing of it returns to their pending payout.
        assert (await ledger.doctor_earnings(session, booked["doctor"].id)).pending_payout_minor == 0
