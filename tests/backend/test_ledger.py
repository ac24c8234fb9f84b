"""The ledger: balanced transactions, earnings, payouts, and a property test over random sequences
of payment events (hypothesis), on SQLite and PostgreSQL.

Each hypothesis example runs in one transaction that is rolled back at its end, so examples do
not see each other's rows even though the database fixture lives for the whole test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend.models import LedgerEntry, Payment, PaymentStatus, Payout, Refund
from backend.payments import build_gateways, ledger
from backend.payments import service as payments
from backend.payments.gateway import EventType, GatewayEvent
from backend.payments.ledger import PayoutRefused, UnbalancedTransaction
from tests.backend.test_payments import make_appointment, make_doctor

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def gateways(settings, cipher):
    return build_gateways(settings, cipher)


async def test_post_refuses_lines_that_do_not_sum_to_zero(sessions):
    async with sessions() as session, session.begin():
        with pytest.raises(UnbalancedTransaction):
            await ledger.post(
                session, kind="charge", lines=[("gateway", 100), ("platform:commission", -99)], currency="INR"
            )
        with pytest.raises(UnbalancedTransaction):
            await ledger.post(session, kind="charge", lines=[("gateway", 0)], currency="INR")
        txn = await ledger.post(
            session, kind="charge", lines=[("gateway", 100), ("x", -100), ("y", 0)], currency="INR"
        )
        rows = (await session.scalars(select(LedgerEntry).where(LedgerEntry.txn_id == txn))).all()
        assert sorted(r.amount_minor for r in rows) == [-100, 100]  # the zero line is left out
        assert await ledger.balance(session, "gateway", "INR") == 100
        assert await ledger.balance(session, "gateway", "USD") == 0


async def test_payouts_take_what_is_pending_and_no_more(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        doctor = await make_doctor(session)
        appointment = await make_appointment(session, doctor=doctor)
        await _pay(session, settings, gateways, appointment)
        with pytest.raises(PayoutRefused):
            await ledger.record_payout(
                session, doctor.id, amount_minor=68_001, currency="INR", reference=None
            )
        with pytest.raises(PayoutRefused):
            await ledger.record_payout(session, doctor.id, amount_minor=0, currency="INR", reference=None)
        with pytest.raises(PayoutRefused):
            await ledger.record_payout(session, doctor.id, amount_minor=100, currency="USD", reference=None)
        payout = await ledger.record_payout(
            session, doctor.id, amount_minor=60_000, currency="INR", reference="UTR1"
        )
        assert (payout.amount_minor, payout.reference) == (60_000, "UTR1")
        earnings = await ledger.doctor_earnings(session, doctor.id)
        assert (earnings.earned_minor, earnings.paid_out_minor, earnings.pending_payout_minor) == (
            68_000,
            60_000,
            8_000,
        )
        with pytest.raises(LookupError):
            await ledger.record_payout(session, "nobody", amount_minor=1, currency="INR", reference=None)


async def test_a_refund_after_a_payout_leaves_the_doctor_owing_and_the_next_payout_nets_it(
    sessions, settings, gateways
):
    async with sessions() as session, session.begin():
        doctor = await make_doctor(session)
        first = await _pay(session, settings, gateways, await make_appointment(session, doctor=doctor))
        await ledger.record_payout(session, doctor.id, amount_minor=68_000, currency="INR", reference=None)
        await payments.refund(
            session, settings, gateways, first, amount_minor=80_000, key="k1", reason="x", now=NOW
        )
        earnings = await ledger.doctor_earnings(session, doctor.id)
        assert earnings.pending_payout_minor == 0 and earnings.owed_minor == 68_000
        assert await ledger.balance(session, ledger.payable(doctor.id), "INR") == 0  # never a debit
        await _pay(session, settings, gateways, await make_appointment(session, doctor=doctor))
        await _pay(session, settings, gateways, await make_appointment(session, doctor=doctor))
        earnings = await ledger.doctor_earnings(session, doctor.id)
        assert earnings.pending_payout_minor == 2 * 68_000 - 68_000 and earnings.owed_minor == 0
        await ledger.record_payout(session, doctor.id, amount_minor=68_000, currency="INR", reference=None)
        earnings = await ledger.doctor_earnings(session, doctor.id)
        assert earnings.pending_payout_minor == 0 and earnings.owed_minor == 0
        assert await ledger.balance(session, ledger.receivable(doctor.id), "INR") == 0
        assert earnings.earned_minor == 2 * 68_000 and earnings.refunded_minor == 68_000
        assert earnings.earned_minor - earnings.paid_out_minor == 0


async def test_earned_leaves_out_the_doctor_share_of_refunded_fees(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        doctor = await make_doctor(session)
        kept = await _pay(session, settings, gateways, await make_appointment(session, doctor=doctor))
        refunded = await _pay(session, settings, gateways, await make_appointment(session, doctor=doctor))
        await payments.refund(
            session, settings, gateways, refunded, amount_minor=80_000, key="k1", reason="x", now=NOW
        )
        await payments.refund(
            session, settings, gateways, kept, amount_minor=20_000, key="k2", reason="x", now=NOW
        )
        earnings = await ledger.doctor_earnings(session, doctor.id)
        # Two ₹680 shares; one given back whole and ₹170 of the other: ₹510 earned.
        assert (earnings.earned_minor, earnings.refunded_minor) == (51_000, 68_000 + 17_000)
        assert earnings.pending_payout_minor == 51_000


async def test_partial_refunds_reverse_commission_in_proportion(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        doctor = await make_doctor(session)
        payment = await _pay(
            session, settings, gateways, await make_appointment(session, doctor=doctor, fee_minor=999)
        )
        assert payment.commission_minor == 150  # 149.85 → 150
        await payments.refund(
            session, settings, gateways, payment, amount_minor=333, key="a", reason="x", now=NOW
        )
        assert await ledger.balance(session, ledger.COMMISSION, "INR") == -100  # 50 of 150 back
        await payments.refund(
            session, settings, gateways, payment, amount_minor=1, key="b", reason="x", now=NOW
        )
        await payments.refund(
            session, settings, gateways, payment, amount_minor=999, key="c", reason="x", now=NOW
        )
        assert await ledger.balance(session, ledger.COMMISSION, "INR") == 0
        assert await ledger.balance(session, ledger.payable(doctor.id), "INR") == 0


async def test_the_last_movements_are_listed_newest_first(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        doctor = await make_doctor(session)
        payment = await _pay(session, settings, gateways, await make_appointment(session, doctor=doctor))
        await payments.refund(
            session, settings, gateways, payment, amount_minor=40_000, key="a", reason="x", now=NOW
        )
        await ledger.record_payout(session, doctor.id, amount_minor=10_000, currency="INR", reference=None)
        moves = await ledger.doctor_movements(session, doctor.id)
        assert {(m.kind, m.amount_minor) for m in moves} == {
            ("charge", 68_000),
            ("refund", -34_000),
            ("payout", 10_000),
        }


# ---- the property test


async def _pay(session, settings, gateways, appointment, *, event_id: str | None = None) -> Payment:
    payment = await payments.start_payment(
        session, settings, gateways, appointment, description="x", destination=None, now=NOW
    )
    event = GatewayEvent(event_id or f"evt_{payment.id}", EventType.PAID, checkout_ref=payment.checkout_ref)
    await payments.record_event(session, "sandbox", event, settings=settings, now=NOW)
    return payment


FEES = st.sampled_from([50, 999, 80_000, 12_345])
OPERATION = st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 2)),
    st.tuples(st.just("pay_again"), st.integers(0, 2)),  # the same PAID event delivered twice
    st.tuples(st.just("pay_other_event"), st.integers(0, 2)),  # another PAID event for the same link
    st.tuples(st.just("expire"), st.integers(0, 2)),
    st.tuples(st.just("refund"), st.integers(0, 2), st.integers(1, 90_000), st.integers(0, 2)),
    st.tuples(st.just("refund_event"), st.integers(0, 2)),
    st.tuples(st.just("payout"), st.integers(1, 90_000)),
    st.tuples(st.just("assign"), st.integers(0, 2)),
)


@hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fees=st.lists(FEES, min_size=3, max_size=3),
    split=st.lists(st.booleans(), min_size=3, max_size=3),
    urgent=st.lists(st.booleans(), min_size=3, max_size=3),
    operations=st.lists(OPERATION, max_size=14),
)
async def test_any_sequence_of_events_keeps_the_ledger_balanced_and_consistent(
    sessions, settings, gateways, fees, split, urgent, operations
):
    async with sessions() as session:
        transaction = await session.begin()
        try:
            await _run_sequence(session, settings, gateways, fees, split, urgent, operations)
        finally:
            await transaction.rollback()


async def _run_sequence(session, settings, gateways, fees, split, urgent, operations) -> None:
    doctor = await make_doctor(session)
    appointments, links = [], []
    for fee, is_urgent in zip(fees, urgent, strict=True):
        appointments.append(
            await make_appointment(session, doctor=None if is_urgent else doctor, fee_minor=fee)
        )
    for index, appointment in enumerate(appointments):
        payment = await payments.start_payment(
            session, settings, gateways, appointment, description="x", destination=None, now=NOW
        )
        if split[index] and not urgent[index]:
            payment.destination_account = "acct_doctor"  # as a Stripe Connect payment would have it
        links.append(payment)
    payouts = 0
    for operation in operations:
        kind, index = operation[0], operation[1]
        payment = links[index % 3]
        if kind in ("pay", "pay_again", "pay_other_event"):
            event_id = (
                f"evt_{payment.id}" if kind != "pay_other_event" else f"evt_{payment.id}_{len(operations)}"
            )
            event = GatewayEvent(
                event_id, EventType.PAID, checkout_ref=payment.checkout_ref, charge_ref="ch_x"
            )
            if await payments._first_sighting(session, "sandbox", event, NOW):
                await payments.record_event(session, "sandbox", event, settings=settings, now=NOW)
        elif kind == "expire":
            await payments.cancel_checkout(session, gateways, payment)
        elif kind == "refund":
            before = payment.refunded_minor
            made = await payments.refund(
                session, settings, gateways, payment, amount_minor=operation[2], key=f"{payment.id}:{operation[3]}",
                reason="x", now=NOW,
            )  # fmt: skip
            if made is None:
                assert payment.status is not PaymentStatus.PAID or before == payment.amount_minor
        elif kind == "refund_event":
            event = GatewayEvent(f"evt_r_{payment.id}", EventType.REFUNDED, checkout_ref=payment.checkout_ref)
            if await payments._first_sighting(session, "sandbox", event, NOW):
                await payments.record_event(session, "sandbox", event, settings=settings, now=NOW)
        elif kind == "assign":
            appointment = appointments[index % 3]
            if appointment.doctor_id is None and payment.status is not PaymentStatus.CREATED:
                appointment.doctor_id = doctor.id  # an on-call doctor took the urgent consult
                await payments.assign_doctor(session, payment, doctor.id)
        elif kind == "payout":
            pending = (await ledger.doctor_earnings(session, doctor.id)).pending_payout_minor
            if index <= pending:
                await ledger.record_payout(
                    session, doctor.id, amount_minor=index, currency="INR", reference=None
                )
                payouts += index
            else:
                with pytest.raises(PayoutRefused):
                    await ledger.record_payout(
                        session, doctor.id, amount_minor=index, currency="INR", reference=None
                    )
        await _check_invariants(session, doctor.id, links, payouts)


async def _check_invariants(session, doctor_id: str, links: list[Payment], payouts: int) -> None:
    # Every transaction sums to zero (and so do all lines).
    unbalanced = await session.scalar(
        select(func.count()).select_from(
            select(LedgerEntry.txn_id)
            .group_by(LedgerEntry.txn_id)
            .having(func.sum(LedgerEntry.amount_minor) != 0)
            .subquery()
        )
    )
    assert unbalanced == 0
    assert await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0))) == 0
    received = given_back = 0
    for payment in links:
        refunds = (await session.scalars(select(Refund).where(Refund.payment_id == payment.id))).all()
        # Refunds never exceed what was paid, and only money that was paid is refunded.
        assert sum(r.amount_minor for r in refunds) == payment.refunded_minor <= payment.amount_minor
        paid = payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED)
        assert paid or payment.refunded_minor == 0
        assert (payment.status is PaymentStatus.REFUNDED) == (
            paid and payment.refunded_minor == payment.amount_minor
        )
        if paid:
            received += payment.amount_minor
            given_back += payment.refunded_minor
        # Each payment's commission still held is between zero and its full commission.
        held = -(await ledger.payment_balances(session, payment.id)).get(ledger.COMMISSION, 0)
        assert 0 <= held <= (payment.commission_minor if paid else 0)
    assert await ledger.balance(session, ledger.GATEWAY, "INR") == received - given_back
    # The doctor's payable is never a debit (the platform never holds a negative debt to them).
    assert await ledger.balance(session, ledger.payable(doctor_id), "INR") <= 0
    assert await ledger.balance(session, ledger.receivable(doctor_id), "INR") >= 0
    assert await ledger.balance(session, ledger.UNASSIGNED, "INR") <= 0
    earnings = await ledger.doctor_earnings(session, doctor_id)
    assert earnings.pending_payout_minor >= 0 and earnings.owed_minor >= 0
    assert min(earnings.pending_payout_minor, earnings.owed_minor) == 0
    assert (
        earnings.earned_minor - earnings.paid_out_minor == earnings.pending_payout_minor - earnings.owed_minor
    )
    recorded_payouts = await session.scalar(
        select(func.coalesce(func.sum(Payout.amount_minor), 0)).where(Payout.doctor_id == doctor_id)
    )
    assert recorded_payouts == payouts
