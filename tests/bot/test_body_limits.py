"""Every HTTP entry bounds its body while it is read: past its limit it answers 413 with a reason,
whether the client declared the length or streamed the body in chunks; under it the route answers
as usual. (The memory this saves is measured in test_body_memory.py.)"""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from backend.models import InboxMessage, PaymentEvent, StoredFile
from bot.app import create_app
from bot.body_limits import DEFAULT_LIMIT, MAX_UPLOAD_BYTES, BodyLimitMiddleware, BodyTooLarge, limit_for
from bot.telegram.settings import TelegramMode, TelegramSettings
from bot.web.routes import COOKIE
from bot.whatsapp.settings import TwilioSettings

SECRET = "body-limits-Secret"
TWILIO_TOKEN = "twilio-auth-token-for-tests"
BASE = "http://testserver"
NOWHERE = "http://127.0.0.1:9"  # nothing is sent in these tests; if it were, it would fail fast
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
BOUNDARY = "telecareBoundary"


@pytest.fixture
async def app(settings):
    telegram = TelegramSettings(
        _env_file=None,
        bot_token="123456:TEST",
        mode=TelegramMode.WEBHOOK,
        webhook_secret=SECRET,
        api_base_url=NOWHERE,
    )
    twilio = TwilioSettings(
        _env_file=None,
        account_sid="AC" + "0" * 32,
        auth_token=TWILIO_TOKEN,
        whatsapp_from="whatsapp:+14155238886",
        api_base_url=NOWHERE,
    )
    app = create_app(settings, telegram, twilio)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


async def count(app, model) -> int:
    async with app.state.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


# ---- what each entry is sent: a body of exactly `size` bytes that the route would take


def _json(document: dict, size: int) -> bytes:
    body = json.dumps(document).encode()
    return body + b" " * (size - len(body))  # JSON allows trailing white space


def payment_event(app, size: int) -> tuple[bytes, dict]:
    body = _json({"id": "evt_" + secrets.token_hex(6), "type": "checkout.nothing", "data": {}}, size)
    headers = app.state.gateways.get("sandbox").sign(body, datetime.now(UTC))
    return body, {"content-type": "application/json", **headers}


def telegram_update(app, size: int) -> tuple[bytes, dict]:
    update = {"update_id": secrets.randbelow(10**9), "poll": {"id": "p1"}}  # a kind we ignore
    return _json(update, size), {
        "content-type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": SECRET,
    }


def _twilio_form(path: str, fields: dict[str, str], size: int) -> tuple[bytes, dict]:
    base = urllib.parse.urlencode({**fields, "Pad": ""})
    fields = {**fields, "Pad": "x" * (size - len(base))}  # Twilio adds fields: all are signed
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(BASE + path, fields)
    headers = {"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return urllib.parse.urlencode(fields).encode(), headers


def whatsapp_message(app, size: int) -> tuple[bytes, dict]:
    body, headers = _twilio_form(
        "/webhooks/whatsapp", {"MessageSid": "SM" + "1" * 32, "From": "whatsapp:+919876500001"}, size
    )
    return body, {**headers, "X-Twilio-Signature": "bm90IHNpZ25lZA=="}  # refused after it is read


def whatsapp_status(app, size: int) -> tuple[bytes, dict]:
    fields = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"}
    return _twilio_form("/webhooks/whatsapp/status", fields, size)


UPLOAD_HEAD = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="licence.pdf"\r\n'
    "Content-Type: application/pdf\r\n\r\n"
).encode()
UPLOAD_TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(app, size: int) -> tuple[bytes, dict]:
    file = PDF + b"%" * (size - len(UPLOAD_HEAD) - len(PDF) - len(UPLOAD_TAIL))
    return UPLOAD_HEAD + file + UPLOAD_TAIL, {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def admin_rejection(app, size: int) -> tuple[bytes, dict]:
    return _json({"reason": "Licence unreadable"}, size), {"content-type": "application/json"}


def persona(app, size: int) -> tuple[bytes, dict]:
    return _json({"persona": "nobody"}, size), {"content-type": "application/json"}


@dataclass(frozen=True)
class Entry:
    path: str
    make: Callable[..., tuple[bytes, dict]]
    answer: int  # the route's own answer to the body `make` builds, under the limit

    @property
    def limit(self) -> int:
        return limit_for(self.path).max_bytes

    @property
    def under(self) -> int:
        """A size under the limit that the route takes (an upload's file may have 10 MB)."""
        if self.path == "/web/upload":
            return len(UPLOAD_HEAD) + MAX_UPLOAD_BYTES + len(UPLOAD_TAIL)
        return self.limit - 512


ENTRIES = {
    "payment webhook": Entry("/api/payments/webhooks/sandbox", payment_event, 200),
    "telegram": Entry("/webhooks/telegram", telegram_update, 200),
    "whatsapp": Entry("/webhooks/whatsapp", whatsapp_message, 403),  # read, then the signature fails
    "whatsapp status": Entry("/webhooks/whatsapp/status", whatsapp_status, 204),
    "web upload": Entry("/web/upload", upload, 200),
    "admin api": Entry("/api/admin/applications/doctor/x/reject", admin_rejection, 401),  # no token
    "anything else": Entry("/web/persona", persona, 404),  # no such persona
}


async def chunks(body: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def post(app, client, entry: Entry, size: int, *, chunked: bool) -> httpx.Response:
    if entry.path == "/web/upload":
        await client.get("/")  # the chat's session cookie
        assert client.cookies.get(COOKIE)
    body, headers = entry.make(app, size)
    assert len(body) == size
    response = await client.post(entry.path, content=chunks(body) if chunked else body, headers=headers)
    await app.state.telegram.idle()
    return response


def test_the_limits_are_the_documented_ones():
    limits = {name: entry.limit for name, entry in ENTRIES.items()}
    assert limits == {
        "payment webhook": 512 * 1024,
        "telegram": 1024 * 1024,
        "whatsapp": 64 * 1024,
        "whatsapp status": 64 * 1024,
        "web upload": 10 * 1024 * 1024 + 64 * 1024,
        "admin api": 64 * 1024,
        "anything else": DEFAULT_LIMIT.max_bytes,
    }
    assert DEFAULT_LIMIT.max_bytes == 64 * 1024


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("name", ENTRIES)
async def test_past_its_limit_every_entry_answers_413_with_a_reason(app, client, name, chunked):
    entry = ENTRIES[name]
    response = await post(app, client, entry, entry.limit + 1, chunked=chunked)
    assert response.status_code == 413, response.text
    assert response.json()["detail"] == limit_for(entry.path).reason
    assert response.headers["connection"] == "close"  # the server stops reading the rest
    # The route did nothing with it.
    assert await count(app, InboxMessage) == 0
    assert await count(app, PaymentEvent) == 0
    assert await count(app, StoredFile) == 0


async def _asked_for_a_file(channel: str, chat_id: str) -> bool:
    return True


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("name", ENTRIES)
async def test_under_its_limit_every_entry_answers_as_before(app, client, name, chunked):
    entry = ENTRIES[name]
    if name == "web upload":  # the chat is at a step that takes a file (an application's licence)
        app.state.engine.expects_file = _asked_for_a_file
    response = await post(app, client, entry, entry.under, chunked=chunked)
    assert response.status_code == entry.answer, response.text[:300]
    if name == "telegram":
        assert await count(app, InboxMessage) == 1
    if name == "payment webhook":
        assert await count(app, PaymentEvent) == 1


def test_the_upload_page_shows_the_reason():
    """app.js shows `error` or `detail` of a refused upload; the 413 speaks to the patient."""
    assert "10 MB" in limit_for("/web/upload").reason
    script = (Path(__file__).resolve().parents[2] / "bot" / "web" / "static" / "app.js").read_text()
    assert "data.error || data.detail" in script


# ---- the middleware alone: one answer, whatever the route does with its cut body


async def _drive(app, body: list[bytes], headers=()) -> list[dict]:
    sent: list[dict] = []
    messages = [
        {"type": "http.request", "body": part, "more_body": i < len(body) - 1} for i, part in enumerate(body)
    ]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/web/persona", "headers": list(headers)}
    await BodyLimitMiddleware(app)(scope, receive, send)  # never raises
    return sent


def _starts(sent: list[dict]) -> list[int]:
    return [m["status"] for m in sent if m["type"] == "http.response.start"]


async def _read_all(receive) -> bytes:
    data = b""
    while True:
        message = await receive()
        data += message.get("body", b"")
        if not message.get("more_body"):
            return data


async def test_a_route_that_catches_the_cut_and_answers_itself_is_not_heard():
    async def route(scope, receive, send):
        try:
            await _read_all(receive)
        except Exception:  # as our upload and WhatsApp routes do with their parsers' errors
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"malformed"})

    sent = await _drive(route, [b"x" * 40_000, b"x" * 40_000])
    assert _starts(sent) == [413]
    assert json.loads(sent[1]["body"]) == {"detail": DEFAULT_LIMIT.reason}


async def test_a_route_that_lets_the_cut_escape_ends_with_the_413_and_no_error():
    async def route(scope, receive, send):
        await _read_all(receive)  # BodyTooLarge escapes
        raise AssertionError("not reached")

    assert _starts(await _drive(route, [b"x" * 40_000] * 3)) == [413]


async def test_a_route_reading_again_after_the_cut_gets_the_same_exception():
    seen: list[str] = []

    async def route(scope, receive, send):
        for _ in range(2):
            try:
                await _read_all(receive)
            except BodyTooLarge:
                seen.append("cut")

    assert _starts(await _drive(route, [b"x" * 70_000, b"x"])) == [413]
    assert seen == ["cut", "cut"]


async def test_a_declared_length_past_the_limit_never_reaches_the_route():
    async def route(scope, receive, send):
        raise AssertionError("the route ran")

    sent = await _drive(route, [b""], headers=[(b"content-length", b"70000")])
    assert _starts(sent) == [413]


async def test_a_body_at_the_limit_is_whole_for_the_route():
    got: list[int] = []

    async def route(scope, receive, send):
        got.append(len(await _read_all(receive)))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limit = DEFAULT_LIMIT.max_bytes
    assert _starts(await _drive(route, [b"x" * (limit - 10), b"x" * 10])) == [204]
    assert got == [limit]


async def test_a_route_answering_without_reading_its_body_is_heard_within_the_limit_only():
    """The rest is read for it (and thrown away) up to the limit: uvicorn, left to itself, would
    read and discard all 200 MB of it."""

    async def route(scope, receive, send):
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    chunked = [(b"transfer-encoding", b"chunked")]
    assert _starts(await _drive(route, [b"x" * 1000, b"x"], headers=chunked)) == [401]
    assert _starts(await _drive(route, [b"x" * 40_000] * 100, headers=chunked)) == [413]
    assert _starts(await _drive(route, [b""])) == [401]  # no body at all
