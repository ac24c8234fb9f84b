"""The sandbox checkout page and the webhook route, through HTTP."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from backend.api import payments as payments_api
from backend.appointments import service as appointments_service
from backend.models import AppointmentKind, LedgerEntry, Payment, PaymentEvent, PaymentStatus, User
from backend.payments import build_gateways
from backend.payments import service as payments
from backend.payments.sandbox import SIGNATURE_HEADER
from tests.backend.test_payments import make_appointment, make_doctor

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(sessions, settings, cipher) -> FastAPI:
    app = FastAPI()
    app.state.dispatcher = SimpleNamespace(wake=lambda: None)  # nothing to wake here
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.cipher = cipher
    app.state.gateways = build_gateways(settings, cipher)
    app.include_router(payments_api.router)
    return app


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


@pytest.fixture
def settled(monkeypatch) -> list[payments.PaymentChange]:
    """Stands in for the appointments service's settle and records what it was given."""
    calls: list[payments.PaymentChange] = []

    async def settle(session, cipher, settings, gateways, change, *, now):
        calls.append(change)

    monkeypatch.setattr(appointments_service, "settle", settle, raising=False)
    return calls


async def new_payment(app, *, description: str = "Consultation with Dr Asha Rao") -> Payment:
    state = app.state
    async with state.sessions() as session, session.begin():
        appointment = await make_appointment(session, doctor=await make_doctor(session))
        return await payments.start_payment(
            session,
            state.settings,
            state.gateways,
            appointment,
            description=description,
            destination=None,
            now=NOW,
        )


async def status_of(app, payment_id: str) -> PaymentStatus:
    async with app.state.sessions() as session:
        return (await session.get(Payment, payment_id)).status


async def count(app, model) -> int:
    async with app.state.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


def path_of(payment: Payment) -> str:
    return payment.url.removeprefix("http://testserver")


async def payment_for(app, *, doctor_name: str | None, timezone: str = "Europe/London", locale: str = "en"):
    """A sandbox payment for an appointment of a patient in `timezone` speaking `locale` with
    a doctor named `doctor_name` (None: an urgent consult nobody has taken yet)."""
    state = app.state
    async with state.sessions() as session, session.begin():
        doctor = await make_doctor(session) if doctor_name else None
        if doctor:
            doctor.full_name = doctor_name
        appointment = await make_appointment(session, doctor=doctor)
        patient = await session.get(User, appointment.patient_id)
        patient.timezone, patient.locale = timezone, locale
        if doctor is None:
            appointment.kind, appointment.specialty = AppointmentKind.URGENT, "General Medicine"
            appointment.starts_at = appointment.ends_at = None
        await session.flush()
        return await payments.start_payment(
            session, state.settings, state.gateways, appointment, description="x", destination=None, now=NOW
        )


async def test_the_page_names_the_doctor_and_the_time_in_the_patients_timezone_escaped(app, client):
    payment = await payment_for(app, doctor_name="<script>alert(1)</script> Asha Rao 🩺")
    page = await client.get(path_of(payment))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "₹800.00" in page.text
    assert "Dr &lt;script&gt;alert(1)&lt;/script&gt; Asha Rao 🩺" in page.text and "<script>" not in page.text
    # The appointment starts at 09:00 UTC on 2 Dec 2026: 9 in the morning for a patient in London.
    assert "Wed, 2 Dec 2026, 9:00 AM (Greenwich Mean Time)" in page.text, page.text  # the zone named
    assert f'action="/pay/sandbox/{payment.checkout_ref}/pay"' in page.text
    assert f'action="/pay/sandbox/{payment.checkout_ref}/fail"' in page.text
    assert "http" not in page.text.split("<body>")[0].replace("http-equiv", "")  # no outside assets


async def test_the_page_speaks_the_patients_language(app, client):
    payment = await payment_for(app, doctor_name="Asha Rao", timezone="Asia/Kolkata", locale="hi")
    page = await client.get(path_of(payment))
    assert '<html lang="hi">' in page.text and "भुगतान करें" in page.text
    assert "बुध, 2 दिस॰ 2026, 2:30 pm (भारतीय मानक समय)" in page.text, page.text
    assert "डॉ. Asha Rao" in page.text  # addressed as the chat addresses the doctor in Hindi


async def test_an_urgent_consult_names_the_kind_of_doctor_and_no_time(app, client):
    payment = await payment_for(app, doctor_name=None)
    page = await client.get(path_of(payment))
    assert "General Medicine" in page.text and "as soon as a doctor on call accepts" in page.text


async def test_pay_marks_it_paid_settles_once_and_pay_again_is_one_payment(app, client, settled):
    payment = await new_payment(app)
    paid = await client.post(path_of(payment) + "/pay")
    assert paid.status_code == 200 and "Paid — go back to the chat" in paid.text
    assert "<button" not in paid.text
    assert await status_of(app, payment.id) is PaymentStatus.PAID
    assert [c.first_time for c in settled] == [True] and settled[0].payment.id == payment.id
    again = await client.post(path_of(payment) + "/pay")
    assert again.status_code == 200 and "Paid — go back to the chat" in again.text
    assert len(settled) == 1
    assert await count(app, LedgerEntry) == 5  # one charge
    page = await client.get(path_of(payment))
    assert "Paid — go back to the chat" in page.text and "<button" not in page.text


async def test_two_presses_at_once_are_one_payment(app, client, settled):
    payment = await new_payment(app)
    results = await asyncio.gather(*(client.post(path_of(payment) + "/pay") for _ in range(5)))
    assert all(r.status_code == 200 for r in results)
    assert await count(app, LedgerEntry) == 5
    assert [c.first_time for c in settled] == [True]


async def test_fail_shows_the_failure_and_the_link_cannot_be_paid_after(app, client, settled):
    payment = await new_payment(app)
    failed = await client.post(path_of(payment) + "/fail")
    assert "The payment failed" in failed.text
    assert await status_of(app, payment.id) is PaymentStatus.FAILED
    await client.post(path_of(payment) + "/pay")
    assert await status_of(app, payment.id) is PaymentStatus.FAILED
    assert await count(app, LedgerEntry) == 0


async def test_an_expired_link_shows_its_state_instead_of_buttons(app, client, settled):
    payment = await new_payment(app)
    async with app.state.sessions() as session, session.begin():
        await payments.cancel_checkout(session, app.state.gateways, await session.get(Payment, payment.id))
    page = await client.get(path_of(payment))
    assert "expired" in page.text and "<button" not in page.text
    await client.post(path_of(payment) + "/pay")
    assert await status_of(app, payment.id) is PaymentStatus.EXPIRED and not settled


@pytest.mark.parametrize("path", ["/pay/sandbox/sbx_unknown", "/pay/sandbox/" + "x" * 300])
async def test_an_unknown_link_is_404(client, path):
    page = await client.get(path)
    assert page.status_code == 404 and "not found" in page.text and "Dr " not in page.text
    assert (await client.post(path + "/pay")).status_code == 404


async def test_an_unknown_outcome_is_404(app, client):
    payment = await new_payment(app)
    assert (await client.post(path_of(payment) + "/refund")).status_code == 404


# ---- the webhook route


def signed(app, payment: Payment, raw_type: str = "checkout.paid", *, at: datetime | None = None):
    sandbox = app.state.gateways.get("sandbox")
    body = sandbox.event_body(payment, raw_type)
    return body, sandbox.sign(body, at or datetime.now(UTC))


async def test_an_outside_signed_post_is_handled_like_a_press(app, client, settled):
    payment = await new_payment(app)
    body, headers = signed(app, payment)
    answer = await client.post("/api/payments/webhooks/sandbox", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json() == {"received": True}
    assert await status_of(app, payment.id) is PaymentStatus.PAID and len(settled) == 1


async def test_a_duplicate_event_is_200_and_changes_nothing(app, client, settled):
    payment = await new_payment(app)
    body, headers = signed(app, payment)
    for _ in range(3):
        assert (
            await client.post("/api/payments/webhooks/sandbox", content=body, headers=headers)
        ).status_code == 200
    assert len(settled) == 1 and await count(app, PaymentEvent) == 1 and await count(app, LedgerEntry) == 5


async def test_an_unknown_gateway_is_404(client):
    answer = await client.post("/api/payments/webhooks/paypal", content=b"{}")
    assert answer.status_code == 404


@pytest.mark.parametrize(
    "case",
    ["forged", "missing", "stale", "tampered", "other secret", "future"],
)
async def test_bad_signatures_are_400_and_change_nothing(app, client, settled, case):
    payment = await new_payment(app)
    body, headers = signed(app, payment)
    if case == "forged":
        headers = {SIGNATURE_HEADER: headers[SIGNATURE_HEADER][:-4] + "0000"}
    elif case == "missing":
        headers = {}
    elif case == "stale":
        body, headers = signed(app, payment, at=datetime.now(UTC) - timedelta(seconds=400))
    elif case == "future":
        body, headers = signed(app, payment, at=datetime.now(UTC) + timedelta(seconds=400))
    elif case == "tampered":
        body = body.replace(b'"checkout.paid"', b'"checkout.failed"')
    elif case == "other secret":
        from backend.payments.sandbox import SandboxGateway

        headers = SandboxGateway("http://x", b"k" * 32).sign(body, datetime.now(UTC))
    answer = await client.post("/api/payments/webhooks/sandbox", content=body, headers=headers)
    assert answer.status_code == 400 and "signature" in answer.json()["detail"]
    assert await status_of(app, payment.id) is PaymentStatus.CREATED
    assert not settled and await count(app, PaymentEvent) == 0


@pytest.mark.parametrize("body", [b"", b"{", b"[1]", json.dumps({"id": "e1"}).encode(), "😀".encode()])
async def test_a_malformed_signed_body_is_400(app, client, body):
    headers = app.state.gateways.get("sandbox").sign(body, datetime.now(UTC))
    answer = await client.post("/api/payments/webhooks/sandbox", content=body, headers=headers)
    assert answer.status_code == 400 and await count(app, PaymentEvent) == 0
