"""The built-in web chat: the page, its WebSocket, and (in development/demo) the persona picker.

A browser is one chat. Its session cookie holds a random token; the chat's address is the token's
SHA-256, so the database never holds a usable session token. A new browser is a new, anonymous
chat until its user signs in with an OTP."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from datetime import timedelta
from pathlib import Path

import pydantic_core
import structlog
from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from backend.access import AccessDenied
from backend.accounts import service as accounts
from backend.accounts import web_history
from backend.models import Channel, utcnow
from bot.body_limits import MAX_FRAME_BYTES, MAX_UPLOAD_BYTES
from bot.uploads import store_upload
from bot.web import history, notify
from conversations.messages import Inbound, InboundKind

log = structlog.get_logger(__name__)
router = APIRouter()
STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "telecare_session"
# What the web chat accepts as a file, recognised by the file's first bytes (what a browser says
# about a file's type comes from its name and proves nothing).
UPLOAD_SIGNATURES = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}


def chat_address(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _valid_token(token: str | None) -> bool:
    return bool(token) and 20 <= len(token) <= 100 and token.replace("-", "").replace("_", "").isalnum()


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.web_session_days * 86400,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )


@router.get("/", include_in_schema=False)
async def page(request: Request) -> Response:
    response = FileResponse(STATIC / "index.html", media_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not _valid_token(request.cookies.get(COOKIE)):
        set_session_cookie(request, response, secrets.token_urlsafe(32))
    return response


@router.get("/web/config")
async def config(request: Request) -> dict:
    settings = request.app.state.settings
    personas = await request.app.state.personas.list() if settings.demo_tools_enabled else []
    return {"demo_tools": settings.demo_tools_enabled, "personas": personas}


class PersonaChoice(BaseModel):
    persona: str = Field(min_length=1, max_length=64)


@router.post("/web/persona")
async def choose_persona(request: Request, choice: PersonaChoice) -> Response:
    """Development and demo only: become a demo user (or a fresh patient) in this browser."""
    if not request.app.state.settings.demo_tools_enabled:
        raise HTTPException(status_code=404)
    token = secrets.token_urlsafe(32)
    if not await request.app.state.personas.assume(choice.persona, chat_address(token)):
        raise HTTPException(status_code=404, detail="unknown persona")
    await _forget_history(request)
    response = JSONResponse({"ok": True})
    set_session_cookie(request, response, token)
    return response


@router.post("/web/signout")
async def signout(request: Request) -> Response:
    """A fresh anonymous chat in this browser; the old chat stays linked to its account, and
    what it showed is deleted (the next person at this browser must not see it)."""
    await _forget_history(request)
    response = JSONResponse({"ok": True})
    set_session_cookie(request, response, secrets.token_urlsafe(32))
    return response


async def _forget_history(request: Request) -> None:
    """The history of the chat this browser leaves (a sign-out, a persona switch)."""
    token = request.cookies.get(COOKIE)
    if _valid_token(token):
        state = request.app.state
        async with state.sessions() as session, session.begin():
            await web_history.forget(session, state.cipher, chat_address(token))


async def _next_text_frame(socket: WebSocket) -> str | None:
    """The next text frame; None once the socket was closed for a frame the page never sends (a
    binary one: 1003, or one over MAX_FRAME_BYTES: 1009, which uvicorn also enforces)."""
    message = await socket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is None:
        await socket.close(code=1003, reason="only text frames are accepted")
        return None
    if len(text) > MAX_FRAME_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        await socket.close(code=1009, reason="message too big")
        return None
    return text


def _platform_id(address: str, message_id: object) -> str:
    """The browser's own id for a message, scoped to its chat. Browsers choose their ids, so they
    are hashed with the chat's address: one browser's ids never collide with (and silently drop)
    another's, the stored id is plain hex (a browser's may hold anything, NUL included, which
    PostgreSQL text refuses), and no two rows link to one chat without that address, which is
    sealed. No id: a random one (never a duplicate)."""
    own_id = message_id[:64] if isinstance(message_id, str) and message_id else uuid.uuid4().hex
    return hashlib.sha256(f"{address}:{own_id}".encode("utf-8", "surrogatepass")).hexdigest()


def _inbound(address: str, raw: str, client: str | None = None) -> Inbound | str:
    """A browser frame as an Inbound, or the reason it is not one. `client`: the peer's IP (behind
    a proxy, uvicorn puts the forwarded client here only for proxies in FORWARDED_ALLOW_IPS)."""
    try:
        # pydantic's parser, not json.loads: it stops nesting at a fixed depth with a ValueError
        # (json.loads recurses, and 2,000 brackets raise RecursionError) and refuses lone
        # surrogates, raw or escaped, which no browser sends and no database stores.
        frame = pydantic_core.from_json(raw.encode())
    except ValueError:  # UnicodeEncodeError included
        return "Malformed message."
    if not isinstance(frame, dict):
        return "Malformed message."
    platform_id = _platform_id(address, frame.get("id"))
    if frame.get("type") == "text" and isinstance(frame.get("text"), str):
        return Inbound(
            channel=Channel.WEB,
            chat_id=address,
            text=frame["text"],
            platform_id=platform_id,
            client_address=client,
        )
    if frame.get("type") == "choice" and isinstance(frame.get("token"), str):
        return Inbound(
            channel=Channel.WEB,
            chat_id=address,
            kind=InboundKind.CHOICE,
            choice_token=frame["token"][:64],
            platform_id=platform_id,
            client_address=client,
        )
    return "Unsupported message."


def sniff(data: bytes) -> str | None:
    return next((kind for kind, magic in UPLOAD_SIGNATURES.items() if data.startswith(magic)), None)


def _upload_error(status: int, text: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": text}, status_code=status)


def _same_origin_request(request: Request) -> bool:
    """A form posted by another site's page carries that site's Origin: refuse it (the cookie is
    SameSite=Lax, this is the second line)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    allowed = {request.app.state.settings.public_base_url.rstrip("/")}
    host = request.headers.get("host")
    if host:
        allowed |= {f"http://{host}", f"https://{host}"}
    return origin.rstrip("/") in allowed


@router.post("/web/upload", include_in_schema=False)
async def upload(request: Request) -> JSONResponse:
    """A file sent in the web chat (multipart, field `file`, optional `id`): stored encrypted and
    handed to the conversation like a file sent on Telegram or WhatsApp. The replies go to the
    chat's open sockets like any other answer (and are in the response for a page without one)."""
    token = request.cookies.get(COOKIE)
    if not _valid_token(token):
        return _upload_error(401, "No session: please reload the page.")
    if not _same_origin_request(request):
        return _upload_error(403, "Cross-site request refused.")
    if not await request.app.state.engine.expects_file(Channel.WEB.value, chat_address(token)):
        # Refused before the body is read or anything stored.
        return _upload_error(409, "This chat is not asking for a file right now.")
    # The body as a whole is bounded while it is read (bot/body_limits.py); the file, here.
    try:
        form = await request.form(max_files=1, max_fields=2)
    except Exception:  # not multipart, or more parts than allowed: the parser's own errors vary
        return _upload_error(400, "Malformed upload.")
    sent = form.get("file")
    if not isinstance(sent, UploadFile):
        return _upload_error(400, "No file was attached.")
    data = await sent.read(MAX_UPLOAD_BYTES + 1)
    await form.close()
    if not data:
        return _upload_error(400, "That file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        return _upload_error(413, "That file is larger than 10 MB. Please send a smaller one.")
    content_type = sniff(data)
    if content_type is None:
        return _upload_error(415, "Only PDF, JPG or PNG files can be sent.")
    state = request.app.state
    address = chat_address(token)
    platform_id = _platform_id(address, form.get("id"))
    file_ref = await store_upload(
        state.sessions,
        state.cipher,
        channel=Channel.WEB.value,
        chat_id=address,
        platform_file_id=f"web:{platform_id}",
        filename=(sent.filename or "upload")[:200],
        content_type=content_type,
        data=data,
    )
    inbound = Inbound(
        channel=Channel.WEB,
        chat_id=address,
        kind=InboundKind.FILE,
        file_ref=file_ref,
        platform_id=platform_id,
    )
    replies = await state.engine.handle(inbound)
    frame = _replies_frame(replies, state.settings.public_base_url)
    if replies:
        frame["locale"] = await history.keep_exchange(
            state.sessions, state.cipher, address, inbound, frame["replies"], filename=sent.filename
        )
    delivered = await state.hub.send(f"{Channel.WEB.value}:{address}", frame) if replies else 0
    return JSONResponse({"ok": True, "delivered": delivered, "replies": frame["replies"]})


def _replies_frame(replies: list, public_base_url: str) -> dict:
    """Replies as the page expects them; our own links become same-origin paths, so a page opened
    under another host name still downloads them (with their file name)."""
    frames = [r.as_dict() for r in replies]
    base = public_base_url.rstrip("/")
    for frame in frames:
        document = frame["document"]
        if document and document["url"].startswith(base + "/"):
            document["url"] = document["url"][len(base) :]
    return {"type": "replies", "replies": frames}


def _same_origin(socket: WebSocket) -> bool:
    """Browsers always send Origin on a WebSocket handshake: refuse pages of other sites, which
    would otherwise talk to the chat with the visitor's cookie (cross-site WebSocket hijacking)."""
    origin = socket.headers.get("origin")
    if origin is None:
        return True  # not a browser (tests, tools): the cookie is still required
    allowed = {socket.app.state.settings.public_base_url.rstrip("/")}
    host = socket.headers.get("host")
    if host:
        allowed |= {f"http://{host}", f"https://{host}"}
    return origin.rstrip("/") in allowed


async def _announce(relay, chat_key: str, hub, *, opened: bool) -> None:
    """Tell notification workers in other processes (through Redis) whether this chat is open.
    Redis being away must not break the chat: then notifications wait for the chat to open."""
    if relay is None:
        return
    try:
        await (relay.opened(chat_key) if opened else relay.closed(chat_key, hub))
    except Exception as failure:
        log.warning("web_relay_unavailable", error=type(failure).__name__)


async def _open_chat(state, address: str) -> tuple[list[web_history.Shown], str]:
    """Sign out a chat idle too long, then read what it showed lately and its language."""
    idle_limit = timedelta(days=state.settings.web_session_days)
    now = utcnow()
    async with state.sessions() as session, session.begin():
        await accounts.sign_out_if_idle(session, state.cipher, Channel.WEB.value, address, idle_limit, now)
        try:
            shown = await web_history.recent(session, state.cipher, address, now)
        except AccessDenied:  # never for the chat's own account; nothing is shown if it were
            shown = []
        return shown, await web_history.locale_at(session, state.cipher, address)


async def _send_opening(
    socket: WebSocket, state, address: str, shown: list[web_history.Shown], locale: str
) -> None:
    """What the chat showed before (a reload), notifications that came while no tab of this
    user's web chat was open, then the question, kept in that order. Shielded: a tab closed at
    once must not cut the database work in half."""
    replies = await state.engine.current_prompt(Channel.WEB.value, address)
    prompt = _replies_frame(replies, state.settings.public_base_url)
    before = history.opening_frame(shown, prompt["replies"], locale)
    if before is not None:
        await socket.send_json(before)
    flushed = await asyncio.shield(notify.flush_waiting(state.sessions, state.cipher, state.hub, address))
    if flushed or not history.ends_with_prompt(shown, prompt["replies"]):
        await asyncio.shield(history.keep_prompt(state.sessions, state.cipher, address, prompt["replies"]))
    await socket.send_json({**prompt, "locale": locale})


@router.websocket("/ws")
async def chat_socket(socket: WebSocket) -> None:
    token = socket.cookies.get(COOKIE)
    if not _valid_token(token):
        # Accept, then close with a reason the page can read (a refused handshake is just 1006).
        await socket.accept()
        await socket.close(code=4401, reason="no session; reload the page")
        return
    if not _same_origin(socket):
        await socket.close(code=4403, reason="cross-site request refused")
        return
    state = socket.app.state
    engine, hub = state.engine, state.hub
    address = chat_address(token)
    chat_key = f"{Channel.WEB.value}:{address}"
    client = socket.client.host if socket.client else None  # for the OTP send limits
    shown, locale = await _open_chat(state, address)
    await socket.accept()
    hub.add(chat_key, socket)
    await _announce(state.relay, chat_key, hub, opened=True)
    try:
        await _send_opening(socket, state, address, shown, locale)
        while True:
            raw = await _next_text_frame(socket)
            if raw is None:
                return
            inbound = _inbound(address, raw, client)
            if isinstance(inbound, str):
                await socket.send_json({"type": "error", "text": inbound})
                continue
            replies = await engine.handle(inbound)
            frame = _replies_frame(replies, state.settings.public_base_url)
            if replies:  # kept before it is sent, so a reload at once shows it
                frame["locale"] = await asyncio.shield(
                    history.keep_exchange(state.sessions, state.cipher, address, inbound, frame["replies"])
                )
            # Always answer, even with nothing (a duplicate): the page stops its typing indicator.
            await socket.send_json(frame)
            if replies:  # the chat's other tabs see the bot's answer too
                await hub.send(chat_key, frame, skip=socket)
    except WebSocketDisconnect:
        pass
    finally:
        hub.remove(chat_key, socket)
        await _announce(state.relay, chat_key, hub, opened=False)
