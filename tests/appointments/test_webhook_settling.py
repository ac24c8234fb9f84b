"""The payment webhook with the real appointments service behind it: a refund it must make but
the gateway refuses is a 503 that keeps nothing (the gateway's retry does it all again)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from backend.api import payments as payments_api
from backend.appointments import service as appointments
from backend.models import Appointment, AppointmentStatus, Payment, PaymentEvent, PaymentStatus
from backend.payments.gateway import Gateways
from tests.appointments.factories import make_doctor, make_patient, make_slot
from tests.appointments.test_booking_service import RefusingRefunds


@pytest.fixture
def app(sessions, settings, cipher, gateways) -> FastAPI:
    app = FastAPI()
    app.state.dispatcher = SimpleNamespace(wake=lambda: None)
    app.state.settings, app.state.sessions, app.state.cipher = settings, sessions, cipher
    app.state.gateways = gateways
    app.include_router(payments_api.router)
    return app


async def test_a_refund_the_gateway_refuses_while_settling_is_a_503_and_nothing_is_kept(
    app, sessions, cipher, settings, gateways
):
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        first, second = (
            await make_patient(session, cipher),
            await make_patient(session, cipher, name="Ravi Kumar"),
        )
        slot = await make_slot(session, await make_doctor(session), now + timedelta(days=2))
        lapsing = await appointments.hold(
            session,
            cipher,
            settings,
            patient_id=first.id,
            slot_id=slot.id,
            reason="cough",
            now=now - timedelta(hours=1),
        )
        payment = await appointments.pay_link(
            session, settings, gateways, lapsing, now=now - timedelta(hours=1)
        )
        # The hold lapsed and another patient took the slot: this payment must be refunded.
        await appointments.hold(
            session, cipher, settings, patient_id=second.id, slot_id=slot.id, reason="flu", now=now
        )
    sandbox = gateways.get("sandbox")
    body = sandbox.event_body(payment, "checkout.paid")
    headers = sandbox.sign(body, now)

    app.state.gateways = Gateways(default=RefusingRefunds(sandbox))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        refused = await client.post("/api/payments/webhooks/sandbox", content=body, headers=headers)
        assert refused.status_code == 503
        async with sessions() as session:
            assert (await session.get(Payment, payment.id)).status is PaymentStatus.CREATED
            assert await session.scalar(select(func.count()).select_from(PaymentEvent)) == 0

        app.state.gateways = gateways  # the gateway is back; its retry of the same event
        retried = await client.post("/api/payments/webhooks/sandbox", content=body, headers=headers)
        assert retried.status_code == 200
    async with sessions() as session:
        assert (await session.get(Payment, payment.id)).status is PaymentStatus.REFUNDED
        assert (await session.get(Appointment, lapsing.id)).status is AppointmentStatus.EXPIRED
