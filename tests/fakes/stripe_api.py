"""A fake Stripe API (Checkout Sessions, Refunds) and Stripe-signed webhook events, for tests.

It runs inside the test's event loop (aiohttp.web on 127.0.0.1, a free port) and answers the way
Stripe does, as far as ``shared/reference/platforms.md`` section 4 and the stripe-python 16 sources
tell:

* ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}``,
  ``POST /v1/checkout/sessions/{id}/expire``, ``POST /v1/refunds``, ``GET /v1/refunds/{id}``;
  anything else: 404 with Stripe's envelope.
* Auth: ``Authorization: Bearer sk_test_…`` equal to the fake's key, else 401.
* Parameters form-encoded as stripe-python sends them (``line_items[0][price_data][currency]``,
  booleans as ``true``/``false``); an unknown top-level parameter is refused (Stripe does).
* Errors in Stripe's envelope ``{"error": {"type", "code", "message", "param"}}``, so stripe-python
  raises ``InvalidRequestError`` / ``AuthenticationError`` / ``IdempotencyError``.
* ``Idempotency-Key``: a successful POST is remembered per key; the same key with the same
  parameters gives the same object again (nothing new is created), with other parameters an
  ``idempotency_error``. A request that failed validation is not remembered (as on Stripe).
* Checks: ``mode`` and ``line_items`` required; ``expires_at`` 30 minutes to 24 hours after
  creation; ``application_fee_amount`` only with ``transfer_data[destination]`` (or a
  ``Stripe-Account`` header) and at most the total; a refund needs ``payment_intent`` or
  ``charge``, at most the unrefunded amount, a valid ``reason``; metadata at most 50 keys of
  40 characters with values of 500; expiring only an ``open`` session.

Where Stripe's rule is not in the reference, the fake picks one and says so here: totals below 50
minor units are ``amount_too_small`` and above 99,999,999 ``amount_too_large`` (Stripe's documented
minimum for INR and USD, and its eight-digit maximum); ``reverse_transfer`` /
``refund_application_fee`` on a charge without a transfer / fee are refused.

Stripe sends no webhooks to a test; ``pay(session_id)``, ``expire_event``, ``async_event``,
``charge_refunded_event`` and ``refund_event`` move the fake's state and return the event body and
the ``Stripe-Signature`` header, signed as Stripe signs them, for the test to POST.

Usage::

    async with FakeStripe() as fake:
        client = StripeClient(fake.api_key, base_addresses={"api": fake.base_url}, http_client=HTTPXClient())
        ...
        body, headers = fake.pay(session_id)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

TEST_API_KEY = "sk_test_fake0123456789abcdefghij"
TEST_WEBHOOK_SECRET = "whsec_fake0123456789abcdefghij"

MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
MIN_AMOUNT = 50
MAX_AMOUNT = 99_999_999
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
CHECKOUT_PARAMS = {
    "mode",
    "line_items",
    "client_reference_id",
    "metadata",
    "success_url",
    "cancel_url",
    "expires_at",
    "payment_intent_data",
    "customer_email",
    "customer",
    "locale",
    "payment_method_types",
    "ui_mode",
    "currency",
    "expand",
}
REFUND_PARAMS = {
    "payment_intent",
    "charge",
    "amount",
    "reason",
    "metadata",
    "reverse_transfer",
    "refund_application_fee",
    "expand",
}

Handler = Callable[[web.Request, dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]


class StripeError(Exception):
    def __init__(
        self, status: int, message: str, *, type: str = "invalid_request_error", code=None, param=None
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


@dataclass
class RequestRecord:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 0


@dataclass
class PaymentIntent:
    id: str
    charge: str
    amount: int
    currency: str
    application_fee_amount: int | None
    destination: str | None
    session_id: str
    amount_refunded: int = 0


@dataclass
class RefundRecord:
    id: str
    payment_intent: str
    amount: int
    currency: str
    reason: str | None
    reverse_transfer: bool
    refund_application_fee: bool
    metadata: dict[str, str]
    status: str = "succeeded"

    def as_object(self, intent: PaymentIntent) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "currency": self.currency,
            "payment_intent": self.payment_intent,
            "charge": intent.charge,
            "reason": self.reason,
            "status": self.status,
            "metadata": self.metadata,
        }


@dataclass
class _Remembered:
    fingerprint: str
    status: int
    body: dict[str, Any]


@dataclass
class FakeStripe:
    api_key: str = TEST_API_KEY
    webhook_secret: str = TEST_WEBHOOK_SECRET
    clock: Callable[[], float] = time.time
    base_url: str = ""
    requests: list[RequestRecord] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, PaymentIntent] = field(default_factory=dict)
    refunds: dict[str, RefundRecord] = field(default_factory=dict)
    _idempotent: dict[str, _Remembered] = field(default_factory=dict)
    _intent_data: dict[str, dict[str, Any]] = field(default_factory=dict)  # fee, destination per session
    _runner: web.AppRunner | None = None

    # ---- lifecycle

    async def start(self) -> str:
        app = web.Application()
        routes: list[tuple[str, str, Handler]] = [
            ("POST", "/v1/checkout/sessions", self._create_session),
            ("GET", "/v1/checkout/sessions/{id}", self._retrieve_session),
            ("POST", "/v1/checkout/sessions/{id}/expire", self._expire_session),
            ("POST", "/v1/refunds", self._create_refund),
            ("GET", "/v1/refunds/{id}", self._retrieve_refund),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, self._endpoint(handler))
        app.router.add_route("*", "/{tail:.*}", self._endpoint(self._unknown))
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeStripe:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- what tests use: state moved as Stripe would, and the signed event for it

    def sign(self, body: bytes, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        t = int(self.clock()) if timestamp is None else timestamp
        digest = hmac.new((secret or self.webhook_secret).encode(), f"{t}.".encode() + body, hashlib.sha256)
        return {"Stripe-Signature": f"t={t},v1={digest.hexdigest()}"}

    def event(self, type: str, obj: dict[str, Any], *, event_id: str | None = None) -> bytes:
        envelope = {
            "id": event_id or _id("evt"),
            "object": "event",
            "api_version": "2026-01-28.clover",
            "created": int(self.clock()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": type,
            "data": {"object": obj},
        }
        return json.dumps(envelope).encode()

    def signed(self, type: str, obj: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = self.event(type, obj)
        return body, self.sign(body)

    def pay(self, session_id: str) -> tuple[bytes, dict[str, str]]:
        """The customer pays by card: the session completes, a PaymentIntent exists, and this is
        the ``checkout.session.completed`` event."""
        session = self._open_session(session_id)
        self._complete(session, "paid")
        return self.signed("checkout.session.completed", session)

    def start_async_payment(self, session_id: str) -> tuple[bytes, dict[str, str]]:
        """A delayed method (bank debit): completed but unpaid, settled by async_event later."""
        session = self._open_session(session_id)
        self._complete(session, "unpaid")
        return self.signed("checkout.session.completed", session)

    def async_event(self, session_id: str, *, succeeded: bool) -> tuple[bytes, dict[str, str]]:
        session = self.sessions[session_id]
        session["payment_status"] = "paid" if succeeded else "unpaid"
        kind = "succeeded" if succeeded else "failed"
        return self.signed(f"checkout.session.async_payment_{kind}", session)

    def expire_event(self, session_id: str) -> tuple[bytes, dict[str, str]]:
        """The session lapsed (or was expired through the API): ``checkout.session.expired``."""
        session = self.sessions[session_id]
        if session["status"] == "open":
            session["status"] = "expired"
        return self.signed("checkout.session.expired", session)

    def charge_refunded_event(self, payment_intent: str) -> tuple[bytes, dict[str, str]]:
        intent = self.intents[payment_intent]
        charge = {
            "id": intent.charge,
            "object": "charge",
            "amount": intent.amount,
            "amount_refunded": intent.amount_refunded,
            "currency": intent.currency,
            "payment_intent": intent.id,
            "refunded": intent.amount_refunded >= intent.amount,
        }
        return self.signed("charge.refunded", charge)

    def refund_event(self, refund_id: str, type: str = "refund.updated") -> tuple[bytes, dict[str, str]]:
        refund = self.refunds[refund_id]
        return self.signed(type, refund.as_object(self.intents[refund.payment_intent]))

    def session_for(self, payment_id: str) -> dict[str, Any]:
        return next(s for s in self.sessions.values() if s["metadata"].get("payment_id") == payment_id)

    def posts(self, path: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.method == "POST" and r.path == path]

    # ---- the endpoints

    def _endpoint(self, handler: Handler):
        async def endpoint(request: web.Request) -> web.Response:
            raw = await request.text()
            params = _decode(raw) if request.method == "POST" else _decode(request.query_string)
            record = RequestRecord(request.method, request.path, params, dict(request.headers))
            try:
                self._authenticate(request)
                key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
                remembered = self._idempotent.get(key) if key else None
                fingerprint = f"{request.method} {request.path} {raw}"
                if remembered and remembered.fingerprint != fingerprint:
                    raise StripeError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they were "
                        f"first used with. Try using a key other than '{key}' if you meant to execute a "
                        "different request.",
                        type="idempotency_error",
                    )
                if remembered:
                    status, body = remembered.status, remembered.body
                else:
                    status, body = await handler(request, params)
                    if key:
                        self._idempotent[key] = _Remembered(fingerprint, status, body)
            except StripeError as error:
                status, body = error.status, error.body()
            record.status = status
            self.requests.append(record)
            return web.json_response(body, status=status, headers={"Request-Id": _id("req")})

        return endpoint

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.",
            )
        key = header.removeprefix("Bearer ")
        if not key.startswith("sk_test_") or not hmac.compare_digest(key.encode(), self.api_key.encode()):
            raise StripeError(401, f"Invalid API Key provided: {key[:8]}{'*' * 8}")

    async def _unknown(self, request: web.Request, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        raise StripeError(404, f"Unrecognized request URL ({request.method}: {request.path}).")

    async def _create_session(
        self, request: web.Request, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        _refuse_unknown(params, CHECKOUT_PARAMS)
        now = int(self.clock())
        mode = _required(params, "mode")
        if mode not in ("payment", "setup", "subscription"):
            raise StripeError(
                400, "Invalid mode: must be one of payment, setup, or subscription", param="mode"
            )
        items = params.get("line_items")
        if mode == "payment" and not items:
            raise StripeError(
                400,
                "You must provide at least one of `line_items` or `price`.",
                code="parameter_missing",
                param="line_items",
            )
        items = _as_list(items or [], "line_items")
        total, currency = 0, None
        for index, item in enumerate(items):
            quantity = _int(item.get("quantity", "1"), f"line_items[{index}][quantity]", minimum=1)
            price = item.get("price_data")
            if not isinstance(price, dict):
                raise StripeError(
                    400,
                    "You must specify either `price` or `price_data` for each line item.",
                    param=f"line_items[{index}]",
                )
            item_currency = _required(price, "currency", f"line_items[{index}][price_data][currency]").lower()
            if not re.fullmatch(r"[a-z]{3}", item_currency):
                raise StripeError(
                    400,
                    f"Invalid currency: {item_currency}.",
                    param=f"line_items[{index}][price_data][currency]",
                )
            if currency and item_currency != currency:
                raise StripeError(400, "All line items must have the same currency.", param="line_items")
            currency = item_currency
            unit = _int(
                _required(price, "unit_amount", f"line_items[{index}][price_data][unit_amount]"),
                f"line_items[{index}][price_data][unit_amount]",
                minimum=0,
            )
            product = price.get("product_data")
            if not isinstance(product, dict) or not product.get("name"):
                raise StripeError(
                    400,
                    "Missing required param: line_items[0][price_data][product_data][name].",
                    code="parameter_missing",
                    param=f"line_items[{index}][price_data][product_data][name]",
                )
            total += unit * quantity
        if mode == "payment" and total < MIN_AMOUNT:
            raise StripeError(
                400,
                "The Checkout Session's total amount due must add up to at least the minimum charge amount.",
                code="amount_too_small",
            )
        if total > MAX_AMOUNT:
            raise StripeError(400, "Amount must be no more than 99,999,999.", code="amount_too_large")
        expires_at = _int(params.get("expires_at", str(now + MAX_EXPIRY)), "expires_at")
        if expires_at < now + MIN_EXPIRY:
            raise StripeError(
                400,
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                param="expires_at",
            )
        if expires_at > now + MAX_EXPIRY:
            raise StripeError(
                400,
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                param="expires_at",
            )
        reference = params.get("client_reference_id")
        if reference is not None and (len(reference) > 200 or not reference):
            raise StripeError(
                400, "client_reference_id must be 1 to 200 characters.", param="client_reference_id"
            )
        metadata = _metadata(params.get("metadata", {}), "metadata")
        intent_data = params.get("payment_intent_data") or {}
        if not isinstance(intent_data, dict):
            raise StripeError(400, "Invalid object", param="payment_intent_data")
        fee = intent_data.get("application_fee_amount")
        transfer = intent_data.get("transfer_data") or {}
        destination = transfer.get("destination") if isinstance(transfer, dict) else None
        if transfer and not destination:
            raise StripeError(
                400,
                "Missing required param: payment_intent_data[transfer_data][destination].",
                code="parameter_missing",
                param="payment_intent_data[transfer_data][destination]",
            )
        if destination is not None and not destination.startswith("acct_"):
            raise StripeError(
                400,
                f"No such destination: '{destination}'",
                code="resource_missing",
                param="payment_intent_data[transfer_data][destination]",
            )
        if fee is not None:
            fee = _int(fee, "payment_intent_data[application_fee_amount]", minimum=0)
            if not destination and not request.headers.get("Stripe-Account"):
                raise StripeError(
                    400,
                    "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).",
                    param="payment_intent_data[application_fee_amount]",
                )
            if fee > total:
                raise StripeError(
                    400,
                    "The application fee amount cannot be greater than the total amount.",
                    param="payment_intent_data[application_fee_amount]",
                )
        _metadata(intent_data.get("metadata", {}), "payment_intent_data[metadata]")
        for name in ("success_url", "cancel_url"):
            url = params.get(name)
            if url is not None and not re.match(r"https?://", url):
                raise StripeError(400, "Not a valid URL", code="url_invalid", param=name)
        session_id = _id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": mode,
            "status": "open",
            "payment_status": "unpaid",
            "url": f"{self.base_url}/c/pay/{session_id}",
            "amount_subtotal": total,
            "amount_total": total,
            "currency": currency,
            "client_reference_id": reference,
            "metadata": metadata,
            "created": now,
            "expires_at": expires_at,
            "payment_intent": None,
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "livemode": False,
        }
        self.sessions[session_id] = session
        self._intent_data[session_id] = {"fee": fee, "destination": destination}
        return 200, session

    async def _retrieve_session(
        self, request: web.Request, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        return 200, self._session(request.match_info["id"])

    async def _expire_session(
        self, request: web.Request, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        session = self._session(request.match_info["id"])
        if session["status"] != "open":
            raise StripeError(400, 'Only Checkout Sessions with a status in ["open"] can be expired.')
        session["status"] = "expired"
        return 200, session

    async def _create_refund(
        self, request: web.Request, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        _refuse_unknown(params, REFUND_PARAMS)
        intent = self._intent_of(params)
        remaining = intent.amount - intent.amount_refunded
        if remaining <= 0:
            raise StripeError(
                400, f"Charge {intent.charge} has already been refunded.", code="charge_already_refunded"
            )
        amount = _int(params["amount"], "amount", minimum=1) if "amount" in params else remaining
        if amount > remaining:
            raise StripeError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                param="amount",
            )
        reason = params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise StripeError(
                400, f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", param="reason"
            )
        reverse = _bool(params.get("reverse_transfer", "false"), "reverse_transfer")
        return_fee = _bool(params.get("refund_application_fee", "false"), "refund_application_fee")
        if reverse and not intent.destination:
            raise StripeError(
                400,
                "You cannot reverse the transfer of a charge that has no transfer.",
                param="reverse_transfer",
            )
        if return_fee and intent.application_fee_amount is None:
            raise StripeError(
                400,
                "You cannot refund the application fee of a charge that has no application fee.",
                param="refund_application_fee",
            )
        refund = RefundRecord(
            id=_id("re"),
            payment_intent=intent.id,
            amount=amount,
            currency=intent.currency,
            reason=reason,
            reverse_transfer=reverse,
            refund_application_fee=return_fee,
            metadata=_metadata(params.get("metadata", {}), "metadata"),
        )
        intent.amount_refunded += amount
        self.refunds[refund.id] = refund
        return 200, refund.as_object(intent)

    async def _retrieve_refund(
        self, request: web.Request, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        refund = self.refunds.get(request.match_info["id"])
        if refund is None:
            raise StripeError(
                404, f"No such refund: '{request.match_info['id']}'", code="resource_missing", param="id"
            )
        return 200, refund.as_object(self.intents[refund.payment_intent])

    # ---- helpers

    def _session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise StripeError(
                404, f"No such checkout.session: '{session_id}'", code="resource_missing", param="session"
            )
        return session

    def _open_session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        if session["status"] != "open":
            raise AssertionError(f"session {session_id} is {session['status']}, it cannot be paid")
        if self.clock() > session["expires_at"]:
            raise AssertionError(f"session {session_id} has lapsed")
        return session

    def _complete(self, session: dict[str, Any], payment_status: str) -> None:
        data = self._intent_data[session["id"]]
        intent = PaymentIntent(
            id=_id("pi"),
            charge=_id("ch"),
            amount=session["amount_total"],
            currency=session["currency"],
            application_fee_amount=data["fee"],
            destination=data["destination"],
            session_id=session["id"],
        )
        self.intents[intent.id] = intent
        session.update(status="complete", payment_status=payment_status, payment_intent=intent.id)

    def _intent_of(self, params: dict[str, Any]) -> PaymentIntent:
        if params.get("payment_intent"):
            intent = self.intents.get(params["payment_intent"])
            if intent is None:
                raise StripeError(
                    404,
                    f"No such payment_intent: '{params['payment_intent']}'",
                    code="resource_missing",
                    param="payment_intent",
                )
            return intent
        if params.get("charge"):
            intent = next((i for i in self.intents.values() if i.charge == params["charge"]), None)
            if intent is None:
                raise StripeError(
                    404, f"No such charge: '{params['charge']}'", code="resource_missing", param="charge"
                )
            return intent
        raise StripeError(
            400,
            "One of the following params should be provided for this request: payment_intent or charge.",
            code="parameter_missing",
        )


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(18).replace('-', 'A').replace('_', 'B')}"


def _decode(raw: str) -> dict[str, Any]:
    """``a[b][0][c]=v`` pairs into nested dicts; dicts whose keys are all digits become lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        if not parts:
            continue
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise StripeError(400, f"Invalid parameter: {key}")
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _refuse_unknown(params: dict[str, Any], known: set[str]) -> None:
    for name in params:
        if name not in known:
            raise StripeError(
                400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def _required(params: dict[str, Any], name: str, param: str | None = None) -> str:
    value = params.get(name)
    if value in (None, ""):
        raise StripeError(
            400, f"Missing required param: {param or name}.", code="parameter_missing", param=param or name
        )
    return value


def _int(value: Any, param: str, *, minimum: int | None = None) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeError(400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param)
    number = int(value)
    if minimum is not None and number < minimum:
        raise StripeError(400, f"This value must be greater than or equal to {minimum}.", param=param)
    return number


def _bool(value: str, param: str) -> bool:
    if value not in ("true", "false"):
        raise StripeError(400, f"Invalid boolean: {value}", param=param)
    return value == "true"


def _as_list(value: Any, param: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise StripeError(400, "Invalid array", param=param)
    return value


def _metadata(value: Any, param: str) -> dict[str, str]:
    if value in ("", None):
        return {}
    if not isinstance(value, dict) or any(not isinstance(v, str) for v in value.values()):
        raise StripeError(400, "Invalid hash", param=param)
    if len(value) > 50:
        raise StripeError(400, "You can specify up to 50 keys.", param=param)
    for key, item in value.items():
        if len(key) > 40:
            raise StripeError(400, "Keys must be at most 40 characters.", param=f"{param}[{key}]")
        if len(item) > 500:
            raise StripeError(400, "Values must be at most 500 characters.", param=f"{param}[{key}]")
    return dict(value)
