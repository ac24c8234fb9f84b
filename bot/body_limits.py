"""Every request body is bounded while it is read, and so is every web chat frame.

`BodyLimitMiddleware` (installed by `create_app`) looks up the request's path in `BODY_LIMITS` and
counts the body's bytes as they arrive. A declared Content-Length over the limit is refused before
anything is read; a chunked body is cut the moment it passes the limit. Either way the middleware
answers 413 itself, with a short JSON reason and `Connection: close` (so the server stops reading
the rest instead of reading it only to throw it away), and the route can no longer answer: what it
sends afterwards is dropped, and its next read raises `BodyTooLarge`, which ends here, never as a
500 or a traceback. A route that answers without reading its body has the rest read for it (and
thrown away) up to the limit first, with the same 413 past it.

FastAPI's own `max_body_size` (FastAPI 0.16x, Starlette 1.x) was tried and not used: its 413 is
plain text for a declared length and JSON for a streamed one; a streamed overrun is an
HTTPException that a route catching its parser's errors turns into something else (our upload and
WhatsApp routes would answer 400 and 403); and it keeps the connection, so the server goes on
reading the whole body. uvicorn has no body limit at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)

KB = 1024
MB = 1024 * KB

# The web chat: a file sent with 📎 (PDF, JPG or PNG) and one WebSocket frame.
MAX_UPLOAD_BYTES = 10 * MB
# The page sends a long paste whole (the emergency check reads its first 20,000 characters before
# the engine answers "too long" beyond 4,000) and refuses itself only a frame over this many bytes,
# keeping its text in the box. Text frames are counted in UTF-8 bytes, as the server (uvicorn's
# ws_max_size, below) counts them.
MAX_FRAME_BYTES = 32_000
# Given to uvicorn wherever `telecare serve` runs it: a longer WebSocket message is refused with
# 1009 as it arrives, before it is buffered (uvicorn's own default is 16 MB).
SERVER_LIMITS = {"ws_max_size": MAX_FRAME_BYTES}


@dataclass(frozen=True)
class BodyLimit:
    path: str  # a path, or a prefix of paths when it ends in "/"
    max_bytes: int
    reason: str  # the 413's "detail"

    def covers(self, path: str) -> bool:
        if self.path.endswith("/"):
            return path.startswith(self.path)
        return path == self.path or path.startswith(self.path + "/")


# The first entry covering a request's path decides its limit; every other path gets DEFAULT_LIMIT.
BODY_LIMITS: tuple[BodyLimit, ...] = (
    # Payment gateways' events (Stripe, the sandbox) are a few KB: an event and its object.
    BodyLimit("/api/payments/webhooks/", 512 * KB, "A payment event is never this large."),
    # One Telegram Update. Telegram documents no size for it, but what it carries is bounded (Bot
    # API, api.json): a text of at most 4,096 characters or a caption of 1,024, with entities, and
    # files only as file ids (fetched later with getFile). Even with every character escaped as
    # \uXXXX and a quoted message beside it that is well under 100 KB; 1 MB leaves ten times room
    # for fields Telegram adds without notice.
    BodyLimit("/webhooks/telegram", 1 * MB, "A Telegram update is never this large."),
    # Twilio's url-encoded forms, for messages and (/webhooks/whatsapp/status) status callbacks:
    # a WhatsApp text is at most 4,096 characters (WhatsApp's limit; Twilio's own is 1,600), under
    # 48 KB even with every character 4 UTF-8 bytes, each percent-encoded; the other fields (sids,
    # numbers, media links, profile name) are short, and a status callback is a dozen of them.
    BodyLimit("/webhooks/whatsapp", 64 * KB, "A Twilio webhook is never this large."),
    # One file of at most 10 MB, with its multipart framing and the message id.
    BodyLimit(
        "/web/upload",
        MAX_UPLOAD_BYTES + 64 * KB,
        "That file is larger than 10 MB. Please send a smaller one.",
    ),
    # The admin API takes small JSON: a rejection reason, a payout.
    BodyLimit("/api/admin/", 64 * KB, "The request body is too large."),
)
# The rest takes a persona name, an empty sign-out, the sandbox checkout's Pay / Fail, or nothing.
DEFAULT_LIMIT = BodyLimit("/", 64 * KB, "The request body is too large.")


def limit_for(path: str) -> BodyLimit:
    return next((limit for limit in BODY_LIMITS if limit.covers(path)), DEFAULT_LIMIT)


class BodyTooLarge(Exception):
    """What a route's read raises once the body passed its limit (the 413 is already sent)."""


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses it; counting still bounds the body
    return None


def _has_body(scope: Scope) -> bool:
    return any(
        (name == b"content-length" and value.strip() not in (b"0", b"")) or name == b"transfer-encoding"
        for name, value in scope.get("headers", ())
    )


async def _refuse(limit: BodyLimit, send: Send) -> None:
    body = json.dumps({"detail": limit.reason}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # uvicorn closes after the answer: the rest is never read
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _CountedBody:
    """One request's receive and send, counting the body and answering 413 when it passes."""

    def __init__(self, limit: BodyLimit, receive: Receive, send: Send, *, has_body: bool) -> None:
        self.limit = limit
        self._receive = receive
        self._send = send
        self.received = 0
        self.unread = has_body  # a body the route has not read to its end
        self.cut = False  # the body passed its limit: nothing more is read
        self.answered = False  # ... and the 413 went out: the route's own answer is dropped
        self.started = False

    async def receive(self) -> Message:
        if self.cut:
            raise BodyTooLarge
        message = await self._receive()
        if message["type"] == "http.request":
            self.unread = message.get("more_body", False)
            self.received += len(message.get("body", b""))
            if self.received > self.limit.max_bytes:
                self.cut = True
                if not self.started:  # a route that answered before reading cannot be answered for
                    self.answered = True
                    await _refuse(self.limit, self._send)
                raise BodyTooLarge
        elif message["type"] == "http.disconnect":
            self.unread = False
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and self.unread and not self.answered:
            await self._read_the_rest()
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def _read_the_rest(self) -> None:
        """The route answers without reading its body (a 401, a 404). Read the rest first, up to
        the limit and throwing it away: within the limit the route's answer goes out as usual;
        past it the 413 goes instead and the connection closes. (Left to itself, uvicorn would
        read and discard all of it, however long; closing at once instead would reset the
        connection under a client still sending, which would then never see the answer.)"""
        try:
            while self.unread:
                await self.receive()
        except BodyTooLarge:
            pass  # answered 413; the route's own answer is dropped


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # WebSocket frames are bounded by the server (SERVER_LIMITS)
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit.max_bytes:
            log.warning(
                "request_body_too_large", path=scope["path"], declared=declared, limit=limit.max_bytes
            )
            await _refuse(limit, send)
            return
        body = _CountedBody(limit, receive, send, has_body=_has_body(scope))
        try:
            await self.app(scope, body.receive, body.send)
        except Exception as failure:
            if not body.cut:
                raise
            # The route's read failed because the body was cut; whatever it made of that (our
            # exception, a parser's error, FastAPI's 400) is no news: the answer was the 413.
            log.warning(
                "request_body_too_large",
                path=scope["path"],
                received=body.received,
                limit=limit.max_bytes,
                route_error=type(failure).__name__,
            )
            return
        if body.cut:
            log.warning(
                "request_body_too_large", path=scope["path"], received=body.received, limit=limit.max_bytes
            )
