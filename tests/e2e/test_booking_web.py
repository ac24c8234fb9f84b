"""The web chat end to end: a doctor joins, is verified, opens hours; a patient finds and books
them, pays on the sandbox checkout page, the doctor accepts; then the ways an appointment ends
(cancelled early or late, by the doctor, rejected, unanswered, a hold that lapses, a payment that
comes too late), the urgent consult, and bad input (forged, stale, replayed and out-of-order
webhooks; another patient's buttons). SQLite and PostgreSQL.

All of it through HTTP (the chat's WebSocket and upload, the checkout page, the webhooks, the admin
API); the database is only written for set-up and read for the checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.models import (
    AppointmentStatus,
    LedgerEntry,
    OutboxMessage,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    VerificationStatus,
)
from backend.outbox import service as outbox
from backend.providers import admin_tokens
from tests.e2e.journeys import (
    Tab,
    add_admin,
    apply_as_doctor,
    appointments_of,
    book_from_search,
    doctor_named,
    free_starts,
    ledger_total,
    local_time,
    make_doctor,
    make_patient,
    open_all_hours,
    outbox_templates,
    pay_on_sandbox,
    payments_of,
    quiet_hours_off,
    run,
    sandbox_webhook,
    serving,
    set_weekly_hours,
    signed_in,
    sweep,
    token_in,
    user_by_name,
)


@pytest.fixture
def client(settings):
    with serving(settings) as client:
        yield client


def _admin(client, cipher, email: str = "admin@example.com") -> str:
    async def work(session):
        admin_id = await add_admin(session, cipher, email)
        await quiet_hours_off(session, admin_id)
        return admin_id

    return run(client, work)


def _quiet_off_for_newest_doctor(client) -> None:
    """The applicant's account exists once signup is done: let its staff messages through now."""
    from sqlalchemy import select

    from backend.models import Role, User

    async def work(session):
        users = await session.scalars(select(User.id).where(User.role == Role.DOCTOR))
        await quiet_hours_off(session, *users.all())

    run(client, work)


def test_a_new_doctor_is_verified_by_the_notification_button_and_a_patient_books_pays_and_is_accepted(
    client, cipher
):
    _admin(client, cipher)
    admin = Tab(client, "admin")
    admin.sign_in("admin@example.com")
    assert "Admin" in admin.text() or "Applications" in admin.text(), admin.text()

    doctor = Tab(client, "doctor")
    apply_as_doctor(doctor, email="dr.meera@example.com")
    _quiet_off_for_newest_doctor(client)

    # The admin is told at once, with the buttons. The documents are read first from the review
    # list (a notification's buttons are spent by the first press, "View documents" included).
    new = admin.notice("New doctor application")
    assert "Dr Meera Iyer" in new["text"] and "₹500" in new["text"], new["text"]
    admin.tap("Applications to review")
    admin.tap("Dr Meera Iyer")
    links = [r["document"] for r in admin.last if r.get("document")]
    assert len(links) == 2, admin.text()
    admin.use()
    assert client.get(links[0]["url"]).content.startswith(b"%PDF")
    admin.press_notice(new, "Approve")
    assert "Dr Meera Iyer is verified" in admin.text(), admin.text()
    verified = doctor.notice("verified")
    assert "Meera Iyer" in verified["text"]

    set_weekly_hours(doctor, "daily 09:00-17:00")

    # The patient lives in London; the doctor in Kolkata.
    patient = Tab(client, "patient")
    patient.sign_up("Ravi Kumar", "ravi@example.com", timezone="London")
    book_from_search(
        patient, specialty_typed="cardiolgy", doctor="Meera Iyer", reason="Follow-up of high blood pressure"
    )
    ref = patient.payment_ref()
    patient.use()
    paid_page = pay_on_sandbox(client, ref)
    assert paid_page.status_code == 200 and "Paid" in paid_page.text

    received = patient.notice("Payment of ₹500 received")
    request = doctor.notice("New consultation request")
    assert "Ravi Kumar" in request["text"] and "Follow-up of high blood pressure" in request["text"]
    doctor.press_notice(request, "Accept")
    assert "Accepted" in doctor.text() or "accepted" in doctor.text(), doctor.text()

    confirmed_patient = patient.notice("Confirmed")
    confirmed_doctor = doctor.notice("Confirmed")

    async def check(session):
        ravi = await user_by_name(session, cipher, "Ravi Kumar")
        (appointment,) = await appointments_of(session, ravi.id)
        (payment,) = await payments_of(session, appointment.id)
        meera = await doctor_named(session, "Meera Iyer")
        return appointment, payment, meera, await ledger_total(session)

    appointment, payment, meera, totals = run(client, check)
    assert appointment.status is AppointmentStatus.CONFIRMED and appointment.doctor_id == meera.id
    assert meera.status is VerificationStatus.VERIFIED
    assert payment.status is PaymentStatus.PAID and payment.amount_minor == 50_000
    assert totals == {"INR": 0}
    # Both read the time in their own timezone.
    assert local_time(appointment.starts_at, "Europe/London") in confirmed_patient["text"]
    assert local_time(appointment.starts_at, "Asia/Kolkata") in confirmed_doctor["text"]
    assert local_time(appointment.starts_at, "Asia/Kolkata") not in confirmed_patient["text"]
    assert received and confirmed_patient["text"] != confirmed_doctor["text"]


def test_an_admin_verifies_through_the_rest_api_with_a_bearer_token(client, cipher):
    admin_id = _admin(client, cipher)

    async def issue(session):
        return (await admin_tokens.create(session, user_id=admin_id, name="e2e")).token

    token = run(client, issue)
    doctor = Tab(client, "doctor")
    apply_as_doctor(doctor, email="dr.meera@example.com")
    _quiet_off_for_newest_doctor(client)
    client.cookies.clear()

    assert client.get("/api/admin/applications").status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/admin/applications", headers=bearer).json()
    (item,) = listed["items"]
    assert item["kind"] == "doctor" and item["name"] == "Meera Iyer"
    one = client.get(f"/api/admin/applications/doctor/{item['id']}", headers=bearer).json()
    assert [d["kind"] for d in one["documents"]] == ["licence", "id_proof"]
    link = one["documents"][0]["download_url"].removeprefix("http://testserver")
    assert client.get(link).status_code == 403, "the link alone, without the token, opens nothing"
    licence = client.get(link, headers=bearer)
    assert licence.status_code == 200 and licence.content.startswith(b"%PDF")
    approved = client.post(f"/api/admin/applications/doctor/{item['id']}/approve", headers=bearer)
    assert approved.status_code == 200 and approved.json()["status"] == "verified"
    again = client.post(f"/api/admin/applications/doctor/{item['id']}/approve", headers=bearer)
    assert again.status_code == 409

    assert "verified" in doctor.notice("verified")["text"]
    set_weekly_hours(doctor, "Mon-Sun 10:00-13:00")
    patient = Tab(client, "patient")
    patient.sign_up("Ravi Kumar", "ravi@example.com", timezone="New York")
    book_from_search(patient, specialty_typed="heart", doctor="Meera Iyer", reason="Routine heart check-up")
    patient.use()
    assert "Paid" in pay_on_sandbox(client, patient.payment_ref()).text
    doctor.press_notice(doctor.notice("New consultation request"), "Accept")
    confirmed = patient.notice("Confirmed")

    async def starts(session):
        ravi = await user_by_name(session, cipher, "Ravi Kumar")
        return (await appointments_of(session, ravi.id))[0].starts_at

    assert local_time(run(client, starts), "America/New_York") in confirmed["text"]


# --- the ways an appointment ends -----------------------------------------------------------------
# A verified doctor and a patient made in the database (onboarding is the tests above); both sign in
# to the web chat with their email, as they would on a new device.

DOCTOR_EMAIL, PATIENT_EMAIL = "dr.asha@example.com", "ravi@example.com"


def _clinic(client, cipher, settings) -> dict:
    """Dr Asha Nair (Kolkata, ₹500, open every hour) and Ravi Kumar (London)."""

    async def work(session):
        doctor = await make_doctor(session, cipher, name="Asha Nair", email=DOCTOR_EMAIL)
        await open_all_hours(session, doctor, settings.booking_horizon_days)
        patient = await make_patient(
            session, cipher, name="Ravi Kumar", email=PATIENT_EMAIL, timezone="Europe/London"
        )
        return {"doctor": doctor, "patient": patient}

    return run(client, work)


def _hold(patient: Tab, *, soon: bool = False, reason: str = "Fever for three days") -> str:
    """Book Dr Asha Nair from the search (typed with a typo): the next free time but one (`soon`:
    within hours) or the first time three days on (more than 24 hours away, whatever the hour).
    Returns the label of the time held."""
    patient.send("menu")
    patient.tap("Find a doctor")
    patient.send("genral medicine")  # a typo: still General Medicine
    patient.tap("Asha Nair")
    patient.tap("Book")
    days = patient.picks()
    patient.tap(days[0] if soon else days[3])
    times = patient.picks()
    if soon and len(times) < 2:  # the last time of the day: the next day's first is still soon
        patient.tap("Another day")
        patient.tap(patient.picks()[1])
        times = ["", *patient.picks()]
    chosen = times[1] if soon else times[0]
    patient.tap(chosen)
    patient.send(reason)
    assert "Please check" in patient.text(), patient.text()
    patient.tap("Hold it and pay")
    assert "held for you" in patient.text(), patient.text()
    return chosen


def _book_and_pay(patient: Tab, *, soon: bool = False) -> None:
    _hold(patient, soon=soon)
    patient.use()
    assert "Paid" in pay_on_sandbox(patient.client, patient.payment_ref()).text
    patient.notice("received")


def _state(client, patient_id: str) -> tuple:
    """The patient's only appointment, its payments and refunds, and the ledger's totals."""

    async def work(session):
        (appointment,) = await appointments_of(session, patient_id)
        payments = await payments_of(session, appointment.id)
        refunds = list(
            await session.scalars(select(Refund).where(Refund.payment_id.in_([p.id for p in payments])))
        )
        return appointment, payments, refunds, await ledger_total(session)

    return run(client, work)


def _open_appointment(tab: Tab, who: str) -> None:
    tab.send("menu")
    tab.tap("My appointments")
    tab.tap(who)


def test_a_patient_cancelling_early_gets_everything_back_and_the_doctor_is_told(client, cipher, settings):
    cast = _clinic(client, cipher, settings)
    doctor = signed_in(client, DOCTOR_EMAIL, "doctor")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _book_and_pay(patient)
    doctor.press_notice(doctor.notice("New consultation request"), "Accept")
    patient.notice("Confirmed")

    _open_appointment(patient, "Asha Nair")
    patient.tap("Cancel appointment")
    assert "₹500 back" in patient.text(), patient.text()
    patient.tap("Yes, cancel")
    assert "₹500 is being refunded" in patient.text(), patient.text()
    told = doctor.notice("cancelled the consultation")
    assert "Ravi Kumar" in told["text"]

    appointment, (payment,), (refund,), totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.CANCELLED
    assert payment.status is PaymentStatus.REFUNDED and refund.amount_minor == 50_000
    assert totals == {"INR": 0}
    # The sandbox returns money at once: the patient is told it is done (once, with the amount).
    (done,) = run(client, lambda s: _outbox_of(s, cast["patient"].id, "refund_completed"))
    assert outbox.open_params(cipher, done)["amount_money"] == "50000 INR"


async def _outbox_of(session, user_id: str, template: str) -> list[OutboxMessage]:
    rows = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.user_id == user_id, OutboxMessage.template == template)
    )
    return list(rows)


def test_a_patient_cancelling_late_gets_the_policy_share(client, cipher, settings):
    cast = _clinic(client, cipher, settings)
    doctor = signed_in(client, DOCTOR_EMAIL, "doctor")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _book_and_pay(patient, soon=True)
    doctor.press_notice(doctor.notice("New consultation request"), "Accept")
    patient.notice("Confirmed")

    _open_appointment(patient, "Asha Nair")
    patient.tap("Cancel appointment")
    share = 50_000 * settings.late_cancel_refund_percent // 100
    assert f"₹{share // 100} back" in patient.text(), patient.text()
    patient.tap("Yes, cancel")
    assert f"₹{share // 100} is being refunded" in patient.text(), patient.text()

    appointment, (payment,), (refund,), totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.CANCELLED
    assert refund.amount_minor == share and payment.refunded_minor == share
    assert payment.status is PaymentStatus.PAID, "partly refunded: the rest stays paid"
    assert totals == {"INR": 0}


def test_a_doctor_cancelling_refunds_in_full_and_offers_three_other_times_that_can_be_booked(
    client, cipher, settings
):
    cast = _clinic(client, cipher, settings)
    doctor = signed_in(client, DOCTOR_EMAIL, "doctor")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _book_and_pay(patient)
    doctor.press_notice(doctor.notice("New consultation request"), "Accept")
    patient.notice("Confirmed")

    _open_appointment(doctor, "Ravi Kumar")
    doctor.tap("Cancel appointment")
    doctor.tap("Yes, cancel")
    assert "Cancelled" in doctor.text(), doctor.text()
    notice = patient.notice("had to cancel")
    assert "₹500 is refunded in full" in notice["text"], notice["text"]
    offered = [line for line in notice["text"].splitlines() if line.startswith("• ")]
    (cancelled,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    free = run(client, lambda s: free_starts(s, cast["doctor"].id))
    nearest = sorted(
        sorted(
            (t for t in free if t != cancelled.starts_at), key=lambda t: (abs(t - cancelled.starts_at), t)
        )[:3]
    )
    assert offered == [f"• {local_time(t, 'Europe/London')}" for t in nearest], notice["text"]

    patient.press_notice(notice, "Pick a time")
    assert "Which day would you like to see Dr Asha Nair" in patient.text(), patient.text()
    appointment, (payment,), (refund,), totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.CANCELLED and appointment.ended_by == "doctor"
    reminders = _reminders(client, appointment.id)
    assert reminders and {status for status, _ in reminders.values()} == {"cancelled"}, reminders
    assert refund.amount_minor == 50_000 and payment.status is PaymentStatus.REFUNDED
    assert totals == {"INR": 0}


def test_a_doctor_rejecting_from_the_request_refunds_and_the_accept_button_then_does_nothing(
    client, cipher, settings
):
    cast = _clinic(client, cipher, settings)
    doctor = signed_in(client, DOCTOR_EMAIL, "doctor")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _book_and_pay(patient)
    request = doctor.notice("New consultation request")
    doctor.press_notice(request, "Reject")
    assert "Rejected" in doctor.text(), doctor.text()
    notice = patient.notice("cannot take your appointment")
    assert "₹500" in notice["text"] and notice["text"].count("\n• ") == 3, notice["text"]
    doctor.press_notice(request, "Accept")  # the other button of the spent request
    assert "no longer valid" in doctor.text(), doctor.text()

    appointment, (payment,), (refund,), totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.REJECTED
    assert refund.amount_minor == 50_000 and payment.status is PaymentStatus.REFUNDED
    assert totals == {"INR": 0}


def test_a_request_nobody_answers_by_the_deadline_is_refunded_and_both_are_told(client, cipher, settings):
    cast = _clinic(client, cipher, settings)
    doctor = signed_in(client, DOCTOR_EMAIL, "doctor")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _book_and_pay(patient)
    request = doctor.notice("New consultation request")

    assert sweep(client, datetime.now(UTC) + timedelta(minutes=settings.decision_minutes - 5)) == 0
    assert sweep(client, datetime.now(UTC) + timedelta(minutes=settings.decision_minutes + 1)) == 1
    told = patient.notice("did not answer your request")
    assert "₹500" in told["text"]
    doctor.notice("not answered in time")
    doctor.press_notice(request, "Accept")
    assert "no longer valid" in doctor.text() or "already decided" in doctor.text(), doctor.text()

    appointment, (payment,), (refund,), totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.REJECTED and appointment.end_reason == "no_answer"
    assert refund.amount_minor == 50_000 and payment.status is PaymentStatus.REFUNDED
    assert totals == {"INR": 0}


def test_a_hold_that_lapses_unpaid_frees_the_slot_and_tells_the_patient(client, cipher, settings):
    cast = _clinic(client, cipher, settings)
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    held_time = _hold(patient)
    ref = patient.payment_ref()

    assert sweep(client, datetime.now(UTC) + timedelta(minutes=settings.hold_minutes + 1)) == 1
    lapsed = patient.notice("ended unpaid")
    assert "Dr Asha Nair" in lapsed["text"]
    patient.use()
    page = client.get(f"/pay/sandbox/{ref}")
    assert "expired" in page.text and f"/pay/sandbox/{ref}/pay" not in page.text, "no Pay button any more"
    assert "expired" in client.post(f"/pay/sandbox/{ref}/pay").text

    # "Pick a time" leads back to the doctor, and the released time is offered again.
    patient.press_notice(lapsed, "Pick a time")
    patient.tap(patient.picks()[3])
    assert held_time in patient.labels(), patient.labels()
    (appointment,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    assert appointment.status is AppointmentStatus.EXPIRED and appointment.slot_lock is None


def test_a_payment_arriving_after_the_hold_lapsed_is_refunded_automatically(client, cipher, settings):
    cast = _clinic(client, cipher, settings)
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _hold(patient)
    sweep(client, datetime.now(UTC) + timedelta(minutes=settings.hold_minutes + 1))
    patient.notice("ended unpaid")

    # The gateway took the money anyway (the patient had the page open) and says so afterwards.
    (appointment,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    (payment,) = run(client, lambda s: payments_of(s, appointment.id))
    body, headers = sandbox_webhook(client.app, payment, "checkout.paid")
    client.cookies.clear()
    assert client.post("/api/payments/webhooks/sandbox", content=body, headers=headers).status_code == 200
    told = patient.notice("arrived after")
    assert "₹500" in told["text"] and "refunded in full" in told["text"]

    appointment, (payment,), (refund,), totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.EXPIRED
    assert payment.status is PaymentStatus.REFUNDED and refund.amount_minor == 50_000
    assert totals == {"INR": 0}


# --- the urgent consult ---------------------------------------------------------------------------


def _on_call_team(client, cipher) -> dict:
    """Two General Medicine doctors on call (signing in by email) and Ravi Kumar (London)."""

    async def work(session):
        return {
            "asha": await make_doctor(
                session, cipher, name="Asha Nair", email="dr.asha@example.com", on_call=True
            ),
            "bela": await make_doctor(
                session, cipher, name="Bela Shah", email="dr.bela@example.com", on_call=True
            ),
            "patient": await make_patient(
                session, cipher, name="Ravi Kumar", email=PATIENT_EMAIL, timezone="Europe/London"
            ),
        }

    return run(client, work)


def _ask_urgent(patient: Tab) -> None:
    patient.send("menu")
    patient.tap("Urgent consult")
    assert "₹500" in patient.text(), patient.text()
    patient.tap("General Medicine")
    patient.send("High fever since last night, no other symptoms")
    assert "Pay ₹500 and we ask the doctors" in patient.text() and patient.payment_ref(), patient.text()
    patient.use()
    assert "Paid" in pay_on_sandbox(patient.client, patient.payment_ref()).text


def test_an_urgent_consult_goes_to_both_doctors_on_call_and_the_first_to_accept_takes_it(client, cipher):
    team = _on_call_team(client, cipher)
    asha = signed_in(client, "dr.asha@example.com", "asha")
    bela = signed_in(client, "dr.bela@example.com", "bela")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _ask_urgent(patient)

    waiting = patient.notice("in line")
    assert "number 1 in line" in waiting["text"] and "doctors on call asked: 2" in waiting["text"], waiting[
        "text"
    ]
    offer_to_asha = asha.notice("Urgent consult needed")
    offer_to_bela = bela.notice("Urgent consult needed")
    # Every doctor on call sees the specialty; only the one who takes it reads the reason.
    assert "High fever" not in offer_to_asha["text"] and "General Medicine" in offer_to_asha["text"]
    asha.press_notice(offer_to_asha, "Accept now")
    assert "It is yours" in asha.text() and "High fever" in asha.text(), asha.text()
    bela.press_notice(offer_to_bela, "Accept now")
    assert "Another doctor has already taken this consult" in bela.text(), bela.text()
    accepted = patient.notice("has accepted your urgent consult")
    assert "Asha Nair" in accepted["text"]

    (appointment,) = run(client, lambda s: appointments_of(s, team["patient"].id))
    assert appointment.status is AppointmentStatus.CONFIRMED and appointment.doctor_id == team["asha"].id
    assert run(client, ledger_total) == {"INR": 0}


def test_an_urgent_consult_nobody_takes_in_time_is_refunded_with_where_to_go(client, cipher, settings):
    team = _on_call_team(client, cipher)
    asha = signed_in(client, "dr.asha@example.com", "asha")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _ask_urgent(patient)
    offer = asha.notice("Urgent consult needed")

    assert sweep(client, datetime.now(UTC) + timedelta(minutes=settings.urgent_wait_minutes + 1)) == 1
    told = patient.notice("could take your consult in time")
    assert "₹500 is refunded in full" in told["text"] and "112" in told["text"], told["text"]
    asha.press_notice(offer, "Accept now")
    assert "no longer open" in asha.text(), asha.text()

    appointment, (payment,), (refund,), totals = _state(client, team["patient"].id)
    assert appointment.status is AppointmentStatus.REJECTED and appointment.doctor_id is None
    assert payment.status is PaymentStatus.REFUNDED and refund.amount_minor == settings.urgent_fee_minor
    assert totals == {"INR": 0}


# --- bad input ------------------------------------------------------------------------------------

WEBHOOK = "/api/payments/webhooks/sandbox"


def _held_payment(client, cipher, settings) -> tuple[Tab, dict, Payment]:
    cast = _clinic(client, cipher, settings)
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _hold(patient)

    async def payment(session):
        (appointment,) = await appointments_of(session, cast["patient"].id)
        (only,) = await payments_of(session, appointment.id)
        return only

    return patient, cast, run(client, payment)


def _event_count(client) -> int:
    async def work(session):
        return len((await session.scalars(select(PaymentEvent))).all())

    return run(client, work)


def test_forged_and_stale_webhooks_are_refused_and_change_nothing(client, cipher, settings):
    patient, cast, payment = _held_payment(client, cipher, settings)
    body, headers = sandbox_webhook(client.app, payment, "checkout.paid")
    client.cookies.clear()

    forged = {**headers, "Telecare-Signature": headers["Telecare-Signature"][:-4] + "0000"}
    assert client.post(WEBHOOK, content=body, headers=forged).status_code == 400
    tampered = body.replace(b'"amount_minor":50000', b'"amount_minor":1')
    assert client.post(WEBHOOK, content=tampered, headers=headers).status_code == 400
    assert client.post(WEBHOOK, content=body, headers={"content-type": "application/json"}).status_code == 400
    _, stale = sandbox_webhook(
        client.app, payment, "checkout.paid", at=datetime.now(UTC) - timedelta(minutes=10)
    )
    assert client.post(WEBHOOK, content=body, headers=stale).status_code == 400
    assert client.post("/api/payments/webhooks/paypal", content=body, headers=headers).status_code == 404

    appointment, (unchanged,), refunds, totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.HELD and unchanged.status is PaymentStatus.CREATED
    assert refunds == [] and totals == {} and _event_count(client) == 0
    # The genuine event still works afterwards.
    assert client.post(WEBHOOK, content=body, headers=headers).status_code == 200
    patient.notice("received")


def test_a_replayed_webhook_is_acknowledged_and_changes_nothing(client, cipher, settings):
    patient, cast, payment = _held_payment(client, cipher, settings)
    patient.use()
    assert "Paid" in pay_on_sandbox(client, patient.payment_ref()).text
    patient.notice("received")
    before = _state(client, cast["patient"].id)

    body, headers = sandbox_webhook(client.app, payment, "checkout.paid")  # the same event id again
    client.cookies.clear()
    for _ in range(3):
        assert client.post(WEBHOOK, content=body, headers=headers).status_code == 200
    patient.use()
    again = client.post(f"/pay/sandbox/{payment.checkout_ref}/pay")  # a second press of Pay
    assert "Paid" in again.text

    appointment, payments, refunds, totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.REQUESTED and appointment.paid_at == before[0].paid_at
    assert [p.status for p in payments] == [PaymentStatus.PAID] and refunds == [] and totals == {"INR": 0}
    assert _event_count(client) == 1

    async def charges(session):
        return len((await session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "charge"))).all())

    assert run(client, charges) == 5, "one charge's lines, not two"
    templates = run(client, lambda s: outbox_templates(s, cast["patient"].id))
    assert templates.count("appointment_paid") == 1


def test_a_refund_event_before_its_payment_does_not_corrupt_anything(client, cipher, settings):
    patient, cast, payment = _held_payment(client, cipher, settings)
    client.cookies.clear()
    body, headers = sandbox_webhook(client.app, payment, "refund.succeeded")
    assert client.post(WEBHOOK, content=body, headers=headers).status_code == 200
    appointment, (still,), refunds, totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.HELD and still.status is PaymentStatus.CREATED
    assert refunds == [] and totals == {}

    body, headers = sandbox_webhook(client.app, payment, "checkout.paid")
    assert client.post(WEBHOOK, content=body, headers=headers).status_code == 200
    patient.notice("received")
    appointment, (paid,), refunds, totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.REQUESTED
    assert paid.status is PaymentStatus.PAID and paid.refunded_minor == 0 and refunds == []
    assert totals == {"INR": 0}


def test_a_failed_payment_then_a_second_link_and_the_first_paid_late_refunds_the_duplicate(
    client, cipher, settings
):
    patient, cast, first = _held_payment(client, cipher, settings)
    patient.use()
    failed_page = pay_on_sandbox(client, first.checkout_ref, "fail")
    assert "failed" in failed_page.text
    told = patient.notice("did not go through")
    assert "held for you until" in told["text"], told["text"]

    # Pay again from "My appointments": a new link, paid.
    _open_appointment(patient, "Asha Nair")
    patient.tap("Pay")
    second_ref = patient.payment_ref()
    assert second_ref != first.checkout_ref
    patient.use()
    assert "Paid" in pay_on_sandbox(client, second_ref).text
    patient.notice("Payment of ₹500 received")

    # The bank settles the first attempt after all: that money goes straight back.
    body, headers = sandbox_webhook(client.app, first, "checkout.paid")
    client.cookies.clear()
    assert client.post(WEBHOOK, content=body, headers=headers).status_code == 200
    duplicate = patient.notice("already paid")
    assert "₹500" in duplicate["text"]

    appointment, payments, refunds, totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.REQUESTED
    assert [p.status for p in payments] == [PaymentStatus.REFUNDED, PaymentStatus.PAID]
    assert [(r.payment_id, r.amount_minor) for r in refunds] == [(first.id, 50_000)]
    assert totals == {"INR": 0}


def test_another_patient_gets_nothing_of_an_appointment_that_is_not_theirs(client, cipher, settings):
    cast = _clinic(client, cipher, settings)
    doctor = signed_in(client, DOCTOR_EMAIL, "doctor")
    ravi = signed_in(client, PATIENT_EMAIL, "ravi")
    held_time = _hold(ravi, reason="Private matter: recurring migraines")
    ravi.use()
    assert "Paid" in pay_on_sandbox(client, ravi.payment_ref()).text
    request = doctor.notice("New consultation request")
    _open_appointment(ravi, "Asha Nair")
    ravi_cancel = ravi.token("Cancel appointment")

    async def mallory(session):
        return await make_patient(session, cipher, name="Mallory Rao", email="mallory@example.com")

    run(client, mallory)
    mallory_tab = signed_in(client, "mallory@example.com", "mallory")
    # Ravi's buttons, the doctor's Accept, sent from Mallory's chat: nothing of the appointment.
    for token in (ravi_cancel, token_in([request], "Accept"), token_in([request], "Reject")):
        replies = mallory_tab.press(token)
        shown = "\n".join(r.get("text", "") for r in replies)
        assert "migraines" not in shown and "Ravi" not in shown, shown
        assert "expired" in shown or "no longer valid" in shown, shown
    # The time Ravi holds is not offered to her either.
    mallory_tab.send("menu")
    mallory_tab.tap("Find a doctor")
    mallory_tab.send("general medicine")
    mallory_tab.tap("Asha Nair")
    mallory_tab.tap("Book")
    mallory_tab.tap(mallory_tab.picks()[3])
    assert held_time not in mallory_tab.labels()

    (appointment,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    assert appointment.status is AppointmentStatus.REQUESTED


def _reminders(client, appointment_id: str) -> dict[str, tuple[str, datetime]]:
    """The appointment's reminders (24 h, 1 h, at the start, to each side): key → (status, due)."""

    async def work(session):
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"%{appointment_id}%remind%"))
        )
        return {row.dedupe_key: (row.status.value, row.due_at) for row in rows}

    return run(client, work)


def test_a_doctor_accepting_automatically_confirms_at_payment_and_a_move_replaces_the_reminders(
    client, cipher, settings
):
    cast = _clinic(client, cipher, settings)

    async def automatic(session):
        doctor = await doctor_named(session, "Asha Nair")
        doctor.auto_accept = True

    run(client, automatic)
    doctor = signed_in(client, DOCTOR_EMAIL, "doctor")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _book_and_pay(patient)
    patient.notice("Confirmed")
    doctor.notice("Confirmed")
    assert not [n for n in doctor.notices if "New consultation request" in n["text"]], "nothing to decide"
    (appointment,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    assert appointment.status is AppointmentStatus.CONFIRMED
    before = _reminders(client, appointment.id)
    assert len(before) == 6 and {status for status, _ in before.values()} == {"pending"}, before

    _open_appointment(patient, "Asha Nair")
    patient.tap("Move to another time")
    patient.tap(patient.picks()[4])
    new_time = patient.picks()[0]
    patient.tap(new_time)
    patient.tap("Move it here")
    assert "your appointment is now on" in patient.text(), patient.text()
    moved = doctor.notice("moved the consultation")
    assert "Ravi Kumar" in moved["text"]
    (after,) = run(client, lambda s: appointments_of(s, cast["patient"].id))
    assert after.starts_at > appointment.starts_at and after.status is AppointmentStatus.CONFIRMED
    assert local_time(after.starts_at, "Asia/Kolkata") in moved["text"]
    due = sorted(due for status, due in _reminders(client, appointment.id).values() if status == "pending")
    start = after.starts_at
    assert due == sorted([start - timedelta(hours=24), start - timedelta(hours=1), start] * 2), due


def test_a_lapsed_hold_taken_by_another_patient_tells_the_first_and_withdraws_his_link(
    client, cipher, settings
):
    cast = _clinic(client, cipher, settings)
    ravi = signed_in(client, PATIENT_EMAIL, "ravi")
    held_time = _hold(ravi)
    ravi_ref = ravi.payment_ref()

    async def time_passes(session):
        (appointment,) = await appointments_of(session, cast["patient"].id)
        appointment.hold_expires_at = datetime.now(UTC) - timedelta(minutes=1)
        await make_patient(
            session, cipher, name="Sita Devi", email="sita@example.com", timezone="Europe/London"
        )

    run(client, time_passes)  # Ravi's ten minutes are up; the sweeper has not come by yet
    sita = signed_in(client, "sita@example.com", "sita")
    assert _hold(sita) == held_time, "the lapsed time is offered to the next patient"
    assert "ended unpaid" in ravi.notice("ended unpaid")["text"]

    # The page Ravi still has open can no longer take his money: the link went with the slot.
    ravi.use()
    page = client.get(f"/pay/sandbox/{ravi_ref}")
    assert "expired" in page.text and "<button" not in page.text
    client.post(f"/pay/sandbox/{ravi_ref}/pay")
    appointment, (payment,), refunds, totals = _state(client, cast["patient"].id)
    assert appointment.status is AppointmentStatus.EXPIRED and payment.status is PaymentStatus.EXPIRED
    assert refunds == [] and totals in ({}, {"INR": 0})
    assert "held for you" in sita.text()


# --- bugs these tests found (fixed) -------------------------------------------------------------------


def test_a_doctor_cancelling_is_not_told_that_the_refund_is_theirs(client, cipher, settings):
    _clinic(client, cipher, settings)
    doctor = signed_in(client, DOCTOR_EMAIL, "doctor")
    patient = signed_in(client, PATIENT_EMAIL, "patient")
    _book_and_pay(patient)
    doctor.press_notice(doctor.notice("New consultation request"), "Accept")
    _open_appointment(doctor, "Ravi Kumar")
    doctor.tap("Cancel appointment")
    doctor.tap("Yes, cancel")
    assert "Cancelled" in doctor.text()
    assert "refunded to you" not in doctor.text(), doctor.text()
    assert "The patient is refunded ₹500 in full" in doctor.text(), doctor.text()


def test_approving_from_the_notification_while_reading_the_application_does_not_say_it_is_gone(
    client, cipher
):
    _admin(client, cipher)
    admin = Tab(client, "admin")
    admin.sign_in("admin@example.com")
    doctor = Tab(client, "doctor")
    apply_as_doctor(doctor, email="dr.meera@example.com")
    new = admin.notice("New doctor application")
    admin.tap("Applications to review")
    admin.tap("Dr Meera Iyer")
    admin.press_notice(new, "Approve")
    assert "Dr Meera Iyer is verified" in admin.text()
    assert "no longer exists" not in admin.text(), admin.text()
