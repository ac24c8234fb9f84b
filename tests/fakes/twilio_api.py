"""A fake Twilio REST API (Messages, Content, Verify) for tests and benchmarks.

It runs inside the test's event loop (aiohttp.web on 127.0.0.1, free port) and answers the way
Twilio does, as far as ``shared/reference/platforms.md`` section 3 and the twilio-python 9.13
sources tell:

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: HTTP basic auth, Twilio's parameter
  checks and error codes, WhatsApp's 24-hour customer-service window (error 63016), Content
  templates with ``{{n}}`` variables, a token bucket per sender, signed status callbacks;
* ``GET .../Messages/{MessageSid}.json`` (fetch) and ``GET .../Messages/{MM}/Media/{ME}`` (media);
* ``POST /v2/Services/{ServiceSid}/Verifications`` and ``/VerificationCheck`` (Verify OTP);
* ``GET /v1/Content/{ContentSid}`` and ``/v1/Content/{ContentSid}/ApprovalRequests``;
* anything else: 404 with code 20404.

Every error has Twilio's JSON shape ``{"code", "message", "more_info", "status"}``, so
twilio-python raises ``TwilioRestException`` with ``.status`` (HTTP) and ``.code`` (Twilio's).

Where Twilio's behaviour is not documented, the fake picks something and says so here:

* ``ContentSid`` together with ``Body`` or ``MediaUrl``: 400 / 21619 (Twilio's docs only say "remove
  Body and MediaUrl when you send a content template"; the fake is strict to catch the mistake).
* WhatsApp ``To`` with an SMS ``From`` or the other way round: 400 / 21910 ("Invalid From and To
  pair"). A ``From`` that is not one of the fake's senders: 400 / 63007 (WhatsApp) or 21606 (SMS).
* A ``To`` that is not E.164 (after ``whatsapp:``): 400 / 21211. ``ContentVariables`` without
  ``ContentSid``: 400 / 21654. A variable over 1,600 characters: 400 / 21658.
* ``ContentVariables`` is refused with 21656 when it is not a JSON object of at most 100 pairs, when
  a value is null, empty or not a string/number, when a placeholder of the template has neither a
  value nor a default in the content's ``variables``, and (for approved templates) when a value
  holds a newline, a tab or more than four spaces in a row, as error 21656's page lists.
* An approved WhatsApp template whose rendered text exceeds 1,024 characters is accepted and then
  fails in its status callback with 63021.
* Verify: a ``Channel`` other than sms/whatsapp/call/email/sna/auto, or a ``To`` that is not E.164
  (an e-mail address for the email channel): 400 / 60200. ``Code`` missing: 400 / 60200.
* The 24-hour window closes when the last inbound message is *more* than 24 h before ``clock()``;
  the verification expires *more* than 10 minutes after creation.
* Status callbacks (``sent``, ``delivered``, ``read`` with ``read_receipts``, or ``failed`` with
  ``ErrorCode``) start once the 201 has been written, ``callback_delay`` seconds apart; with the
  default 0 they may still reach the app before it has processed the create response, as they can
  on Twilio. Each is posted once (no retries); ``callback_results`` has the app's answers.
* With a Messaging Service and no ``From`` the sender is ``whatsapp_from`` or ``sms_from`` by the
  channel of ``To``, and the initial status is ``accepted`` instead of ``queued``.

Usage::

    async with FakeTwilio(content={...}) as fake:
        client = Client(fake.account_sid, fake.auth_token, http_client=AsyncTwilioHttpClient())
        client.api.base_url = client.verify.base_url = client.content.base_url = fake.base_url
        await client.messages.create_async(to="whatsapp:+919876543210", from_=fake.whatsapp_from, ...)
        await fake.flush()
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import re
import secrets
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
from aiohttp import web
from twilio.request_validator import RequestValidator

TEST_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TEST_AUTH_TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f"  # Twilio auth tokens are 32 hex characters
TEST_VERIFY_SERVICE_SID = "VA" + "fedcba9876543210" * 2
API_VERSION = "2010-04-01"

MAX_BODY = 1600
MAX_MEDIA = 10
MAX_CONTENT_VARIABLES = 100
MAX_VARIABLE_LENGTH = 1600
MAX_WHATSAPP_TEMPLATE = 1024  # error 63021
WINDOW = timedelta(hours=24)
VERIFICATION_TTL = timedelta(minutes=10)
MAX_VERIFY_SENDS = 5  # error 60203
MAX_VERIFY_CHECKS = 5  # error 60202
VERIFY_CHANNELS = frozenset({"sms", "whatsapp", "call", "email", "sna", "auto"})
CALLBACK_TIMEOUT = 15.0  # seconds Twilio waits for a webhook's response

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_BAD_TEMPLATE_VALUE = re.compile(r"[\n\t]| {5,}")

OUTSIDE_WINDOW = (
    "Failed to send freeform message because you are outside the allowed window. "
    "If you are using WhatsApp, please use a Message Template."
)
# What to run once the response has been written (set by a handler on its request).
AFTER_RESPONSE = web.RequestKey[Callable[[], None]]("twilio_fake.after_response")
# What Twilio reports after accepting a message that goes through, in order.
DELIVERY_STATUSES = ("sent", "delivered")


# --------------------------------------------------------------------------------------------------
# Records


class TwilioError(Exception):
    """A refusal in Twilio's JSON error shape; ``status`` is the HTTP status, ``code`` Twilio's."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }

    def response(self) -> web.Response:
        response = web.json_response(self.body(), status=self.status)
        if self.status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return response


def _bad(code: int, message: str) -> TwilioError:
    return TwilioError(400, code, message)


def _not_found(path: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


@dataclass
class RequestRecord:
    """One request to the fake, refused or not. ``params`` holds every value of every field
    (query string and form), ``code`` is Twilio's error code when refused."""

    method: str
    path: str
    params: dict[str, list[str]]
    kind: str | None
    status: int = 0
    code: int | None = None

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


@dataclass
class SentMessage:
    """A message Twilio accepted. ``rendered`` is what the user would read (the Body, or the
    template's body with its variables substituted); ``statuses`` is its history, starting with
    the status the create call returned, then every status reported since."""

    sid: str
    to: str
    from_: str
    body: str
    media_urls: list[str]
    content_sid: str | None
    content_variables: dict[str, str]
    rendered: str
    status_callback: str | None
    messaging_service_sid: str | None
    date_created: datetime
    statuses: list[str]
    error_code: int | None = None
    fails_with: int | None = field(default=None, repr=False)  # what its life cycle will report

    @property
    def status(self) -> str:
        return self.statuses[-1]

    @property
    def whatsapp(self) -> bool:
        return self.to.startswith("whatsapp:")


@dataclass
class CallbackResult:
    """One status callback the fake posted: the app's HTTP status, or the connection error."""

    message_sid: str
    status: str
    url: str
    params: dict[str, str]
    status_code: int | None
    error: str | None = None


@dataclass
class Media:
    """A media file "on Twilio's servers", served at ``url`` to authenticated GETs."""

    sid: str
    message_sid: str
    url: str
    data: bytes = field(repr=False)
    content_type: str
    downloads: int = 0


@dataclass
class Verification:
    """A Verify verification. ``codes`` lists every code sent (the last one is valid)."""

    sid: str
    service_sid: str
    to: str
    channel: str
    created_at: datetime
    updated_at: datetime
    status: str = "pending"
    codes: list[str] = field(default_factory=list)
    send_attempts: list[dict[str, Any]] = field(default_factory=list)
    wrong_checks: int = 0

    @property
    def code(self) -> str:
        return self.codes[-1]


class _Bucket:
    """Token bucket: ``rate`` tokens a second, holding at most ``burst`` (real time, not ``clock``)."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# --------------------------------------------------------------------------------------------------
# Small helpers


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _number(address: str) -> str:
    """The phone number of an address, without the channel prefix."""
    return address.removeprefix("whatsapp:")


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _basic_auth(header: str) -> tuple[str, str]:
    """(login, password) of a Basic Authorization header; empty strings when there is none."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        login, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return "", ""
    return login, password


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def _read_params(request: web.Request) -> dict[str, list[str]]:
    """Query string plus url-encoded form, every value kept (MediaUrl repeats)."""
    params: dict[str, list[str]] = {}
    pairs: list[tuple[str, Any]] = list(request.query.items())
    if request.body_exists and request.content_type == "application/x-www-form-urlencoded":
        pairs += list((await request.post()).items())
    for key, value in pairs:
        params.setdefault(key, []).append(str(value))
    return params


def _one(params: dict[str, list[str]], name: str) -> str:
    """The first value of a field, "" when absent (Twilio treats an empty field as missing)."""
    values = params.get(name)
    return values[0] if values else ""


def _content_body(content: dict[str, Any], whatsapp: bool) -> str:
    """The text a content template shows: on WhatsApp its rich type (quick-reply, list-picker...)
    rather than the twilio/text fallback, on SMS that fallback."""
    types: dict[str, dict[str, Any]] = content.get("types", {})
    text = types.get("twilio/text", {})
    rich = [shape for name, shape in types.items() if name != "twilio/text" and "body" in shape]
    candidates = [*rich, text] if whatsapp else [text, *rich]
    return next((shape["body"] for shape in candidates if "body" in shape), "")


def _parse_content_variables(raw: str, approved: bool) -> dict[str, str]:
    """ContentVariables as Twilio accepts it: a JSON object string of at most 100 non-empty values."""
    try:
        variables = json.loads(raw) if raw else {}
    except ValueError:
        raise _bad(21656, "The ContentVariables Parameter is invalid") from None
    if not isinstance(variables, dict) or len(variables) > MAX_CONTENT_VARIABLES:
        raise _bad(21656, "The ContentVariables Parameter is invalid")
    parsed: dict[str, str] = {}
    for key, value in variables.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float) or str(value) == "":
            raise _bad(21656, "The ContentVariables Parameter is invalid")
        text = str(value)
        if len(text) > MAX_VARIABLE_LENGTH:
            raise _bad(21658, "Parameter exceeded character limit")
        if approved and _BAD_TEMPLATE_VALUE.search(text):
            raise _bad(21656, "The ContentVariables Parameter is invalid")
        parsed[str(key)] = text
    return parsed


def _render(template: str, variables: dict[str, str], defaults: dict[str, str]) -> str:
    """Replaces ``{{n}}`` with the variable, else the content's default; neither is 21656."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        value = variables.get(name, defaults.get(name))
        if not name or value in (None, ""):
            raise _bad(21656, "The ContentVariables Parameter is invalid")
        return str(value)

    return _PLACEHOLDER.sub(substitute, template)


# --------------------------------------------------------------------------------------------------
# The fake


Handler = Callable[[web.Request, dict[str, list[str]]], Awaitable[web.StreamResponse]]
Endpoint = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeTwilio:
    """A fake Twilio REST API (see the module docstring).

    ``start()`` returns the base URL (also in ``base_url``) for ``client.api.base_url`` and friends.
    What the app did: ``requests`` (every request), ``messages`` (accepted messages),
    ``messages_to(to)``, ``callback_results``, ``verifications``, ``verify_code(to)``, ``media``.
    What the test arranges: ``open_window`` / ``close_window``, ``inbound_params`` + ``post_inbound``,
    ``add_media``, ``fail_next``, ``send_status``, ``flush``; the attributes ``auto_callbacks``
    (default True) and ``read_receipts`` (default False).
    """

    def __init__(
        self,
        *,
        account_sid: str = TEST_ACCOUNT_SID,
        auth_token: str = TEST_AUTH_TOKEN,
        whatsapp_from: str = "whatsapp:+14155550100",
        sms_from: str = "+14155550101",
        verify_service_sid: str = TEST_VERIFY_SERVICE_SID,
        content: dict[str, dict[str, Any]] | None = None,
        per_sender_per_second: float = 80,
        window_error: str = "callback",
        clock: Callable[[], datetime] | None = None,
        callback_delay: float = 0.0,
    ):
        if window_error not in ("callback", "sync"):
            raise ValueError("window_error must be 'callback' or 'sync'")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.whatsapp_from = whatsapp_from
        self.sms_from = sms_from
        self.verify_service_sid = verify_service_sid
        self.content: dict[str, dict[str, Any]] = dict(content or {})
        self.per_sender_per_second = per_sender_per_second
        self.window_error = window_error
        self.clock: Callable[[], datetime] = clock or _utc_now
        self.callback_delay = callback_delay
        self.auto_callbacks = True
        self.read_receipts = False
        self.base_url = ""
        self.requests: list[RequestRecord] = []
        self.messages: list[SentMessage] = []
        self.callback_results: list[CallbackResult] = []
        self.verifications: list[Verification] = []
        self.media: dict[str, Media] = {}  # by URL
        self.last_inbound: dict[str, datetime] = {}  # by phone number (no "whatsapp:")
        self._failures: dict[str, deque[TwilioError]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._http: httpx.AsyncClient | None = None

    # ---- lifecycle

    async def start(self) -> str:
        app = web.Application()
        accounts = "/2010-04-01/Accounts/{account}"
        routes: list[tuple[str, str, str | None, Handler]] = [
            ("POST", accounts + "/Messages.json", "messages", self._create_message),
            ("GET", accounts + "/Messages/{sid}.json", "fetch", self._fetch_message),
            ("GET", accounts + "/Messages/{message}/Media/{media}", "media", self._download_media),
            ("POST", "/v2/Services/{service}/Verifications", "verify", self._create_verification),
            ("POST", "/v2/Services/{service}/VerificationCheck", "check", self._check_verification),
            ("GET", "/v1/Content/{sid}", "content", self._fetch_content),
            ("GET", "/v1/Content/{sid}/ApprovalRequests", "content", self._fetch_approval),
        ]
        for method, path, kind, handler in routes:
            app.router.add_route(method, path, self._endpoint(kind, handler))
        app.router.add_route("*", "/{tail:.*}", self._endpoint(None, self._unknown, authenticate=False))
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self._http = httpx.AsyncClient(timeout=CALLBACK_TIMEOUT)
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        """Stops the server; callbacks still pending are cancelled (``flush()`` first to keep them)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> FakeTwilio:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- what tests use

    def messages_to(self, to: str) -> list[SentMessage]:
        """Accepted messages to that address; a bare number matches both WhatsApp and SMS."""
        return [m for m in self.messages if to in (m.to, _number(m.to))]

    def message(self, sid: str) -> SentMessage:
        return next(m for m in self.messages if m.sid == sid)

    def open_window(self, number: str, at: datetime | None = None) -> None:
        """Records an inbound message from that user (``whatsapp:`` optional) at ``at`` or now."""
        self.last_inbound[_number(number)] = at or self.clock()

    def close_window(self, number: str) -> None:
        self.last_inbound.pop(_number(number), None)

    def in_window(self, number: str) -> bool:
        last = self.last_inbound.get(_number(number))
        return last is not None and self.clock() - last <= WINDOW

    def verify_code(self, to: str) -> str:
        """The code most recently sent to ``to`` (KeyError when none was)."""
        for verification in reversed(self.verifications):
            if verification.to == to:
                return verification.code
        raise KeyError(to)

    def fail_next(
        self,
        kind: str = "messages",
        *,
        status: int = 500,
        code: int = 20500,
        times: int = 1,
        message: str = "Internal Server Error",
    ) -> None:
        """The next ``times`` requests of ``kind`` (messages, fetch, verify, check, media, content)
        fail with this status and code, before any other check (authentication included)."""
        queue = self._failures.setdefault(kind, deque())
        queue.extend(TwilioError(status, code, message) for _ in range(times))

    def add_media(self, data: bytes, content_type: str, *, message_sid: str | None = None) -> str:
        """Stores a media file and returns its URL; GETs with the account's basic auth get it."""
        message_sid = message_sid or _sid("MM")
        sid = _sid("ME")
        url = f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{sid}"
        self.media[url] = Media(sid, message_sid, url, data, content_type)
        return url

    def sign(self, url: str, params: dict[str, str]) -> str:
        """``X-Twilio-Signature`` for a form posted to ``url``, as Twilio computes it."""
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def inbound_params(
        self,
        from_number: str,
        body: str = "",
        *,
        media: Iterable[tuple[bytes, str]] = (),
        button_payload: str | None = None,
        button_text: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        profile_name: str = "Asha",
        extra: dict[str, str] | None = None,
    ) -> dict[str, str]:
        """The form Twilio posts for an inbound WhatsApp message from ``from_number``.

        Media is stored with ``add_media`` under the message, whose SID starts with MM when it
        carries media (as Twilio's do) and SM otherwise. A tapped quick-reply button sets
        ButtonPayload/ButtonText and, like Twilio, uses the button's text as Body."""
        media = list(media)
        sid = _sid("MM" if media else "SM")
        number = _number(from_number)
        if button_text is not None and not body:
            body = button_text
        params = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.account_sid,
            "From": "whatsapp:" + number,
            "To": self.whatsapp_from,
            "Body": body,
            "NumMedia": str(len(media)),
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
            "WaId": number.removeprefix("+"),
            "ProfileName": profile_name,
            "MessageType": _message_type(media, button_payload, latitude),
        }
        for index, (data, content_type) in enumerate(media):
            params[f"MediaUrl{index}"] = self.add_media(data, content_type, message_sid=sid)
            params[f"MediaContentType{index}"] = content_type
        if button_payload is not None:
            params["ButtonPayload"] = button_payload
            params["ButtonText"] = button_text if button_text is not None else body
        if latitude is not None and longitude is not None:
            params["Latitude"], params["Longitude"] = str(latitude), str(longitude)
        params.update(extra or {})
        return params

    async def post_inbound(
        self,
        post_url: str,
        params: dict[str, str],
        *,
        signed_url: str | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        """Posts an inbound form to the app as Twilio would, signed over ``signed_url or post_url``
        (the public URL the app is configured with may differ from where it listens).

        ``signature`` sends exactly that header instead ("" sends none): a forged request. Only a
        genuine one (no ``signature``) opens the sender's 24-hour window."""
        if signature is None:
            signature = self.sign(signed_url or post_url, params)
            if params.get("From", "").startswith("whatsapp:"):
                self.open_window(params["From"])
        headers = {"User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
        if signature:
            headers["X-Twilio-Signature"] = signature
        return await self._client().post(post_url, data=params, headers=headers)

    async def send_status(
        self, sid: str, status: str, error_code: int | None = None
    ) -> CallbackResult | None:
        """Reports one status of a message now (recorded in its history; posted when it has a
        StatusCallback), so tests can deliver statuses out of order."""
        return await self._report(self.message(sid), status, error_code)

    async def flush(self) -> None:
        """Waits until every pending automatic status callback has been delivered."""
        while pending := [task for task in self._tasks if not task.done()]:
            await asyncio.gather(*pending)
        for task in self._tasks:
            task.result()  # raises a failure inside the fake itself
        self._tasks.clear()

    # ---- HTTP plumbing

    def _endpoint(self, kind: str | None, handler: Handler, *, authenticate: bool = True) -> Endpoint:
        """Wraps a handler with what every endpoint does: injected failures, basic auth, Twilio's
        error body, and a record in ``requests``."""

        async def endpoint(request: web.Request) -> web.StreamResponse:
            params = await _read_params(request)
            record = RequestRecord(request.method, request.path, params, kind)
            try:
                failures = self._failures.get(kind or "")
                if failures:
                    raise failures.popleft()
                if authenticate:
                    self._authenticate(request)
                response = await handler(request, params)
            except TwilioError as error:
                response, record.code = error.response(), error.code
            response.headers["Twilio-Request-Id"] = _sid("RQ")
            record.status = response.status
            self.requests.append(record)
            after_response = request.get(AFTER_RESPONSE)
            if after_response is not None:
                # Like Twilio, answer the create before the first status callback can start.
                await response.prepare(request)
                await response.write_eof()
                after_response()
            return response

        return endpoint

    def _authenticate(self, request: web.Request) -> None:
        """Basic auth must be (AccountSid, AuthToken), and a path's AccountSid must be that account."""
        login, password = _basic_auth(request.headers.get("Authorization", ""))
        valid = (
            hmac.compare_digest(login.encode(), self.account_sid.encode())
            and hmac.compare_digest(password.encode(), self.auth_token.encode())
            and request.match_info.get("account", self.account_sid) == self.account_sid
        )
        if not valid:
            raise TwilioError(401, 20003, "Authenticate")

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("FakeTwilio is not started")
        return self._http

    async def _unknown(self, request: web.Request, params: dict[str, list[str]]) -> web.StreamResponse:
        raise _not_found(request.path)

    # ---- Messages

    async def _create_message(self, request: web.Request, params: dict[str, list[str]]) -> web.StreamResponse:
        to, given_from, service = (
            _one(params, "To"),
            _one(params, "From"),
            _one(params, "MessagingServiceSid"),
        )
        from_ = self._check_addresses(to, given_from, service)
        body, media_urls = _one(params, "Body"), [url for url in params.get("MediaUrl", []) if url]
        content_sid, raw_variables = _one(params, "ContentSid"), _one(params, "ContentVariables")
        _check_payload(body, media_urls, content_sid, raw_variables)
        whatsapp = to.startswith("whatsapp:")
        rendered, variables, approved = body, {}, False
        if content_sid:
            content = self.content.get(content_sid)
            if content is None:
                raise _bad(21655, "The ContentSid is Invalid")
            approved = bool(content.get("approved"))
            variables = _parse_content_variables(raw_variables, approved)
            rendered = _render(_content_body(content, whatsapp), variables, content.get("variables", {}))
        fails_with = None
        if whatsapp and not approved and not self.in_window(to):
            if self.window_error == "sync":
                raise _bad(63016, OUTSIDE_WINDOW)
            fails_with = 63016
        elif whatsapp and content_sid and len(rendered) > MAX_WHATSAPP_TEMPLATE:
            fails_with = 63021
        self._take_token(given_from or service)
        message = SentMessage(
            sid=_sid("SM"),
            to=to,
            from_=from_,
            body=rendered,
            media_urls=media_urls,
            content_sid=content_sid or None,
            content_variables=variables,
            rendered=rendered,
            status_callback=_one(params, "StatusCallback") or None,
            messaging_service_sid=service or None,
            date_created=self.clock(),
            statuses=["accepted" if service else "queued"],
            fails_with=fails_with,
        )
        self.messages.append(message)
        if self.auto_callbacks:
            request[AFTER_RESPONSE] = lambda: self._spawn(self._life_cycle(message))
        return web.json_response(self._message_json(message), status=201)

    def _check_addresses(self, to: str, from_: str, service: str) -> str:
        """Checks To and From the way Twilio does; returns the sender (chosen for a Messaging Service)."""
        if not to:
            raise _bad(21604, "A 'To' phone number is required.")
        if not from_ and not service:
            raise _bad(21603, "A 'From' phone number is required.")
        if not _E164.fullmatch(_number(to)):
            raise _bad(21211, f"Invalid 'To' Phone Number: {to}")
        whatsapp = to.startswith("whatsapp:")
        if not from_:
            return self.whatsapp_from if whatsapp else self.sms_from
        if whatsapp != from_.startswith("whatsapp:"):
            raise _bad(21910, "Invalid From and To pair. From and To should be of the same channel")
        if whatsapp and from_ != self.whatsapp_from:
            raise _bad(63007, "Twilio could not find a Channel with the specified From address")
        if not whatsapp and from_ != self.sms_from:
            raise _bad(
                21606,
                f"The From phone number {from_} is not a valid, SMS-capable inbound phone number "
                "or short code for your account.",
            )
        return from_

    def _take_token(self, sender: str) -> None:
        rate = self.per_sender_per_second
        bucket = self._buckets.setdefault(sender, _Bucket(rate, max(1.0, rate)))
        if not bucket.take():
            raise TwilioError(429, 20429, "Too Many Requests")

    async def _fetch_message(self, request: web.Request, params: dict[str, list[str]]) -> web.StreamResponse:
        sid = request.match_info["sid"]
        message = next((m for m in self.messages if m.sid == sid), None)
        if message is None:
            raise _not_found(request.path)
        return web.json_response(self._message_json(message))

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        created = _rfc2822(message.date_created)
        return {
            "sid": message.sid,
            "account_sid": self.account_sid,
            "to": message.to,
            "from": message.from_,
            "body": message.body,
            "status": message.status,
            "num_media": str(len(message.media_urls)),
            "num_segments": "1",
            "direction": "outbound-api",
            "date_created": created,
            "date_updated": created,
            "date_sent": None,
            "error_code": message.error_code,
            "error_message": None,
            "uri": uri + ".json",
            "api_version": API_VERSION,
            "messaging_service_sid": message.messaging_service_sid,
            "price": None,
            "price_unit": "USD",
            "subresource_uris": {"media": uri + "/Media.json"},
        }

    # ---- status callbacks

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        self._tasks.add(asyncio.ensure_future(coroutine))

    async def _life_cycle(self, message: SentMessage) -> None:
        """What Twilio reports after accepting a message: failed, or sent → delivered (→ read)."""
        if message.fails_with is not None:
            statuses: tuple[str, ...] = ("failed",)
        else:
            statuses = DELIVERY_STATUSES + (("read",) if self.read_receipts and message.whatsapp else ())
        for status in statuses:
            await asyncio.sleep(self.callback_delay)
            await self._report(message, status, message.fails_with)

    async def _report(
        self, message: SentMessage, status: str, error_code: int | None
    ) -> CallbackResult | None:
        message.statuses.append(status)
        if error_code is not None:
            message.error_code = error_code
        if not message.status_callback:
            return None
        return await self._post_callback(message, status, error_code)

    async def _post_callback(
        self, message: SentMessage, status: str, error_code: int | None
    ) -> CallbackResult:
        url = message.status_callback or ""
        params = {
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "From": message.from_,
            "To": message.to,
            "ApiVersion": API_VERSION,
        }
        if message.whatsapp:
            params["ChannelPrefix"] = "whatsapp"
            params["ChannelToAddress"] = _number(message.to)
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        headers = {
            "X-Twilio-Signature": self.sign(url, params),
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        result = CallbackResult(message.sid, status, url, params, None)
        try:
            response = await self._client().post(url, data=params, headers=headers)
            result.status_code = response.status_code
        except httpx.HTTPError as error:
            result.error = repr(error)
        self.callback_results.append(result)
        return result

    # ---- Media

    async def _download_media(self, request: web.Request, params: dict[str, list[str]]) -> web.StreamResponse:
        media = self.media.get(self.base_url + request.path)
        if media is None:
            raise _not_found(request.path)
        media.downloads += 1
        return web.Response(body=media.data, headers={"Content-Type": media.content_type})

    # ---- Verify

    def _service(self, request: web.Request) -> str:
        service = request.match_info["service"]
        if service != self.verify_service_sid:
            raise _not_found(request.path)
        return service

    async def _create_verification(
        self, request: web.Request, params: dict[str, list[str]]
    ) -> web.StreamResponse:
        service = self._service(request)
        to, channel = _one(params, "To"), _one(params, "Channel")
        if channel not in VERIFY_CHANNELS:
            raise _bad(60200, "Invalid parameter: Channel")
        if not (_EMAIL if channel == "email" else _E164).fullmatch(to):
            raise _bad(60200, "Invalid parameter: To")
        now = self.clock()
        verification = self._latest(to)
        if verification is None or not self._still_pending(verification):
            verification = Verification(_sid("VE"), service, to, channel, now, now)
            self.verifications.append(verification)
        elif len(verification.send_attempts) >= MAX_VERIFY_SENDS:
            raise TwilioError(429, 60203, "Max send attempts reached")
        code = _one(params, "CustomCode") or f"{secrets.randbelow(10**6):06d}"
        verification.codes.append(code)
        verification.channel, verification.updated_at = channel, now
        verification.send_attempts.append({"attempt_sid": _sid("VL"), "channel": channel, "time": _iso(now)})
        return web.json_response(self._verification_json(verification), status=201)

    def _latest(self, to: str) -> Verification | None:
        return next((v for v in reversed(self.verifications) if v.to == to), None)

    def _still_pending(self, verification: Verification) -> bool:
        """Whether it can still be checked; marks it expired once its 10 minutes are over."""
        if verification.status == "pending" and self.clock() - verification.created_at > VERIFICATION_TTL:
            verification.status = "expired"
        return verification.status == "pending"

    async def _check_verification(
        self, request: web.Request, params: dict[str, list[str]]
    ) -> web.StreamResponse:
        self._service(request)
        code, to, sid = _one(params, "Code"), _one(params, "To"), _one(params, "VerificationSid")
        if not code:
            raise _bad(60200, "Invalid parameter: Code")
        if sid:
            verification = next((v for v in self.verifications if v.sid == sid), None)
        else:
            verification = self._latest(to)
        if verification is None or not self._still_pending(verification):
            raise _not_found(request.path)
        if verification.wrong_checks >= MAX_VERIFY_CHECKS:
            raise TwilioError(429, 60202, "Max check attempts reached")
        verification.updated_at = self.clock()
        if hmac.compare_digest(code, verification.code):
            verification.status = "approved"
        else:
            verification.wrong_checks += 1
        return web.json_response(self._check_json(verification))

    def _verification_json(self, verification: Verification) -> dict[str, Any]:
        return {
            "sid": verification.sid,
            "service_sid": verification.service_sid,
            "account_sid": self.account_sid,
            "to": verification.to,
            "channel": verification.channel,
            "status": verification.status,
            "valid": verification.status == "approved",
            "lookup": {},
            "amount": None,
            "payee": None,
            "send_code_attempts": list(verification.send_attempts),
            "date_created": _iso(verification.created_at),
            "date_updated": _iso(verification.updated_at),
            "sna": None,
            "url": f"{self.base_url}/v2/Services/{verification.service_sid}/Verifications/{verification.sid}",
        }

    def _check_json(self, verification: Verification) -> dict[str, Any]:
        return {
            "sid": verification.sid,
            "service_sid": verification.service_sid,
            "account_sid": self.account_sid,
            "to": verification.to,
            "channel": verification.channel,
            "status": verification.status,
            "valid": verification.status == "approved",
            "amount": None,
            "payee": None,
            "date_created": _iso(verification.created_at),
            "date_updated": _iso(verification.updated_at),
            "sna_attempts_error_codes": [],
        }

    # ---- Content

    def _content(self, request: web.Request) -> tuple[str, dict[str, Any]]:
        sid = request.match_info["sid"]
        if sid not in self.content:
            raise _not_found(request.path)
        return sid, self.content[sid]

    async def _fetch_content(self, request: web.Request, params: dict[str, list[str]]) -> web.StreamResponse:
        sid, content = self._content(request)
        url = f"{self.base_url}/v1/Content/{sid}"
        return web.json_response(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "friendly_name": content.get("friendly_name", ""),
                "language": content.get("language", "en"),
                "variables": content.get("variables", {}),
                "types": content.get("types", {}),
                "url": url,
                "date_created": _iso(self.clock()),
                "date_updated": _iso(self.clock()),
                "links": {
                    "approval_fetch": url + "/ApprovalRequests",
                    "approval_create": url + "/ApprovalRequests/whatsapp",
                },
            }
        )

    async def _fetch_approval(self, request: web.Request, params: dict[str, list[str]]) -> web.StreamResponse:
        sid, content = self._content(request)
        whatsapp = {
            "type": "whatsapp",
            "name": content.get("friendly_name", ""),
            "category": content.get("category", "UTILITY"),
            "content_type": next(iter(content.get("types", {})), ""),
            "status": "approved" if content.get("approved") else "unsubmitted",
            "rejection_reason": "",
            "allow_category_change": True,
        }
        url = f"{self.base_url}/v1/Content/{sid}/ApprovalRequests"
        return web.json_response(
            {"sid": sid, "account_sid": self.account_sid, "whatsapp": whatsapp, "url": url}
        )


def _check_payload(body: str, media_urls: list[str], content_sid: str, raw_variables: str) -> None:
    """What a message carries: text, media or a content template (not a mix), within limits."""
    if raw_variables and not content_sid:
        raise _bad(21654, "ContentSid Required")
    if not (body or media_urls or content_sid):
        raise _bad(21619, "A text message body or media urls must be specified.")
    if content_sid and (body or media_urls):
        raise _bad(21619, "Remove Body and MediaUrl when you send a content template (ContentSid). (fake)")
    if len(body) > MAX_BODY:
        raise _bad(21617, "The concatenated message body exceeds the 1600 character limit.")
    if len(media_urls) > MAX_MEDIA:
        raise _bad(21623, "Number of media files exceeds allowed limit")


def _message_type(media: list[tuple[bytes, str]], button_payload: str | None, latitude: float | None) -> str:
    """Twilio's MessageType for an inbound WhatsApp message."""
    if button_payload is not None:
        return "button"
    if latitude is not None:
        return "location"
    if media:
        kind = media[0][1].split("/", 1)[0]
        return kind if kind in ("image", "audio", "video") else "document"
    return "text"
