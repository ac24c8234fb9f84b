"""The web chat over HTTP and its WebSocket, and the operational endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from backend.crypto import FieldCipher, KeyRing
from backend.db import create_engine, create_sessionmaker
from backend.models import AuditEntry, OutboxMessage, User
from backend.settings import DispatcherMode, Environment
from bot.app import create_app
from bot.web.hub import SocketHub
from bot.web.notify import WebNotifier
from bot.web.relay import WebRelay
from bot.web.routes import COOKIE, chat_address
from notifications.dispatcher import Dispatcher
from tests.notifications.helpers import enqueue_nudge


@pytest.fixture
def app(settings):
    return create_app(settings)


@contextlib.contextmanager
def web_client(app):
    """A TestClient for `app` that closes the tabs a test left open: a failed test may leave
    sockets open, and the TestClient would wait for them for ever."""
    with TestClient(app) as client:
        yield client
        while Browser.open_tabs:
            with contextlib.suppress(Exception):
                Browser.open_tabs.pop().close()


@pytest.fixture
def client(app):
    with web_client(app) as client:
        yield client


class Browser:
    """One browser tab: its cookie jar is the TestClient's; messages go over the socket."""

    open_tabs: ClassVar[list[Browser]] = []

    def __init__(self, client: TestClient) -> None:
        self.client = client
        client.get("/")
        self.socket = client.websocket_connect("/ws").__enter__()
        Browser.open_tabs.append(self)
        self.dev: list[str] = []
        self.notices: list[dict] = []
        self.history: list[dict] = []  # what the chat showed before this tab opened
        self.locale: str | None = None  # the page's own words follow it
        self.last = self.receive_replies()

    def receive_replies(self) -> list[dict]:
        while True:
            message = self.socket.receive_json()
            if message["type"] == "dev":
                self.dev.append(message["text"])
                continue
            if message["type"] == "notice":  # a notification, pushed whenever it is dispatched
                self.notices.extend(message["replies"])
                continue
            self.locale = message.get("locale", self.locale)
            if message["type"] == "history":  # first, on opening a chat that showed something
                self.history = message["messages"]
                continue
            return message.get("replies", [message])

    def send(self, text: str, message_id: str | None = None) -> list[dict]:
        self.socket.send_json(
            {"type": "text", "text": text, "id": message_id or f"id-{text[:20]}-{len(self.dev)}"}
        )
        self.last = self.receive_replies()
        return self.last

    def tap(self, label_part: str) -> list[dict]:
        token = next(
            c["token"]
            for r in self.last
            for c in r["choices"]
            if label_part.casefold() in c["label"].casefold()
        )
        self.socket.send_json({"type": "choice", "token": token, "id": f"tap-{token}"})
        self.last = self.receive_replies()
        return self.last

    def text(self) -> str:
        return "\n".join(r["text"] for r in self.last)

    def sign_up(self, name: str = "Asha Verma", email: str = "asha@example.com") -> None:
        """A complete signup, reading the OTP from the developer panel as a tester would."""
        self.tap("sign up")
        self.tap("I agree")
        self.send(name)
        self.send("23-04-1990")
        self.tap("Female")
        self.send(email)
        self.send(self.dev[-1][-6:])
        self.tap("English")
        self.tap("Kolkata")

    def close(self) -> None:
        if self in Browser.open_tabs:
            Browser.open_tabs.remove(self)
        self.socket.__exit__(None, None, None)


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_readiness_fails_cleanly_without_a_database(settings, tmp_path):
    broken = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path}/nothing-here.db"})
    with TestClient(create_app(broken)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"


def test_the_page_sets_a_secure_http_only_session_cookie(client):
    response = client.get("/")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Content-Security-Policy" in response.headers
    # The cookie is kept, not replaced, on the next visit.
    assert "set-cookie" not in client.get("/").headers


def test_https_deployments_mark_the_cookie_secure(settings):
    secure = settings.model_copy(update={"public_base_url": "https://clinic.example"})
    with TestClient(create_app(secure)) as client:
        assert "Secure" in client.get("/").headers["set-cookie"]


def test_a_socket_without_a_session_is_refused(client):
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws") as socket:
        socket.receive_json()
    assert closed.value.code == 4401


def test_signup_and_profile_over_the_socket(client):
    tab = Browser(client)
    assert "Welcome to telecare" in tab.text()
    tab.tap("sign up")
    tab.tap("I agree")
    tab.send("Asha Verma")
    tab.send("23-04-1990")
    tab.tap("Female")
    tab.send("asha@example.com")
    assert tab.dev and "a•••@example.com" in tab.dev[-1], "the developer panel shows the OTP"
    tab.send(tab.dev[-1][-6:])
    tab.tap("English")
    tab.tap("Kolkata")
    assert "You're all set, Asha Verma" in tab.text()
    tab.tap("My medical profile")
    tab.tap("Allergies")
    tab.tap("Add")
    tab.send("Penicillin")
    assert "Penicillin" in tab.text()
    tab.close()
    # Reconnecting (a reload) resumes where the chat was, still signed in.
    again = Browser(client)
    assert "Allergies" in again.text() and "Penicillin" in again.text()
    again.close()


def test_a_reload_shows_the_recent_history_without_live_buttons_or_the_code(client, in_db):
    tab = Browser(client)
    assert tab.history == [], "a new chat has nothing to show"
    tab.sign_up()
    code = next(text[-6:] for text in tab.dev)
    tab.tap("My medical profile")
    tab.tap("Allergies")
    tab.tap("Add")
    tab.send("Penicillin")
    tab.close()

    again = Browser(client)  # a reload: a new socket, the same cookie
    said = [m["text"] for m in again.history if m["side"] == "user"]
    assert said[:3] == ["I'm new — sign up", "I agree", "Asha Verma"]
    assert said[-2:] == ["➕ Add", "Penicillin"]
    assert "••••••" in said and code not in str(again.history), "the typed OTP code is not kept"
    bot = [m for m in again.history if m["side"] == "bot"]
    assert "Welcome to telecare" in bot[0]["text"] and "I'm new — sign up" in bot[0]["labels"]
    assert all("token" not in m and "choices" not in m for m in again.history), "labels only"
    # The question the chat waits on comes once, live, after the history.
    assert again.last[-1]["choices"] and again.last[-1]["text"] != again.history[-1]["text"]
    again.close()

    async def audited(db) -> list:
        async with db() as session:
            query = select(AuditEntry).where(AuditEntry.resource_type == "web_chat_history")
            return list((await session.scalars(query)).all())

    (entry,) = in_db(audited)
    assert (entry.action, entry.channel, entry.purpose) == ("read", "web", "web_chat_opened")


def test_the_history_is_only_for_the_chat_that_showed_it(client):
    tab = Browser(client)
    tab.tap("sign up")
    tab.close()
    mine = client.cookies.get(COOKIE)
    client.cookies.clear()  # another browser: another cookie, another chat address
    other = Browser(client)
    assert other.history == [], "another chat sees nothing of it"
    other.close()
    client.cookies.set(COOKIE, mine)
    again = Browser(client)
    assert [m["text"] for m in again.history if m["side"] == "user"] == ["I'm new — sign up"]
    again.close()


def test_after_sign_out_or_stop_the_history_is_not_shown(client):
    tab = Browser(client)
    tab.sign_up()
    tab.close()
    reload = Browser(client)
    assert "Asha Verma" in str(reload.history), "before: a reload shows it"
    reload.close()
    assert client.post("/web/signout").status_code == 200
    fresh = Browser(client)
    assert fresh.history == [] and "Welcome to telecare" in fresh.text()
    fresh.sign_up(name="Ravi Kumar", email="ravi@example.com")
    fresh.close()
    fresh = Browser(client)
    assert "Ravi Kumar" in str(fresh.history) and "Asha" not in str(fresh.history)
    fresh.send("stop")
    fresh.close()
    assert Browser(client).history == [], "after stop, the next person at this browser sees nothing"


def test_malformed_frames_get_an_error_and_the_socket_stays_usable(client):
    tab = Browser(client)
    tab.socket.send_text("not json")
    assert tab.socket.receive_json() == {"type": "error", "text": "Malformed message."}
    tab.socket.send_text(json.dumps({"type": "telepathy"}))
    assert tab.socket.receive_json()["type"] == "error"
    assert "agree" in tab.tap("sign up")[-1]["text"].lower()
    tab.close()


def test_a_resent_message_id_is_processed_once(client):
    tab = Browser(client)
    tab.tap("sign up")
    tab.tap("I agree")
    tab.send("Asha Verma", message_id="same-id")
    tab.socket.send_json({"type": "text", "text": "Other Name", "id": "same-id"})
    tab.socket.send_json({"type": "text", "text": "help", "id": "fresh-id"})
    assert tab.receive_replies() == [], "the duplicate is acknowledged with nothing to say"
    replies = tab.receive_replies()
    assert "menu, back, cancel" in replies[0]["text"]
    assert "date of birth" in replies[-1]["text"]
    tab.close()


def test_personas_exist_in_development_only(client, settings, in_db, cipher):

    from backend import demo

    async def load(db):
        async with db() as session, session.begin():
            await demo.load(session, cipher)

    in_db(load)
    config = client.get("/web/config").json()
    assert config["demo_tools"] is True
    ids = {p["id"] for p in config["personas"]}
    assert {"new-patient", "doctor", "pharmacy", "lab", "admin", "patient"} <= ids
    assert client.post("/web/persona", json={"persona": "doctor"}).status_code == 200
    tab = Browser(client)
    assert "Doctor menu" in tab.text()
    tab.tap("registration details")
    assert "Reg. No." in tab.text()
    tab.close()
    assert client.post("/web/persona", json={"persona": "nobody"}).status_code == 404
    assert client.post("/web/persona", json={}).status_code == 422

    production = settings.model_copy(
        update={
            "env": Environment.PRODUCTION,
            "public_base_url": "https://clinic.example",
            "otp_delivery": "smtp",
            "smtp_url": "smtp://127.0.0.1:1",
        }
    )
    with TestClient(create_app(production)) as prod:
        assert prod.get("/web/config").json() == {"demo_tools": False, "personas": []}
        assert prod.post("/web/persona", json={"persona": "doctor"}).status_code == 404


def test_signing_out_starts_a_fresh_anonymous_chat(client):
    tab = Browser(client)
    tab.tap("sign up")
    tab.close()
    assert client.post("/web/signout").status_code == 200
    fresh = Browser(client)
    assert "Welcome to telecare" in fresh.text()
    fresh.close()


def test_the_health_summary_is_a_short_lived_private_download(client, in_db):
    tab = Browser(client)
    tab.sign_up()
    tab.tap("My medical profile")
    tab.tap("Allergies")
    tab.tap("Add")
    tab.send("<script>alert('x')</script> & peanuts")
    tab.send("back")
    replies = tab.tap("Download")
    document = next(r["document"] for r in replies if r["document"])
    assert document["filename"] == "health-summary.html" and "/files/" in document["url"]
    path = document["url"]
    assert path.startswith("/files/"), "our own links reach the page as same-origin paths"
    response = client.get(path)
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    body = response.text
    assert "Asha Verma" in body and "23 April 1990" in body, "dates in Indian English"
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body, "user text is escaped"
    assert client.get(path.replace("/files/", "/files/x")).status_code == 403  # the sign-in page
    tab.close()


def test_an_expired_download_link_is_refused(client, in_db, monkeypatch):
    from datetime import timedelta

    from backend.files import service as files

    tab = Browser(client)
    tab.close()
    monkeypatch.setattr(files, "LINK_LIFETIME", timedelta(seconds=-1))

    from backend.models import Role, new_id, utcnow

    async def grant(db) -> str:
        async with db() as session, session.begin():
            user = User(id=new_id(), role=Role.PATIENT)
            session.add(user)
            await session.flush()
            return await files.grant(
                session, user_id=user.id, kind="profile_summary", now=utcnow(), channel="web"
            )

    token = in_db(grant)
    response = client.get(f"/files/{token}")
    assert response.status_code == 403 and "Sign in" in response.text


def test_a_socket_from_another_site_is_refused(client):
    client.get("/")
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/ws", headers={"origin": "https://evil.example"}) as socket,
    ):
        socket.receive_json()
    assert closed.value.code == 4403
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as socket:
        assert socket.receive_json()["type"] == "replies"


def test_an_idle_web_session_is_signed_out_by_the_server(client, in_db):
    from datetime import timedelta

    from sqlalchemy import select

    from backend.models import ChannelIdentity

    tab = Browser(client)
    tab.sign_up()
    tab.close()

    async def age_the_session(db) -> None:
        async with db() as session, session.begin():
            identity = await session.scalar(select(ChannelIdentity))
            identity.last_seen_at -= timedelta(days=31)

    in_db(age_the_session)
    again = Browser(client)
    assert "Welcome to telecare" in again.text(), "signed out: back to the welcome"
    again.close()


def test_a_refused_download_is_the_sign_in_page_and_stays_audited(client, in_db, monkeypatch):

    from sqlalchemy import select

    from backend.files import service as files
    from backend.models import AuditEntry, Role, new_id, utcnow
    from backend.records import service as records

    async def grant(db) -> str:
        async with db() as session, session.begin():
            user = User(id=new_id(), role=Role.DOCTOR)  # not a patient: the policy refuses
            session.add(user)
            await session.flush()
            return await files.grant(
                session, user_id=user.id, kind="profile_summary", now=utcnow(), channel="web"
            )

    async def denied_entries(db) -> list:
        async with db() as session:
            return (await session.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied"))).all()

    token = in_db(grant)
    monkeypatch.setattr(records, "_load", None)  # never reached: the refusal comes first
    response = client.get(f"/files/{token}")
    assert response.status_code == 403 and "Sign in" in response.text
    assert len(in_db(denied_entries)) == 1


def test_a_second_tab_of_the_same_chat_sees_the_answers(client):
    first = Browser(client)
    second = Browser(client)  # same cookie: the same chat
    first.tap("sign up")
    mirrored = second.receive_replies()
    assert "agree" in mirrored[-1]["text"].lower()
    first.close()
    second.close()


# --- notifications ----------------------------------------------------------------------------


def _nudge(in_db, key: str, cipher_json: str) -> None:
    async def work(sessions):
        async with sessions() as session, session.begin():
            await enqueue_nudge(session, FieldCipher(KeyRing.from_json(cipher_json)), key=key)

    in_db(work)


def _row(in_db, key: str):
    async def work(sessions):
        async with sessions() as session:
            return await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))

    return in_db(work)


def test_a_notification_appears_live_in_an_open_chat_and_its_button_works(client, in_db, settings):
    tab = Browser(client)
    tab.sign_up()
    _nudge(in_db, "web:1", settings.keys_json)
    while True:  # the dispatcher polls every second; the frame comes on its own, unasked
        frame = tab.socket.receive_json()
        if frame["type"] == "notice" and "better advice" in frame["replies"][0]["text"]:
            break
    (button,) = frame["replies"][0]["choices"]
    assert button["label"] == "Complete my profile" and button["token"].startswith("n.")
    tab.socket.send_json({"type": "choice", "token": button["token"], "id": "press-1"})
    tab.last = tab.receive_replies()
    assert tab.last[0]["text"] == "Let's add to your medical profile."
    row = _row(in_db, "web:1")
    assert (row.channel, row.delivery_status) == ("web", "delivered")


def test_a_notification_waits_for_a_closed_chat_and_shows_when_it_opens(client, in_db, settings):
    tab = Browser(client)
    tab.sign_up()
    tab.close()
    _nudge(in_db, "web:2", settings.keys_json)
    for _ in range(100):
        row = _row(in_db, "web:2")
        if row.delivery_status == "waiting":
            break
        time.sleep(0.05)
    assert (row.channel, row.delivery_status) == ("web", "waiting")
    again = Browser(client)  # same browser, same cookie: the chat opens again
    assert any("better advice" in notice["text"] for notice in again.notices)
    assert _row(in_db, "web:2").delivery_status == "delivered"


# --- notifications from workers in other processes (Redis) ----------------------------------

REDIS_URL = os.environ.get("TELECARE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def relay_client(settings, redis_url):
    web_only = settings.model_copy(update={"redis_url": redis_url, "dispatcher": DispatcherMode.OFF})
    with TestClient(create_app(web_only)) as client:
        yield client
        while Browser.open_tabs:
            Browser.open_tabs.pop().close()


def _worker_drain(database_url: str, keys_json: str, redis_url: str) -> int:
    """A `telecare worker` elsewhere: its own loop, engine and (empty) socket hub."""

    async def main() -> int:
        engine = create_engine(database_url)
        relay = WebRelay(redis_url)
        try:
            sessions, cipher = create_sessionmaker(engine), FieldCipher(KeyRing.from_json(keys_json))
            web = WebNotifier(SocketHub(), relay, sessions=sessions, cipher=cipher)
            return await Dispatcher(sessions, cipher, {"web": web}).drain()
        finally:
            await relay.close()
            await engine.dispose()

    return asyncio.run(main())


def test_a_worker_elsewhere_reaches_the_open_tab_and_a_closed_chat_waits(
    relay_client, in_db, settings, redis_url
):
    """Web chats and separate notification workers, through Redis: a worker in another process
    (here: another event loop with its own engine and no sockets) reaches a tab open in the web
    process, and a message for a closed chat waits until it opens."""
    tab = Browser(relay_client)
    tab.sign_up()
    _nudge(in_db, "relay:1", settings.keys_json)
    assert _worker_drain(settings.database_url, settings.keys_json, redis_url) >= 1
    while True:
        frame = tab.socket.receive_json()
        if frame["type"] == "notice" and "better advice" in frame["replies"][0]["text"]:
            break
    assert _row(in_db, "relay:1").delivery_status == "delivered"

    tab.close()
    for _ in range(50):  # the web process withdraws the chat's "open" mark as the tab closes
        if not asyncio.run(_is_open(redis_url, tab)):
            break
        time.sleep(0.05)
    _nudge(in_db, "relay:2", settings.keys_json)
    _worker_drain(settings.database_url, settings.keys_json, redis_url)
    assert _row(in_db, "relay:2").delivery_status == "waiting"
    again = Browser(relay_client)
    assert any("better advice" in notice["text"] for notice in again.notices)
    assert _row(in_db, "relay:2").delivery_status == "delivered"


async def _is_open(redis_url: str, tab: Browser) -> bool:
    relay = WebRelay(redis_url)
    try:
        return await relay.is_open("web:" + chat_address(tab.client.cookies[COOKIE]))
    finally:
        await relay.close()


def test_the_payment_link_reaches_the_web_chat_as_a_link_button_not_a_bare_url(settings, cipher):
    """The frame carries the checkout as `link` (label and URL); the text holds no URL."""
    from tests.e2e.journeys import make_doctor, open_all_hours, run

    async def clinic(session):
        doctor = await make_doctor(session, name="Asha Nair")
        await open_all_hours(session, doctor, settings.booking_horizon_days)

    with web_client(create_app(settings)) as client:
        run(client, clinic)
        tab = Browser(client)
        tab.sign_up()
        tab.send("menu")
        tab.tap("Find a doctor")
        tab.send("general medicine")
        tab.tap("Asha Nair")
        tab.tap("Book")
        tab.tap([c["label"] for c in tab.last[-1]["choices"]][2])  # a day
        tab.tap(tab.last[-1]["choices"][0]["label"])  # its first time
        tab.send("Sore throat")
        tab.tap("Hold it and pay")
        (pay,) = [r for r in tab.last if r.get("link")]
        assert pay["link"]["label"] == "💳 Pay ₹500", pay
        assert pay["link"]["url"].startswith("http://testserver/pay/sandbox/sbx_")
        assert "http" not in tab.text() and "₹500" in pay["text"]
        page = client.get(pay["link"]["url"])
        assert page.status_code == 200 and "Dr Asha Nair" in page.text
