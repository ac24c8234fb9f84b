"""The WhatsApp channel through Twilio: store each inbound message first, then process it
through the engine and send the replies; track the 24-hour window, opt-outs and delivery status.

- Inbound: the webhook stores the signed form (encrypted, in the inbox, keyed by MessageSid) and
  answers at once; processing runs in the background, one chat at a time. Unprocessed messages
  are picked up again on start. A chat waits for its turn on its own lock, then takes one of
  the few shared slots only for the database and engine work, so one busy chat holds up no other.
- A message that cannot be used (media that cannot be fetched, an error in the engine) is
  finished as failed in the inbox, its sender told once, and never retried.
- STOP (and its synonyms) opts the number out: it gets the confirmation and nothing else until
  START. Nothing is sent to an opted-out number, business-initiated or not.
- Business-initiated messages (`notify`) go as free text inside the 24-hour window since the
  user's last message, else as an approved template; a 63016 (window closed), at once or in the
  status callback, falls back to the template.
- Status callbacks move a message's status forward only (they can arrive out of order).
"""

from __future__ import annotations

import asyncio
import functools
import json
import mimetypes
from collections.abc import Callable
from datetime import timedelta

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import audit, inbox
from backend.accounts import chats
from backend.accounts.service import identity_for
from backend.crypto import FieldCipher
from backend.inbox import InboxWriter
from backend.models import STATUS_RANK, ChannelIdentity, OutboundMessage, User, new_id, utcnow
from backend.outbox import queue as outbox_queue
from backend.settings import Settings
from bot.uploads import store_upload
from bot.web import documents
from bot.whatsapp import render
from bot.whatsapp.client import TwilioGateway
from bot.whatsapp.inbound import CHANNEL, Parsed, parse
from bot.whatsapp.render import Outgoing
from bot.whatsapp.sender import WINDOW_CLOSED, SendFailed, TwilioSender, Unsubscribed, WindowClosed
from bot.whatsapp.settings import TwilioSettings
from conversations.chat_locks import ChatLocks
from conversations.copy import translate
from conversations.engine import Engine
from conversations.messages import Inbound, InboundKind, Reply
from notifications.ratelimit import RateLimits
from notifications.sender import Delivery

log = structlog.get_logger(__name__)
WINDOW = timedelta(hours=24)
MAX_MEDIA_BYTES = 16 * 1024 * 1024  # WhatsApp's own limit for media and documents
MAX_CONCURRENT = {"sqlite": 4}
DEFAULT_CONCURRENT = 8


class MediaUnavailable(Exception):
    """The media a user sent could not be fetched from Twilio."""


class WhatsAppChannel:
    def __init__(
        self,
        settings: TwilioSettings,
        app_settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        engine: Engine,
        gateway: TwilioGateway,
        limits: RateLimits | None = None,
    ) -> None:
        self.settings = settings
        self.app_settings = app_settings
        self.sessions = sessions
        self.cipher = cipher
        self.engine = engine
        self.gateway = gateway
        self.sender = TwilioSender(
            gateway,
            per_second=settings.per_sender_per_second,
            max_attempts=settings.max_send_attempts,
            status_callback=app_settings.public_base_url.rstrip("/") + "/webhooks/whatsapp/status",
            limits=limits,
        )
        self.inbox = InboxWriter(sessions, cipher)
        self.chat_order = ChatLocks()
        self._tasks: set[asyncio.Task] = set()
        dialect = sessions.kw["bind"].dialect.name
        self._processing = asyncio.Semaphore(MAX_CONCURRENT.get(dialect, DEFAULT_CONCURRENT))

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        await self.resume_pending()

    async def close(self) -> None:
        await self.idle()
        await self.inbox.close()

    async def idle(self) -> None:
        """Wait until every background message has been handled (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- receiving --------------------------------------------------------------------------

    async def receive(self, form: dict[str, str]) -> bool:
        """Store, then process in the background. False for a redelivered MessageSid. A form that
        cannot be stored (`inbox.Unstorable`) is raised before it joins any batch."""
        sid = _sid_of(form)
        if not sid:
            return False
        if problem := inbox.payload_problem(form):
            raise inbox.Unstorable(problem)
        if not await self.inbox.store(CHANNEL, sid, json.dumps(form, ensure_ascii=False)):
            return False
        self._schedule(form)
        return True

    def _schedule(self, form: dict[str, str]) -> None:
        self._spawn(self._process(form))

    def _spawn(self, work) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # kept until done; idle() and close() wait for them
        task.add_done_callback(self._tasks.discard)

    async def resume_pending(self) -> int:
        payloads = await self.inbox.pending(CHANNEL)
        for payload in payloads:
            self._schedule(payload)
        if payloads:
            log.info("whatsapp_resumed", count=len(payloads))
        return len(payloads)

    async def _process(self, form: dict[str, str]) -> None:
        parsed = parse(form)
        if parsed.inbound is None or form.get("From") == self.settings.whatsapp_from:
            # Nothing from a user (e.g. a status callback sent to the wrong URL): never
            # answer, or the bot would talk to itself.
            async with self._processing, self.sessions() as session, session.begin():
                await inbox.claim(session, CHANNEL, _sid_of(form))
            return
        # The chat's lock first: its messages stay in order; a shared slot only inside.
        async with self.chat_order.hold(parsed.address):
            try:
                replies = await self._handle(parsed)
            except MediaUnavailable:
                replies = await self._give_up(parsed, "file_unavailable", "file_unavailable")
            except Exception:
                log.exception("whatsapp_message_failed")
                replies = await self._give_up(parsed, "processing_error", "internal_error")
            try:
                await self._deliver(parsed.address, replies)
            except Exception:
                log.exception("whatsapp_delivery_failed")
                async with self._processing, self.sessions() as session, session.begin():
                    await inbox.fail(session, CHANNEL, parsed.inbound.platform_id, "delivery_error")

    async def _handle(self, parsed: Parsed) -> list[Reply]:
        """The replies to one message (under the chat's lock); STOP / START answer themselves."""
        address = parsed.address
        async with self._processing:
            opted_out = await self._opted_out(address)
        if parsed.opt == "out" or opted_out:
            await self._opt(parsed)  # STOP; or START (or anything else) from an opted-out number
            return []
        inbound = await self._with_media(parsed)
        async with self._processing:
            return await self.engine.handle(inbound, stored=True)  # finishes failures itself

    async def _give_up(self, parsed: Parsed, reason: str, say: str) -> list[Reply]:
        """Finish the message as failed; the replies telling its sender (once), if any."""
        async with self._processing:
            return await self.engine.give_up(CHANNEL, parsed.address, parsed.inbound.platform_id, reason, say)

    async def _identity(self, address: str) -> ChannelIdentity | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(ChannelIdentity).where(*chats.is_chat(self.cipher, CHANNEL, address))
            )

    async def _opted_out(self, address: str) -> bool:
        identity = await self._identity(address)
        return identity is not None and identity.opted_out_at is not None

    async def _opt(self, parsed: Parsed) -> None:
        """STOP / START, and anything else an opted-out number sends (recorded, not answered)."""
        inbound, address = parsed.inbound, parsed.address
        async with self._processing, self.sessions() as session, session.begin():
            if not await inbox.claim(session, CHANNEL, inbound.platform_id):
                return
            identity = await identity_for(session, self.cipher, CHANNEL, address, lock=True)
            identity.last_inbound_at = inbound.at
            was_out = identity.opted_out_at is not None
            if parsed.opt is not None and (parsed.opt == "out") != was_out:
                identity.opted_out_at = inbound.at if parsed.opt == "out" else None
                await audit.record(
                    session,
                    actor=None,
                    action=f"whatsapp_opt_{parsed.opt}",
                    resource_type="channel_identity",
                    resource_id=identity.id,
                    channel=CHANNEL,
                )
            user = await session.get(User, identity.user_id) if identity.user_id else None
            locale = user.locale if user else "en"
        if parsed.opt == "out":
            await self._send_all(address, [Outgoing(body=translate(locale, "whatsapp_opted_out"))])
        elif parsed.opt == "in":
            replies = [Reply(text=translate(locale, "whatsapp_opted_in"))]
            async with self._processing:
                replies += await self.engine.current_prompt(CHANNEL, address)
            await self._deliver(address, replies)
        # Anything else from an opted-out number: kept (window, inbox), not answered.

    async def _with_media(self, parsed: Parsed) -> Inbound:
        """Fetch the first media file with the account's credentials and keep it encrypted.
        Raises MediaUnavailable when it cannot be fetched."""
        inbound = parsed.inbound
        if inbound.kind is not InboundKind.FILE or not parsed.media:
            return inbound
        media = parsed.media[0]
        data = await self._download(media.url)  # outside the shared slot: a slow network
        if data is None:
            return inbound  # too large: file_ref stays empty, the step says it cannot use it
        extension = mimetypes.guess_extension(media.content_type.split(";")[0].strip()) or ""
        async with self._processing:
            file_ref = await store_upload(
                self.sessions,
                self.cipher,
                channel=CHANNEL,
                chat_id=inbound.chat_id,
                platform_file_id=media.url.rsplit("/", 1)[-1],
                filename=f"whatsapp-file{extension}",
                content_type=media.content_type,
                data=data,
            )
        return Inbound(
            channel=inbound.channel,
            chat_id=inbound.chat_id,
            kind=inbound.kind,
            file_ref=file_ref,
            platform_id=inbound.platform_id,
            at=inbound.at,
        )

    async def _download(self, url: str) -> bytes | None:
        """The media's bytes; None when it is over WhatsApp's size limit. Raises MediaUnavailable."""
        # Only Twilio's own media host (or the configured local Twilio): never fetch a URL that
        # merely appears in a form, with our credentials attached.
        allowed = (self.settings.api_base_url or "https://api.twilio.com").rstrip("/") + "/"
        if not url.startswith(allowed):
            log.warning("whatsapp_media_refused", reason="foreign host")
            raise MediaUnavailable("foreign host")
        auth = (self.settings.account_sid, self.settings.auth_token)
        try:
            async with (
                httpx.AsyncClient(auth=auth, follow_redirects=True, timeout=30) as http,
                http.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    log.warning("whatsapp_media_failed", status=response.status_code)
                    raise MediaUnavailable(f"HTTP {response.status_code}")
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_MEDIA_BYTES:
                        return None
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as failure:
            log.warning("whatsapp_media_failed", error=type(failure).__name__)
            raise MediaUnavailable(type(failure).__name__) from failure

    # --- sending ----------------------------------------------------------------------------

    async def _deliver(self, address: str, replies: list[Reply]) -> None:
        media_url = functools.partial(
            documents.media_url,
            public_base_url=self.app_settings.public_base_url,
            ring=self.cipher.ring,
            now=utcnow(),
        )
        outgoing = [m for reply in replies for m in render.messages(reply, self.settings, media_url)]
        await self._send_all(address, outgoing)

    async def _send_all(self, address: str, outgoing: list[Outgoing]) -> None:
        for message in outgoing:
            try:
                await self._send(address, message)
            except Unsubscribed:
                await self._mark_opted_out(address)
                return
            except SendFailed as failure:
                log.warning("whatsapp_send_failed", code=failure.code)
                return

    async def _send(
        self,
        address: str,
        message: Outgoing,
        *,
        template: str | None = None,
        variables: dict | None = None,
        outbox_id: str | None = None,
    ) -> str:
        sid = await self.sender.send(f"whatsapp:{address}", message, sender=self.settings.whatsapp_from)
        await self._record_sent(address, sid, message.kind, template, variables, outbox_id)
        return sid

    async def notify(
        self, address: str, text: str, *, template: str | None = None, variables: dict[str, str] | None = None
    ) -> str | None:
        """A message we start: its SID, or None when nothing could be sent (see `send_notice`)."""
        return (await self.send_notice(address, text, template=template, variables=variables)).platform_id

    async def send_notice(
        self,
        address: str,
        text: str,
        *,
        template: str | None = None,
        variables: dict[str, str] | None = None,
        outbox_id: str | None = None,
    ) -> Delivery:
        """A message we start (reminder, status change): free text inside the chat's 24-hour
        window, else the approved template `template` with `variables`. Refused (so the outbox
        tries the user's next chat) for an opted-out number, or outside the window with no
        approved template."""
        identity = await self._identity(address)
        if identity is not None and identity.opted_out_at is not None:
            log.info("whatsapp_notify_skipped", reason="opted_out")
            return Delivery.refused("opted out")
        last = identity.last_inbound_at if identity else None
        try:
            if last is not None and utcnow() - last < WINDOW:
                try:
                    sid = await self._send(
                        address,
                        Outgoing(body=text),
                        template=template,
                        variables=variables,
                        outbox_id=outbox_id,
                    )
                    return Delivery.sent(sid)
                except WindowClosed:
                    pass  # the window closed meanwhile (clocks differ): the template it is
            sid = await self._send_template(address, template, variables, outbox_id)
            if sid is None:
                return Delivery.refused("outside the 24-hour window and no approved template")
            return Delivery.sent(sid)
        except Unsubscribed:
            await self._mark_opted_out(address)
            return Delivery.refused("opted out at Twilio (21610)")
        except SendFailed as failure:
            log.warning("whatsapp_notify_failed", code=failure.code)
            return Delivery.failed(f"Twilio error {failure.code}")

    async def _send_template(
        self, address: str, template: str | None, variables: dict | None, outbox_id: str | None = None
    ) -> str | None:
        content_sid = self.settings.templates.get(template or "")
        if content_sid is None:
            log.warning("whatsapp_notify_skipped", reason="outside the window and no approved template")
            return None
        message = Outgoing(
            content_sid=content_sid, variables={k: str(v) for k, v in (variables or {}).items()}
        )
        return await self._send(address, message, template=template, outbox_id=outbox_id)

    # --- delivery status --------------------------------------------------------------------

    async def _record_sent(
        self,
        address: str,
        sid: str,
        kind: str,
        template: str | None,
        variables: dict | None,
        outbox_id: str | None = None,
    ) -> None:
        """Remember a sent message. Its status callback may have come first: then this fills in
        what the callback could not know."""

        def sent(row: OutboundMessage) -> None:
            row.kind, row.template = kind, template
            row.outbox_id = outbox_id or row.outbox_id
            row.status_rank = max(row.status_rank, STATUS_RANK["queued"])
            if variables is not None:
                row.variables_enc = self.cipher.encrypt(
                    "outbound_messages", "variables", row.id, json.dumps(variables, ensure_ascii=False)
                )

        await self._update_row(sid, address, sent)
        if outbox_id and kind == "template":
            # A template sent instead of a refused text now carries the outbox message: its
            # status callbacks are the ones that count.
            async with self.sessions() as session, session.begin():
                await outbox_queue.follow_send(session, outbox_id, CHANNEL, sid)

    async def on_status(self, form: dict[str, str]) -> None:
        sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()[:64]
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
        if not sid or status not in STATUS_RANK:
            return
        error = _error_code(form.get("ErrorCode"))
        if status in ("failed", "undelivered"):
            log.warning("whatsapp_delivery_failed", status=status, error_code=error)

        def reported(row: OutboundMessage) -> None:
            if STATUS_RANK[status] > row.status_rank:  # never backwards
                row.status, row.status_rank = status, STATUS_RANK[status]
                row.error_code = error if error is not None else row.error_code
                row.updated_at = utcnow()

        await self._update_row(sid, (form.get("To") or "").removeprefix("whatsapp:"), reported)
        await self._report_to_outbox(sid, status, error)

    async def _report_to_outbox(self, sid: str, status: str, error: int | None) -> None:
        """The outbox message this carried follows its delivery. A failure sends it again on the
        user's next chat — except a closed window that an approved template answers."""
        if status not in ("delivered", "read", "failed", "undelivered"):
            return
        async with self.sessions() as session, session.begin():
            row = await session.scalar(select(OutboundMessage).where(OutboundMessage.sid == sid))
            if row is None or not row.outbox_id:
                return
            failed = status in ("failed", "undelivered")
            answered_by_template = (
                error == WINDOW_CLOSED and row.kind == "text" and row.template in self.settings.templates
            )
            if answered_by_template:
                return  # the template sent instead reports for itself
            await outbox_queue.delivery_report(
                session, row.outbox_id, status, platform_id=sid, failed_channel=CHANNEL if failed else None
            )

    async def _update_row(self, sid: str, address: str, change: Callable[[OutboundMessage], None]) -> None:
        """Apply `change` to the message's row, locked; the send and its status callbacks race
        each other, so whichever comes first creates the row. Then send a template fallback that
        became due (in the background: not inside Twilio's request, a send with retries can
        outlast its 15 s)."""
        for _attempt in (1, 2):
            try:
                async with self.sessions() as session, session.begin():
                    row = await session.scalar(
                        select(OutboundMessage).where(OutboundMessage.sid == sid).with_for_update()
                    )
                    if row is None:
                        row = OutboundMessage(
                            id=new_id(),
                            channel=CHANNEL,
                            sid=sid,
                            kind="unknown",
                            status="queued",
                            status_rank=-1,
                        )
                        chats.set_address(self.cipher, row, address[:128])
                        session.add(row)
                    change(row)
                    fallback = self._take_fallback(row)
                break
            except IntegrityError:
                continue  # the other side inserted the row between our select and insert: again
        else:
            return
        if fallback:
            self._spawn(self._fallback(*fallback))

    def _take_fallback(self, row: OutboundMessage) -> tuple[str, str, dict, str | None] | None:
        """A free-form message refused for the closed window, with a template to send instead
        (once): what to send, claimed in the caller's transaction."""
        if row.error_code != WINDOW_CLOSED or row.fallback_sent or not row.template or row.kind != "text":
            return None
        row.fallback_sent = True
        variables = {}
        if row.variables_enc:
            variables = json.loads(
                self.cipher.decrypt("outbound_messages", "variables", row.id, row.variables_enc)
            )
        return chats.address_of(self.cipher, row), row.template, variables, row.outbox_id

    async def _fallback(self, address: str, template: str, variables: dict, outbox_id: str | None) -> None:
        if await self._opted_out(address):  # a STOP since the free text was sent
            return
        try:
            await self._send_template(address, template, variables, outbox_id)
        except Unsubscribed:
            await self._mark_opted_out(address)
        except SendFailed as failure:
            log.warning("whatsapp_fallback_failed", code=failure.code)

    async def _mark_opted_out(self, address: str) -> None:
        async with self.sessions() as session, session.begin():
            identity = await identity_for(session, self.cipher, CHANNEL, address)
            if identity.opted_out_at is None:
                identity.opted_out_at = utcnow()


def _sid_of(form: dict[str, str]) -> str:
    return (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()[:64]


def _error_code(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
