"""The doctor's "💰 Earnings" in chat: their own figures only, in their language, with the last
movements; on SQLite and PostgreSQL, at a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from backend.models import Conversation, Doctor, LedgerEntry, Role, User, new_id
from backend.payments import build_gateways, ledger
from backend.payments import service as payments
from backend.payments.gateway import EventType, GatewayEvent
from tests.backend.test_payments import make_appointment, make_doctor
from tests.chat import ChatDriver

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def become_doctor(chat: ChatDriver, sessions, *, locale: str = "en") -> str:
    await chat.sign_up()
    async with sessions() as session, session.begin():
        user = await session.scalar(select(User))
        user.role = Role.DOCTOR
        user.locale = locale
        doctor = Doctor(
            id=new_id(),
            user_id=user.id,
            full_name="Asha Verma",
            qualification="MBBS",
            council="KMC",
            registration_number="KMC-1",
            fee_minor=80_000,
        )
        session.add(doctor)
    return doctor.id


async def money_moves(sessions, settings, cipher, doctor_id: str) -> None:
    """₹800 paid (₹680 the doctor's), ₹200 refunded (₹170 of it the doctor's), ₹100 paid out."""
    gateways = build_gateways(settings, cipher)
    async with sessions() as session, session.begin():
        doctor = await session.get(Doctor, doctor_id)
        payment = await payments.start_payment(
            session, settings, gateways, await make_appointment(session, doctor=doctor), description="x",
            destination=None, now=NOW,
        )  # fmt: skip
        event = GatewayEvent("evt_1", EventType.PAID, checkout_ref=payment.checkout_ref)
        await payments.record_event(session, "sandbox", event, settings=settings, now=NOW)
        await payments.refund(
            session, settings, gateways, payment, amount_minor=20_000, key="k", reason="x", now=NOW
        )
        await ledger.record_payout(session, doctor_id, amount_minor=10_000, currency="INR", reference="UTR9")
        await session.execute(
            update(LedgerEntry).values(created_at=NOW)
        )  # dates shown do not depend on today


async def open_earnings(chat: ChatDriver) -> str:
    await chat.send("menu")
    await chat.tap("Earnings")
    return chat.text()


async def test_a_doctor_sees_earned_refunded_paid_out_and_pending(chat, sessions, settings, cipher):
    doctor_id = await become_doctor(chat, sessions)
    await money_moves(sessions, settings, cipher, doctor_id)
    text = await open_earnings(chat)
    assert "Earned: ₹510" in text  # ₹680 of fees, less the ₹170 refunded
    assert "Refunded to patients (already taken off): ₹170" in text
    assert "Paid out to you: ₹100" in text
    assert "Pending payout: ₹410" in text
    assert "1 Dec: consultation fee +₹680" in text
    assert "1 Dec: refunded to the patient −₹170" in text
    assert "1 Dec: payout to you ₹100" in text
    assert "Refresh" in chat.labels()[0]
    await chat.tap("Menu")
    assert "Earnings" in " ".join(chat.labels())


async def test_a_refunded_appointment_is_not_counted_as_earned(chat, sessions, settings, cipher):
    doctor_id = await become_doctor(chat, sessions)
    gateways = build_gateways(settings, cipher)
    async with sessions() as session, session.begin():
        doctor = await session.get(Doctor, doctor_id)
        payment = await payments.start_payment(
            session, settings, gateways, await make_appointment(session, doctor=doctor), description="x",
            destination=None, now=NOW,
        )  # fmt: skip
        event = GatewayEvent("evt_1", EventType.PAID, checkout_ref=payment.checkout_ref)
        await payments.record_event(session, "sandbox", event, settings=settings, now=NOW)
        await payments.refund(  # cancelled in time: the whole fee goes back to the patient
            session, settings, gateways, payment, amount_minor=80_000, key="k", reason="x", now=NOW
        )
    text = await open_earnings(chat)
    assert "Earned: ₹0" in text and "Refunded to patients (already taken off): ₹680" in text
    assert "Pending payout: ₹0" in text


async def test_in_hindi(chat, sessions, settings, cipher):
    doctor_id = await become_doctor(chat, sessions, locale="hi")
    await money_moves(sessions, settings, cipher, doctor_id)
    await chat.send("menu")
    await chat.tap("कमाई")
    text = chat.text()
    assert "आपकी कमाई (INR)" in text and "बकाया भुगतान: ₹410" in text
    assert "परामर्श फ़ीस +₹680" in text


async def test_without_payments_it_says_so(chat, sessions):
    await become_doctor(chat, sessions)
    text = await open_earnings(chat)
    assert "Pending payout: ₹0" in text and "No payments yet" in text


async def test_only_the_doctors_own_money_is_shown(chat, sessions, settings, cipher):
    await become_doctor(chat, sessions)
    async with sessions() as session, session.begin():
        other = await make_doctor(session)
    await money_moves(sessions, settings, cipher, other.id)
    text = await open_earnings(chat)
    assert "Earned: ₹0" in text and "No payments yet" in text and "680" not in text


async def test_someone_who_is_not_a_doctor_gets_no_figures(chat, sessions, settings, cipher):
    await chat.sign_up()  # a patient
    async with sessions() as session, session.begin():
        other = await make_doctor(session)
    await money_moves(sessions, settings, cipher, other.id)
    async with sessions() as session, session.begin():
        # The patient menu has no Earnings; put the chat in the flow as a stale button might.
        await session.execute(update(Conversation).values(flow="earnings", step="main"))
    text = "\n".join(r.text for r in await chat.open())
    assert "Earnings are for doctors" in text and "₹" not in text
