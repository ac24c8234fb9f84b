"""The housekeeper: each due appointment in its own transaction, so one whose refund the gateway
refuses is left for the next pass while the others move on."""

from __future__ import annotations

from datetime import timedelta

from backend.appointments import service as appointments
from backend.models import Appointment, AppointmentStatus, Payment
from backend.payments import service as payments
from backend.payments.gateway import GatewayError, Gateways
from bot.housekeeping import Housekeeper
from tests.appointments.factories import NOW, make_doctor, make_patient, make_slot, paid_event


class RefusesOne:
    """The sandbox, except that it will not refund one payment (its card was closed, say)."""

    def __init__(self, inner, payment_id: str) -> None:
        self.inner, self.payment_id = inner, payment_id
        self.name, self.instant_refunds = inner.name, inner.instant_refunds

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def refund(self, *, payment, amount_minor, idempotency_key):
        if payment.id == self.payment_id:
            raise GatewayError("refused")
        return await self.inner.refund(
            payment=payment, amount_minor=amount_minor, idempotency_key=idempotency_key
        )


async def requested(sessions, cipher, settings, gateways, hours: int) -> tuple[str, str]:
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher)
        slot = await make_slot(session, await make_doctor(session), NOW + timedelta(days=2, hours=hours))
        held = await appointments.hold(
            session, cipher, settings, patient_id=patient.id, slot_id=slot.id, reason="cough", now=NOW
        )
        payment = await appointments.pay_link(session, settings, gateways, held, now=NOW)
    async with sessions() as session, session.begin():
        change = await payments.record_event(
            session, "sandbox", paid_event(await session.get(Payment, payment.id)), settings=settings, now=NOW
        )
        await appointments.settle(session, cipher, settings, gateways, change, now=NOW)
    return held.id, payment.id


async def test_one_refund_refused_does_not_hold_up_the_others(sessions, cipher, settings, gateways):
    stuck, stuck_payment = await requested(sessions, cipher, settings, gateways, hours=0)
    moving, _ = await requested(sessions, cipher, settings, gateways, hours=1)
    woken = []
    keeper = Housekeeper(
        sessions,
        cipher,
        settings,
        Gateways(default=RefusesOne(gateways.default, stuck_payment)),
        wake=lambda: woken.append(1),
    )
    late = NOW + timedelta(minutes=settings.decision_minutes, seconds=1)
    assert await keeper.sweep_once(now=late) == 1
    async with sessions() as session:
        assert (await session.get(Appointment, stuck)).status is AppointmentStatus.REQUESTED
        assert (await session.get(Appointment, moving)).status is AppointmentStatus.REJECTED
    assert woken  # the refund notice for the other one goes out at once

    keeper.gateways = gateways  # the gateway takes it now
    assert await keeper.sweep_once(now=late) == 1
    async with sessions() as session:
        assert (await session.get(Appointment, stuck)).status is AppointmentStatus.REJECTED
