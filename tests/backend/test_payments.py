"""The payments service with the sandbox gateway: links, webhooks in any order, refunds, expiry.

The small factories at the top are shared by the other payments tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from backend.models import (
    Appointment,
    Doctor,
    LedgerEntry,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    Role,
    User,
    new_id,
)
from backend.payments import build_gateways, ledger
from backend.payments import service as payments
from backend.payments.gateway import EventType, GatewayEvent, InvalidEvent, InvalidSignature
from backend.payments.sandbox import SIGNATURE_HEADER

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FEE = 80_000  # ₹800.00


# ---- factories (keyword-only, small)


async def make_doctor(
    session, *, fee_minor: int = FEE, currency: str = "INR", stripe_account: str | None = None
) -> Doctor:
    user = User(id=new_id(), role=Role.DOCTOR, display_name="Dr Asha Rao")
    session.add(user)
    await session.flush()  # no ORM relationship orders the inserts
    doctor = Doctor(
        id=new_id(),
        user_id=user.id,
        full_name="Dr Asha Rao",
        qualification="MBBS",
        council="NMC",
        registration_number=new_id()[:10],
        fee_minor=fee_minor,
        currency=currency,
        stripe_account_id=stripe_account,
    )
    session.add(doctor)
    await session.flush()
    return doctor


async def make_appointment(
    session, *, doctor: Doctor | None, fee_minor: int = FEE, currency: str = "INR"
) -> Appointment:
    patient = User(id=new_id(), role=Role.PATIENT)
    session.add(patient)
    await session.flush()
    appointment = Appointment(
        id=new_id(),
        patient_id=patient.id,
        doctor_id=doctor.id if doctor else None,
        fee_minor=fee_minor,
        currency=currency,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, minutes=15),
    )
    session.add(appointment)
    await session.flush()
    return appointment


async def paid_by_sandbox(
    session, settings, gateways, appointment: Appointment, *, now: datetime = NOW
) -> Payment:
    payment = await payments.start_payment(
        session, settings, gateways, appointment, description="Consultation", destination=None, now=now
    )
    sandbox = gateways.get("sandbox")
    body = sandbox.event_body(payment, "checkout.paid")
    change = await payments.handle_webhook(
        session, gateways, settings, "sandbox", body, sandbox.sign(body, now), now=now
    )
    assert change is not None and change.first_time
    return payment


async def ledger_sum(session) -> int:
    return int(await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0))))


@pytest.fixture
def gateways(settings, cipher):
    return build_gateways(settings, cipher)


# ---- tests


def test_commission_is_rounded_half_up():
    assert payments.commission_for(80_000, 1500) == 12_000
    assert payments.commission_for(10, 1500) == 2  # 1.5 → 2
    assert payments.commission_for(3, 1500) == 0  # 0.45 → 0
    assert payments.commission_for(1, 5000) == 1  # 0.5 → 1


def test_build_gateways_defaults_to_the_sandbox_and_adds_stripe_only_when_configured(settings, cipher):
    gateways = build_gateways(settings, cipher)
    assert gateways.default.name == "sandbox" and gateways.get("stripe") is None
    with_stripe = settings.model_copy(
        update={
            "stripe_api_key": "sk_test_x",
            "stripe_webhook_secret": "whsec_x",
            "payment_gateway": "stripe",
        }
    )
    both = build_gateways(with_stripe, cipher)
    assert both.default.name == "stripe" and both.get("sandbox") is not None


async def test_start_payment_creates_a_sandbox_link_for_the_fee(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        payment = await payments.start_payment(
            session,
            settings,
            gateways,
            appointment,
            description="Dr Rao, 2 Dec 10:00",
            destination="acct_1",
            now=NOW,
        )
        assert payment.status is PaymentStatus.CREATED
        assert (payment.amount_minor, payment.currency, payment.commission_minor) == (FEE, "INR", 12_000)
        assert payment.url == f"http://testserver/pay/sandbox/{payment.checkout_ref}"
        assert len(payment.checkout_ref) > 30  # unguessable
        assert payment.destination_account is None  # the sandbox cannot split
        assert payment.description == "Dr Rao, 2 Dec 10:00"


async def test_paid_event_marks_the_payment_paid_once_and_posts_a_balanced_charge(
    sessions, settings, gateways
):
    async with sessions() as session, session.begin():
        doctor = await make_doctor(session)
        appointment = await make_appointment(session, doctor=doctor)
        payment = await paid_by_sandbox(session, settings, gateways, appointment)
        assert payment.status is PaymentStatus.PAID and payment.paid_at == NOW
        assert payment.charge_ref and payment.charge_ref.startswith("ch_sbx_")
        assert await ledger_sum(session) == 0
        assert await ledger.balance(session, ledger.GATEWAY, "INR") == FEE
        assert await ledger.balance(session, ledger.COMMISSION, "INR") == -12_000
        assert await ledger.balance(session, ledger.payable(doctor.id), "INR") == -68_000
        assert await payments.paid_payment(session, appointment.id) is payment


async def test_a_duplicate_event_id_changes_nothing(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        payment = await paid_by_sandbox(session, settings, gateways, appointment)
        sandbox = gateways.get("sandbox")
        body = sandbox.event_body(payment, "checkout.paid")
        again = await payments.handle_webhook(
            session, gateways, settings, "sandbox", body, sandbox.sign(body, NOW), now=NOW
        )
        assert again is None
        assert await session.scalar(select(func.count()).select_from(LedgerEntry)) == 5  # one charge
        assert await session.scalar(select(func.count()).select_from(PaymentEvent)) == 1


async def test_a_second_paid_event_with_another_id_is_not_first_time(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        payment = await paid_by_sandbox(session, settings, gateways, appointment)
        event = GatewayEvent(
            "evt_other", EventType.PAID, checkout_ref=payment.checkout_ref, raw_type="checkout.paid"
        )
        change = await payments.record_event(session, "sandbox", event, settings=settings, now=NOW)
        assert change is not None and not change.first_time and change.payment is payment
        assert await ledger.balance(session, ledger.GATEWAY, "INR") == FEE


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda body, headers: (body.replace(b"80000", b"1"), headers), id="tampered body"),
        pytest.param(lambda body, headers: (body, {}), id="no signature"),
        pytest.param(lambda body, headers: (body, {SIGNATURE_HEADER: "t=1,v1=00"}), id="forged"),
        pytest.param(lambda body, headers: (body, {SIGNATURE_HEADER: "garbage"}), id="garbled header"),
    ],
)
async def test_bad_signatures_are_refused_and_change_nothing(sessions, settings, gateways, mutate):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        payment = await payments.start_payment(
            session, settings, gateways, appointment, description="x", destination=None, now=NOW
        )
        sandbox = gateways.get("sandbox")
        body = sandbox.event_body(payment, "checkout.paid")
        body, headers = mutate(body, sandbox.sign(body, NOW))
        with pytest.raises(InvalidSignature):
            await payments.handle_webhook(session, gateways, settings, "sandbox", body, headers, now=NOW)
        assert payment.status is PaymentStatus.CREATED
        assert await session.scalar(select(func.count()).select_from(PaymentEvent)) == 0


async def test_a_stale_signature_is_refused(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        payment = await payments.start_payment(
            session, settings, gateways, appointment, description="x", destination=None, now=NOW
        )
        sandbox = gateways.get("sandbox")
        body = sandbox.event_body(payment, "checkout.paid")
        headers = sandbox.sign(body, NOW - timedelta(seconds=301))
        with pytest.raises(InvalidSignature):
            await payments.handle_webhook(session, gateways, settings, "sandbox", body, headers, now=NOW)
        # Within the tolerance it is fine.
        headers = sandbox.sign(body, NOW - timedelta(seconds=299))
        assert await payments.handle_webhook(session, gateways, settings, "sandbox", body, headers, now=NOW)


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[]", b'{"id": 5, "type": "checkout.paid"}', b'{"type": "x"}']
)
async def test_a_signed_but_malformed_body_is_an_invalid_event(settings, gateways, body):
    sandbox = gateways.get("sandbox")
    with pytest.raises(InvalidEvent):
        sandbox.parse_event(body, sandbox.sign(body, NOW), NOW)


async def test_expired_then_paid_still_records_the_money(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        payment = await payments.start_payment(
            session, settings, gateways, appointment, description="x", destination=None, now=NOW
        )
        await payments.cancel_checkout(session, gateways, payment)
        assert payment.status is PaymentStatus.EXPIRED
        event = GatewayEvent("evt_late", EventType.PAID, checkout_ref=payment.checkout_ref, charge_ref="ch_1")
        change = await payments.record_event(session, "sandbox", event, settings=settings, now=NOW)
        assert change.first_time and payment.status is PaymentStatus.PAID
        assert await ledger.balance(session, ledger.GATEWAY, "INR") == FEE
        # An expiry event arriving after the payment does not undo it.
        expired = GatewayEvent("evt_exp", EventType.EXPIRED, checkout_ref=payment.checkout_ref)
        change = await payments.record_event(session, "sandbox", expired, settings=settings, now=NOW)
        assert not change.first_time and payment.status is PaymentStatus.PAID


async def test_expiry_of_an_unpaid_link_is_first_time_once(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        payment = await payments.start_payment(
            session, settings, gateways, appointment, description="x", destination=None, now=NOW
        )
        event = GatewayEvent("evt_e1", EventType.EXPIRED, checkout_ref=payment.checkout_ref)
        assert (await payments.record_event(session, "sandbox", event, settings=settings, now=NOW)).first_time
        event = GatewayEvent("evt_e2", EventType.EXPIRED, checkout_ref=payment.checkout_ref)
        assert not (
            await payments.record_event(session, "sandbox", event, settings=settings, now=NOW)
        ).first_time
        assert (
            await ledger_sum(session) == 0
            and await session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
        )


async def test_a_refund_event_before_the_payment_event_corrupts_nothing(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        payment = await payments.start_payment(
            session, settings, gateways, appointment, description="x", destination=None, now=NOW
        )
        early = GatewayEvent("evt_r", EventType.REFUNDED, checkout_ref=payment.checkout_ref, amount_minor=FEE)
        change = await payments.record_event(session, "sandbox", early, settings=settings, now=NOW)
        assert not change.first_time
        assert payment.status is PaymentStatus.CREATED and payment.refunded_minor == 0
        paid = GatewayEvent("evt_p", EventType.PAID, checkout_ref=payment.checkout_ref, charge_ref="ch_2")
        assert (await payments.record_event(session, "sandbox", paid, settings=settings, now=NOW)).first_time
        assert payment.status is PaymentStatus.PAID and payment.refunded_minor == 0
        assert await ledger.balance(session, ledger.GATEWAY, "INR") == FEE


async def test_events_for_unknown_checkouts_or_of_other_kinds_change_nothing(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        unknown = GatewayEvent("evt_u", EventType.PAID, checkout_ref="sbx_nobody")
        assert await payments.record_event(session, "sandbox", unknown, settings=settings, now=NOW) is None
        other = GatewayEvent("evt_o", EventType.OTHER, raw_type="customer.created")
        assert await payments.record_event(session, "sandbox", other, settings=settings, now=NOW) is None


async def test_a_second_payment_for_one_appointment_is_a_separate_payment(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        first = await paid_by_sandbox(session, settings, gateways, appointment)
        second = await paid_by_sandbox(
            session, settings, gateways, appointment, now=NOW + timedelta(minutes=1)
        )
        assert first.id != second.id and second.status is PaymentStatus.PAID
        assert await payments.paid_payment(session, appointment.id) is first
        assert await ledger.balance(session, ledger.GATEWAY, "INR") == 2 * FEE


async def test_refund_is_idempotent_by_key_and_capped(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        doctor = await make_doctor(session)
        appointment = await make_appointment(session, doctor=doctor)
        payment = await paid_by_sandbox(session, settings, gateways, appointment)
        half = await payments.refund(
            session,
            settings,
            gateways,
            payment,
            amount_minor=40_000,
            key="a:late-cancel",
            reason="cancel",
            now=NOW,
        )
        assert half.amount_minor == 40_000 and half.status == "succeeded"  # sandbox refunds at once
        assert payment.status is PaymentStatus.PAID and payment.refunded_minor == 40_000
        again = await payments.refund(
            session,
            settings,
            gateways,
            payment,
            amount_minor=40_000,
            key="a:late-cancel",
            reason="cancel",
            now=NOW,
        )
        assert again is half and payment.refunded_minor == 40_000
        rest = await payments.refund(
            session,
            settings,
            gateways,
            payment,
            amount_minor=FEE,
            key="a:doctor-cancel",
            reason="doctor",
            now=NOW,
        )
        assert rest.amount_minor == 40_000  # capped at what was left
        assert payment.status is PaymentStatus.REFUNDED and payment.refunded_minor == FEE
        nothing = await payments.refund(
            session, settings, gateways, payment, amount_minor=1, key="a:again", reason="x", now=NOW
        )
        assert nothing is None
        assert await payments.paid_payment(session, appointment.id) is None
        # Everything reversed: commission and payable back to zero, the ledger balanced.
        assert await ledger_sum(session) == 0
        assert await ledger.balance(session, ledger.COMMISSION, "INR") == 0
        assert await ledger.balance(session, ledger.payable(doctor.id), "INR") == 0
        assert await ledger.balance(session, ledger.GATEWAY, "INR") == 0
        assert await session.scalar(select(func.count()).select_from(Refund)) == 2


async def test_an_unpaid_payment_is_not_refundable(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        payment = await payments.start_payment(
            session, settings, gateways, appointment, description="x", destination=None, now=NOW
        )
        assert (
            await payments.refund(
                session, settings, gateways, payment, amount_minor=FEE, key="k", reason="x", now=NOW
            )
            is None
        )


async def test_an_urgent_consult_share_waits_unassigned_then_goes_to_the_doctor(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=None)
        payment = await paid_by_sandbox(session, settings, gateways, appointment)
        assert await ledger.balance(session, ledger.UNASSIGNED, "INR") == -68_000
        doctor = await make_doctor(session)
        await payments.assign_doctor(session, payment, doctor.id)
        await payments.assign_doctor(session, payment, doctor.id)  # twice moves it once
        assert await ledger.balance(session, ledger.UNASSIGNED, "INR") == 0
        earnings = await ledger.doctor_earnings(session, doctor.id)
        assert earnings.earned_minor == 68_000 and earnings.pending_payout_minor == 68_000


async def test_cancel_checkout_of_a_paid_payment_does_nothing(sessions, settings, gateways):
    async with sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        payment = await paid_by_sandbox(session, settings, gateways, appointment)
        await payments.cancel_checkout(session, gateways, payment)
        assert payment.status is PaymentStatus.PAID


# ---- the admin endpoints (/api/admin/payments, /refunds, /doctors/{id}/payouts)


@pytest.fixture
async def admin_api(sessions, settings, cipher):
    """A small app with the admin payments router, a sandbox-paid appointment and an admin token."""
    import httpx
    from fastapi import FastAPI

    from backend.api import admin_payments
    from backend.providers import admin_tokens

    app = FastAPI()

    app.state.dispatcher = SimpleNamespace(wake=lambda: None)  # nothing to wake here
    app.state.settings, app.state.sessions, app.state.cipher = settings, sessions, cipher
    app.include_router(admin_payments.router)
    gateways = build_gateways(settings, cipher)
    async with sessions() as session, session.begin():
        admin = User(id=new_id(), role=Role.ADMIN, display_name="Admin Ravi")
        session.add(admin)
        await session.flush()
        token = (await admin_tokens.create(session, user_id=admin.id, name="ops")).token
        doctor = await make_doctor(session)
        paid = await paid_by_sandbox(
            session, settings, gateways, await make_appointment(session, doctor=doctor)
        )
        await payments.refund(
            session, settings, gateways, paid, amount_minor=10_000, key="k1", reason="late", now=NOW
        )
        await payments.start_payment(
            session, settings, gateways, await make_appointment(session, doctor=doctor), description="x",
            destination=None, now=NOW,
        )  # fmt: skip
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client, doctor.id, paid.id


async def test_admin_lists_payments_by_status_and_refunds(admin_api):
    client, _, paid_id = admin_api
    everything = (await client.get("/api/admin/payments")).json()
    assert len(everything) == 2
    paid = (await client.get("/api/admin/payments", params={"status": "paid"})).json()
    assert [p["id"] for p in paid] == [paid_id] and paid[0]["refunded_minor"] == 10_000
    assert len((await client.get("/api/admin/payments", params={"status": "created"})).json()) == 1
    assert (await client.get("/api/admin/payments", params={"status": "bogus"})).status_code == 422
    assert (await client.get("/api/admin/payments", params={"limit": 0})).status_code == 422
    refunds = (await client.get("/api/admin/refunds")).json()
    assert [(r["payment_id"], r["amount_minor"], r["status"]) for r in refunds] == [
        (paid_id, 10_000, "succeeded")
    ]


async def test_admin_endpoints_need_a_token(admin_api):
    client, doctor_id, _ = admin_api
    del client.headers["Authorization"]
    assert (await client.get("/api/admin/payments")).status_code == 401
    assert (await client.get("/api/admin/refunds")).status_code == 401
    body = {"amount_minor": 100, "currency": "INR"}
    assert (await client.post(f"/api/admin/doctors/{doctor_id}/payouts", json=body)).status_code == 401
    client.headers["Authorization"] = "Bearer forged"
    assert (await client.get("/api/admin/payments")).status_code == 401


async def test_admin_records_a_payout_up_to_what_is_pending(admin_api, sessions):
    from backend.models import OutboxMessage

    client, doctor_id, _ = admin_api
    earnings = (await client.get(f"/api/admin/doctors/{doctor_id}/earnings")).json()
    # ₹800 paid, ₹100 refunded: the doctor's share is 680 − 85 = ₹595.
    assert earnings["pending_payout_minor"] == 59_500
    too_much = await client.post(
        f"/api/admin/doctors/{doctor_id}/payouts", json={"amount_minor": 59_501, "currency": "INR"}
    )
    assert too_much.status_code == 409 and "pending" in too_much.json()["detail"]
    other_currency = await client.post(
        f"/api/admin/doctors/{doctor_id}/payouts", json={"amount_minor": 100, "currency": "USD"}
    )
    assert other_currency.status_code == 409
    made = await client.post(
        f"/api/admin/doctors/{doctor_id}/payouts",
        json={"amount_minor": 59_500, "currency": "INR", "reference": "UTR123"},
    )
    assert made.status_code == 201 and made.json()["reference"] == "UTR123"
    after = (await client.get(f"/api/admin/doctors/{doctor_id}/earnings")).json()
    assert after["pending_payout_minor"] == 0 and after["paid_out_minor"] == 59_500
    async with sessions() as session:
        notice = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.template == "payout_recorded")
        )
        assert notice is not None
    again = await client.post(
        f"/api/admin/doctors/{doctor_id}/payouts", json={"amount_minor": 1, "currency": "INR"}
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    "body",
    [{"amount_minor": 0, "currency": "INR"}, {"amount_minor": -5, "currency": "INR"}, {"amount_minor": 5},
     {"amount_minor": 5, "currency": "inr"}, {"amount_minor": "lots", "currency": "INR"},
     {"amount_minor": 5, "currency": "INR", "reference": "x" * 121}],
)  # fmt: skip
async def test_a_bad_payout_body_is_422(admin_api, body):
    client, doctor_id, _ = admin_api
    assert (await client.post(f"/api/admin/doctors/{doctor_id}/payouts", json=body)).status_code == 422


async def test_a_payout_to_an_unknown_doctor_is_404(admin_api):
    client, _, _ = admin_api
    answer = await client.post(
        "/api/admin/doctors/nobody/payouts", json={"amount_minor": 5, "currency": "INR"}
    )
    assert answer.status_code == 404
    assert (await client.get("/api/admin/doctors/nobody/earnings")).status_code == 404


async def test_a_retried_payout_with_the_same_idempotency_key_is_recorded_once(admin_api, sessions):
    client, doctor_id, _ = admin_api
    url = f"/api/admin/doctors/{doctor_id}/payouts"
    body = {"amount_minor": 10_000, "currency": "INR", "reference": "NEFT 1"}
    first = await client.post(url, json=body, headers={"Idempotency-Key": "payout-1"})
    again = await client.post(url, json=body, headers={"Idempotency-Key": "payout-1"})
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    other = await client.post(
        url, json={**body, "amount_minor": 5_000}, headers={"Idempotency-Key": "payout-1"}
    )
    assert other.status_code == 409
    async with sessions() as session:
        earnings = await ledger.doctor_earnings(session, doctor_id)
    assert earnings.paid_out_minor == 10_000
