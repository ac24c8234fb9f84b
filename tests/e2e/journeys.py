"""Shared helpers for the end-to-end journeys: several people in the web chat at once (each tab with
its own session cookie, all on one TestClient and so on the app's one event loop), the sandbox
checkout page, signed payment webhooks, and set-up written straight to the database where a test is
not about that part.

Everything a test does to the product goes through HTTP: the chat's WebSocket and upload, the
checkout page, the webhooks, the admin API. Only set-up (an admin account, a token, quiet hours off,
slots for channel tests) and the final checks read or write the database, through the app's own
engine on the app's loop (`run`), so the same code works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.access import Actor
from backend.accounts import service as accounts
from backend.accounts.chats import new_identity
from backend.models import (
    Appointment,
    Doctor,
    LedgerEntry,
    NotificationPreference,
    OutboxMessage,
    Payment,
    Role,
    Slot,
    Specialty,
    User,
    VerificationStatus,
    new_id,
)
from backend.payments.sandbox import SandboxGateway
from backend.records import service as records
from bot.app import create_app
from tests.keys import run_cipher

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
WAIT_SECONDS = 10.0  # the longest any one answer or notification may take before the test fails
SANDBOX_LINK = re.compile(r"/pay/sandbox/(sbx_[A-Za-z0-9_-]+)")


# --- the app ------------------------------------------------------------------------------------


@contextlib.contextmanager
def serving(settings) -> Any:
    """The whole app (dispatcher and housekeeper in process) behind one TestClient."""
    with TestClient(create_app(settings)) as client:
        try:
            yield client
        finally:
            _write_transcript()
            # A failed test may leave sockets open; close them or the TestClient waits for ever.
            while Tab.open_tabs:
                with contextlib.suppress(Exception):
                    Tab.open_tabs.pop().close()
            Tab.every_tab.clear()


def _write_transcript() -> None:
    """With TELECARE_E2E_TRANSCRIPT=<file>, everything each tab was shown is appended there, to
    read the words users get (the tests check the facts, a person checks the tone)."""
    path = os.environ.get("TELECARE_E2E_TRANSCRIPT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(f"\n===== {os.environ.get('PYTEST_CURRENT_TEST', '')}\n")
        for tab in Tab.every_tab:
            for reply in tab.history:
                buttons = " | ".join(c["label"] for c in reply.get("choices", ()))
                out.write(f"[{tab.name}] {reply.get('text', '')}\n")
                if buttons:
                    out.write(f"[{tab.name}]   buttons: {buttons}\n")


def run(client: TestClient, work: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """`await work(session, *args)` in one transaction, on the app's loop with the app's engine."""

    async def in_transaction() -> Any:
        async with client.app.state.sessions() as session, session.begin():
            return await work(session, *args)

    return client.portal.call(in_transaction)


def sweep(client: TestClient, now: datetime) -> int:
    """One housekeeping pass as if it were `now` (holds lapse, deadlines pass). The messages it
    writes are due at that `now`; the clock then catches up with them: they are made due at once
    (only those: reminders scheduled for later stay where they are)."""
    from sqlalchemy import update

    from backend.models import OutboxStatus

    done = client.portal.call(client.app.state.housekeeper.sweep_once, now)

    async def catch_up(session) -> None:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at == now)
            .values(due_at=datetime.now().astimezone())
        )

    run(client, catch_up)
    client.portal.call(client.app.state.dispatcher.wake)
    return done


def eventually(check: Callable[[], Any], what: str, seconds: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def fake_stripe_in_a_thread() -> Any:
    """The fake Stripe API on its own event loop in a thread: the app (on the TestClient's loop)
    reaches it over HTTP like the real one, while the test, which is synchronous, drives it."""
    import asyncio
    import threading

    from tests.fakes.stripe_api import FakeStripe

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-stripe", daemon=True)
    thread.start()
    fake = FakeStripe()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


# --- one browser tab ----------------------------------------------------------------------------


async def _within(receive: Callable[[], Awaitable[Any]], seconds: float) -> Any:
    with anyio.fail_after(seconds):
        return await receive()


class Tab:
    """One person's browser tab. Each has its own session cookie (so its own chat); the cookie is
    put back on the shared client before any HTTP request the tab makes."""

    open_tabs: ClassVar[list[Tab]] = []
    every_tab: ClassVar[list[Tab]] = []  # for the transcript

    def __init__(self, client: TestClient, name: str = "tab", *, persona: str | None = None) -> None:
        self.client, self.name = client, name
        client.cookies.clear()
        client.get("/")
        if persona is not None:  # the developer panel's persona picker, before the chat opens
            assert client.post("/web/persona", json={"persona": persona}).status_code == 200
        self.jar = httpx.Cookies(client.cookies)
        self.dev: list[str] = []  # the developer panel (OTP codes in development)
        self.notices: list[dict] = []  # notifications pushed to this tab, in order
        self.history: list[dict] = []  # every reply this tab was sent, for reading the copy
        self.socket = client.websocket_connect("/ws").__enter__()
        Tab.open_tabs.append(self)
        Tab.every_tab.append(self)
        self.last = self.receive_replies()

    # frames

    def frame(self, seconds: float = WAIT_SECONDS) -> dict:
        socket = self.socket
        try:
            message = socket.portal.call(_within, socket._send_rx.receive, seconds)
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: nothing arrived within {seconds} s; last: {self.text()!r}"
            ) from None
        socket._raise_on_close(message)
        frame = json.loads(message["text"])
        if frame["type"] == "dev":
            self.dev.append(frame["text"])
        elif frame["type"] == "notice":
            self.notices.extend(frame["replies"])
            self.history.extend(frame["replies"])
        elif frame["type"] == "replies":
            self.history.extend(frame["replies"])
        return frame

    def receive_replies(self) -> list[dict]:
        while True:
            frame = self.frame()
            if frame["type"] == "replies":
                return frame["replies"]
            if frame["type"] == "error":
                return [frame]

    def notice(self, contains: str, seconds: float = WAIT_SECONDS) -> dict:
        """The first notification containing `contains` (waiting for it if it has not come)."""
        deadline = time.monotonic() + seconds
        while True:
            found = next((n for n in self.notices if contains in n["text"]), None)
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                texts = [n["text"][:80] for n in self.notices]
                raise AssertionError(f"{self.name}: no notification with {contains!r}; got {texts}")
            frame = self.frame(left)
            if frame["type"] == "replies":  # another tab of this chat answered: keep it as the screen
                self.last = frame["replies"]

    # typing and tapping

    def send(self, text: str) -> list[dict]:
        self.socket.send_json({"type": "text", "text": text, "id": new_id()})
        self.last = self.receive_replies()
        return self.last

    def tap(self, label_part: str) -> list[dict]:
        return self.press(self.token(label_part))

    def press(self, token: str) -> list[dict]:
        self.socket.send_json({"type": "choice", "token": token, "id": new_id()})
        self.last = self.receive_replies()
        return self.last

    def press_notice(self, notice: dict, label_part: str) -> list[dict]:
        return self.press(token_in([notice], label_part))

    def token(self, label_part: str) -> str:
        return token_in(self.last, label_part)

    def labels(self) -> list[str]:
        return [c["label"] for r in self.last for c in r["choices"]]

    def picks(self) -> list[str]:
        """The labels of the days, times or doctors offered, without the paging and back buttons."""
        return [label for label in self.labels() if not is_control(label)]

    def text(self) -> str:
        return "\n".join(r.get("text", "") for r in self.last)

    def upload(self, data: bytes, name: str, content_type: str) -> list[dict]:
        self.use()
        response = self.client.post(
            "/web/upload", files={"file": (name, data, content_type)}, data={"id": new_id()}
        )
        assert response.status_code == 200, response.text
        self.last = self.receive_replies()  # the answer comes on the socket, like any message
        return self.last

    def use(self) -> None:
        """Make the shared client this tab's browser again (its cookie) for an HTTP request."""
        self.client.cookies = self.jar

    def close(self) -> None:
        if self in Tab.open_tabs:
            Tab.open_tabs.remove(self)
        self.socket.__exit__(None, None, None)

    # whole conversations

    def sign_up(self, name: str, email: str, *, timezone: str = "Kolkata") -> None:
        """A new patient, reading the OTP from the developer panel as a tester would."""
        self.tap("sign up")
        self.tap("I agree")
        self.send(name)
        self.send("23-04-1990")
        self.tap("Female")
        self.send(email)
        self.send(self.dev[-1][-6:])
        self.tap("English")
        self.tap(timezone)
        assert f"You're all set, {name}" in self.text(), self.text()

    def sign_in(self, email: str) -> None:
        self.tap("I already have an account")
        self.send(email)
        self.send(self.dev[-1][-6:])

    def payment_ref(self) -> str:
        """The sandbox checkout of the payment link button on screen."""
        urls = [r["link"]["url"] for r in self.last if r.get("link")]
        found = SANDBOX_LINK.search(urls[-1]) if urls else None
        assert found, f"no payment link button in {self.last!r}"
        return found.group(1)


def to_the_reason(patient: Tab) -> None:
    """Dr Asha Nair from the search, the first time three days on: the reason is asked next."""
    patient.send("menu")
    patient.tap("Find a doctor")
    patient.send("general medicine")
    patient.tap("Asha Nair")
    patient.tap("Book")
    patient.tap(patient.picks()[3])
    patient.tap(patient.picks()[0])
    assert "reason for your visit" in patient.text(), patient.text()


def signed_in(client: TestClient, email: str, name: str) -> Tab:
    """A tab of an existing account (demo data or a factory), signed in by its email and code."""
    tab = Tab(client, name)
    tab.sign_in(email)
    assert "Welcome back" in tab.text(), tab.text()
    return tab


def token_in(replies: list[dict], label_part: str) -> str:
    wanted = label_part.casefold()
    for reply in reversed(replies):
        for choice in reply.get("choices", ()):
            if wanted in choice["label"].casefold():
                return choice["token"]
    labels = [c["label"] for r in replies for c in r.get("choices", ())]
    raise AssertionError(f"no choice containing {label_part!r} in {labels}")


# --- journeys in the web chat -------------------------------------------------------------------


def apply_as_doctor(
    tab: Tab,
    *,
    email: str,
    name: str = "Meera Iyer",
    specialty: str = "cardiology",
    registration: str = "TNMC-90311",
    fee: str = "500",
) -> None:
    """From the welcome to a submitted application, documents uploaded through the page."""
    tab.tap("doctor, pharmacy or lab")
    tab.tap("Doctor")
    tab.tap("I agree")
    tab.send(email)
    tab.send(tab.dev[-1][-6:])
    tab.tap("English")
    tab.tap("Kolkata")
    tab.send(name)
    tab.send("MBBS, MD (Medicine), DM (Cardiology)")
    tab.send("Tamil Nadu Medical Council")
    tab.send(registration)
    tab.send(specialty)
    tab.send("English, Tamil")
    tab.send(fee)
    tab.tap("Skip")
    assert tab.last[-1]["request"] == "file", tab.text()
    tab.upload(PDF, "licence.pdf", "application/pdf")
    tab.upload(PNG, "id.png", "image/png")
    assert "Please check your application" in tab.text(), tab.text()
    tab.tap("Submit")
    assert "application is with our admins" in tab.text(), tab.text()


def set_weekly_hours(tab: Tab, hours: str = "daily 09:00-17:00") -> None:
    tab.send("menu")
    tab.tap("availability")
    tab.tap("Weekly hours")
    tab.send(hours)
    assert "Saved" in tab.text(), tab.text()


def book_from_search(tab: Tab, *, specialty_typed: str, doctor: str, reason: str, day_index: int = 2) -> None:
    """Search by typed specialty, open the doctor, pick a day (the `day_index`-th offered: the
    third is at least a day and a half away, whatever the hour) and its first time, give the reason,
    hold it. Leaves the tab on the payment step."""
    tab.send("menu")
    tab.tap("Find a doctor")
    tab.send(specialty_typed)
    tab.tap(doctor)
    tab.tap("Book")
    day_labels = tab.picks()
    tab.tap(day_labels[min(day_index, len(day_labels) - 1)])
    time_labels = tab.picks()
    tab.tap(time_labels[0])
    tab.send(reason)
    assert "Please check" in tab.text(), tab.text()
    tab.tap("Hold it and pay")
    assert "held for you" in tab.text(), tab.text()


def is_control(label: str) -> bool:
    return any(mark in label for mark in ("➡️", "🔎", "📅", "⬅️"))


# --- the sandbox checkout page ------------------------------------------------------------------


def pay_on_sandbox(http, ref: str, outcome: str = "pay") -> httpx.Response:
    """Open the checkout page as the patient's browser would, check it, press Pay (or Fail)."""
    page = http.get(f"/pay/sandbox/{ref}")
    assert page.status_code == 200, page.text
    assert f'action="/pay/sandbox/{ref}/{outcome}"' in page.text, "the page offers the button"
    return http.post(f"/pay/sandbox/{ref}/{outcome}")


def sandbox_webhook(
    app, payment: Payment, raw_type: str, *, at: datetime | None = None
) -> tuple[bytes, dict]:
    """The body and headers the sandbox gateway would POST to /api/payments/webhooks/sandbox."""
    gateway = app.state.gateways.get("sandbox")
    assert isinstance(gateway, SandboxGateway)
    body = gateway.event_body(payment, raw_type)
    return body, {**gateway.sign(body, at or datetime.now().astimezone()), "content-type": "application/json"}


# --- set-up and checks in the database ----------------------------------------------------------


async def add_admin(session, cipher, email: str, name: str = "Admin Ravi") -> str:
    user = User(id=new_id(), role=Role.ADMIN, display_name=name)
    accounts.set_contact(cipher, user, "email", email)
    session.add(user)
    await session.flush()
    return user.id


async def quiet_hours_off(session, *user_ids: str) -> None:
    """Staff messages (a new application, its decision) are not urgent: with quiet hours off they
    go at once, whatever the hour of the test run."""
    for user_id in user_ids:
        row = await session.get(NotificationPreference, user_id)
        if row is None:
            session.add(NotificationPreference(user_id=user_id, quiet_start="00:00", quiet_end="00:00"))
        else:
            row.quiet_start = row.quiet_end = "00:00"
    await session.flush()


async def user_by_name(session, cipher, name: str) -> User:
    """A patient by the name on their profile (decrypted: names are health-record data)."""
    from backend.models import PatientProfile

    for profile in await session.scalars(select(PatientProfile)):
        if cipher.decrypt("patient_profiles", "full_name", profile.user_id, profile.full_name_enc) == name:
            return await session.get(User, profile.user_id)
    raise AssertionError(f"no patient named {name}")


async def doctor_named(session, name: str) -> Doctor:
    doctor = await session.scalar(select(Doctor).where(Doctor.full_name == name))
    assert doctor is not None, f"no doctor {name}"
    return doctor


async def appointments_of(session, patient_id: str) -> list[Appointment]:
    return list(
        await session.scalars(
            select(Appointment).where(Appointment.patient_id == patient_id).order_by(Appointment.created_at)
        )
    )


async def payments_of(session, appointment_id: str) -> list[Payment]:
    return list(
        await session.scalars(
            select(Payment).where(Payment.appointment_id == appointment_id).order_by(Payment.created_at)
        )
    )


async def ledger_total(session) -> dict[str, int]:
    """Every currency's ledger lines summed: always zero."""
    totals: dict[str, int] = {}
    for entry in await session.scalars(select(LedgerEntry)):
        totals[entry.currency] = totals.get(entry.currency, 0) + entry.amount_minor
    return totals


async def outbox_templates(session, user_id: str) -> list[str]:
    rows = await session.scalars(
        select(OutboxMessage.template)
        .where(OutboxMessage.user_id == user_id)
        .order_by(OutboxMessage.created_at)
    )
    return list(rows)


async def make_patient(
    session,
    cipher,
    *,
    name: str,
    chats: tuple[tuple[str, str], ...] = (),
    email: str | None = None,
    timezone: str = "Asia/Kolkata",
) -> User:
    """A signed-up patient reachable on the given chats, or who signs in with `email` (for tests
    that start after signup)."""
    user = User(id=new_id(), role=Role.PATIENT, timezone=timezone, locale="en", display_name=name)
    if email:
        accounts.set_contact(cipher, user, "email", email)
    session.add(user)
    await session.flush()
    for channel, address in chats:
        session.add(new_identity(cipher or run_cipher(), channel, address, user_id=user.id))
    await records.create_profile(
        session,
        cipher,
        Actor(user.id, Role.PATIENT),
        user.id,
        full_name=name,
        birth_date=date(1990, 4, 23),
        sex="female",
        channel=chats[0][0] if chats else "web",
    )
    await session.flush()
    return user


async def make_doctor(
    session,
    cipher=None,
    *,
    name: str,
    chats: tuple[tuple[str, str], ...] = (),
    email: str | None = None,
    auto_accept: bool = False,
    timezone: str = "Asia/Kolkata",
    specialty: str = "General Medicine",
    fee_minor: int = 50_000,
    on_call: bool = False,
    stripe_account_id: str | None = None,
) -> Doctor:
    """A verified doctor reachable on the given chats, or who signs in with `email` (needs the
    cipher); quiet hours off."""
    user = User(id=new_id(), role=Role.DOCTOR, timezone=timezone, locale="en", display_name=name)
    if email:
        accounts.set_contact(cipher, user, "email", email)
    session.add(user)
    await session.flush()
    for channel, address in chats:
        session.add(new_identity(cipher or run_cipher(), channel, address, user_id=user.id))
    found = await session.scalar(select(Specialty).where(Specialty.name == specialty))
    if found is None:
        found = Specialty(id=new_id(), name=specialty)
        session.add(found)
        await session.flush()
    doctor = Doctor(
        id=new_id(),
        user_id=user.id,
        full_name=name,
        qualification="MBBS, MD",
        council="Karnataka Medical Council",
        registration_number=f"KMC-{new_id()[:8].upper()}",
        languages=["English", "Hindi"],
        fee_minor=fee_minor,
        currency="INR",
        status=VerificationStatus.VERIFIED,
        on_call=on_call,
        auto_accept=auto_accept,
        stripe_account_id=stripe_account_id,
    )
    doctor.specialties = [found]
    session.add(doctor)
    await session.flush()
    await quiet_hours_off(session, user.id)
    return doctor


async def open_all_hours(session, doctor: Doctor, horizon_days: int) -> None:
    """Weekly hours 00:00-23:00 every day in the doctor's timezone, in hour-long slots, generated
    as the availability flow would (so the housekeeper's own regeneration keeps them): there is
    always a free time soon and one days ahead, whatever the hour of the test run."""
    from datetime import time as clock

    from backend.scheduling import service as scheduling

    scheduling.set_slot_minutes(doctor, 60)
    await scheduling.set_weekly_hours(session, doctor, {day: [(clock(0), clock(23))] for day in range(7)})
    await scheduling.generate_slots(
        session, doctor, now=datetime.now().astimezone(), horizon_days=horizon_days
    )


async def free_starts(session, doctor_id: str) -> list[datetime]:
    """The doctor's free slot times from now on, in order."""
    from backend.scheduling import service as scheduling

    now = datetime.now().astimezone()
    slots = await scheduling.free_slots(session, doctor_id, start=now, end=now + timedelta(days=60), now=now)
    return [slot.starts_at for slot in slots]


async def make_slots(session, doctor: Doctor, *starts: datetime, minutes: int = 15) -> list[Slot]:
    slots = [
        Slot(id=new_id(), doctor_id=doctor.id, starts_at=start, ends_at=start + timedelta(minutes=minutes))
        for start in starts
    ]
    session.add_all(slots)
    await session.flush()
    return slots


def days_ahead(days: int, hour: int = 6) -> datetime:
    """A whole hour `days` from today (UTC), always in the future and never close to now."""
    from datetime import UTC

    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days)


def local_time(moment: datetime, timezone: str) -> str:
    """A time as notifications show it to someone in `timezone` (English)."""
    from notifications.templates import local_time as shown

    return shown(moment, "en", timezone)


def skip_without(condition: bool, reason: str) -> None:
    if not condition:
        pytest.skip(reason)
