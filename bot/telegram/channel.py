"""The Telegram channel: store each update first, then process it through the engine and send
the replies, in order, within Telegram's limits.

- Webhook mode: the route stores the update (encrypted, in the inbox) and answers 200 at once;
  processing runs in the background. Long-polling mode stores what getUpdates returns the same way.
- A crash after the 200 loses nothing: on start, stored updates not yet processed are processed.
- The engine claims the stored update in its own transaction, so each is processed exactly once.
- One chat never holds up another: a chat's updates wait for each other on the chat's own lock
  (order, and the 1 msg/s pace of its replies), and only then take one of the few shared slots,
  and only for the database and engine work, never while waiting or sending.
- An update that cannot be used (malformed, a file that cannot be fetched, an engine error) is
  finished as failed in the inbox, its chat told once, and never retried; one that cannot even be
  stored (too deep, a lone surrogate) is refused with its reason and recorded as failed.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress

import aiohttp
import structlog
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import AnswerCallbackQuery, EditMessageReplyMarkup, GetUpdates, SendDocument
from aiogram.types import BufferedInputFile
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import inbox
from backend.accounts import chats
from backend.crypto import FieldCipher
from backend.inbox import InboxWriter
from backend.models import ChannelIdentity
from backend.settings import Settings
from bot.telegram import render
from bot.telegram.sender import SendFailed, TelegramSender, Unreachable
from bot.telegram.settings import TelegramMode, TelegramSettings
from bot.telegram.updates import Parsed, Unusable, parse, platform_id, private_chat_of
from bot.uploads import store_upload
from bot.web import documents
from conversations.chat_locks import ChatLocks
from conversations.engine import Engine
from conversations.messages import Inbound, InboundKind, Reply
from notifications.ratelimit import RateLimits

log = structlog.get_logger(__name__)
CHANNEL = "telegram"
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile's limit
POLL_TIMEOUT = 25
# Updates in the database or the engine at once (a chat waiting for its turn or sending its
# replies holds none of these). Kept under the database pool's size, so the webhook's own insert
# never queues behind a crowd of background transactions (benchmark: p50 540 → 50 ms). SQLite has
# one connection for everything (backend/db.py), so there the webhook's insert waits behind every
# update being processed: fewer at once (200 users: webhook p99 250 → 136 ms, throughput -5%).
MAX_CONCURRENT_UPDATES = {"sqlite": 4}
DEFAULT_CONCURRENT_UPDATES = 8


class FileUnavailable(Exception):
    """A file the user sent could not be fetched from Telegram."""


def make_bot(settings: TelegramSettings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.api_base_url))
    return Bot(token=settings.bot_token, session=session)


class TelegramChannel:
    def __init__(
        self,
        settings: TelegramSettings,
        app_settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        engine: Engine,
        limits: RateLimits | None = None,
    ) -> None:
        self.settings = settings
        self.app_settings = app_settings
        self.sessions = sessions
        self.cipher = cipher
        self.engine = engine
        self.bot = make_bot(settings)
        self.sender = TelegramSender(
            self.bot,
            per_chat_per_second=settings.per_chat_per_second,
            per_bot_per_second=settings.per_bot_per_second,
            max_attempts=settings.max_send_attempts,
            on_unreachable=self._mark_unreachable,
            limits=limits,
        )
        self.chat_order = ChatLocks()  # forgets a chat's lock once nobody holds or waits for it
        self._tasks: set[asyncio.Task] = set()
        dialect = sessions.kw["bind"].dialect.name
        self._processing = asyncio.Semaphore(MAX_CONCURRENT_UPDATES.get(dialect, DEFAULT_CONCURRENT_UPDATES))
        self._poller: asyncio.Task | None = None
        self.inbox = InboxWriter(sessions, cipher)

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        await self.resume_pending()
        if self.settings.mode is TelegramMode.POLLING:
            self._poller = asyncio.create_task(self._poll_forever(), name="telegram-polling")

    async def close(self) -> None:
        if self._poller:
            self._poller.cancel()
            with suppress(asyncio.CancelledError):
                await self._poller
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.inbox.close()
        await self.bot.session.close()

    async def idle(self) -> None:
        """Wait until every background update has been handled (tests, benchmarks, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- receiving --------------------------------------------------------------------------

    async def accept(self, update: dict) -> bool:
        """Store an update before anything else; False when it was seen before (a redelivery).
        One that cannot be kept (nested too deep, a lone surrogate) raises `inbox.Unstorable`
        after it is recorded as failed (and its chat told, once): it never reaches the batch of
        other updates being stored."""
        problem = inbox.payload_problem(update)
        if problem is None:
            try:
                return await self.inbox.store(
                    CHANNEL, platform_id(update), json.dumps(update, ensure_ascii=False)
                )
            except inbox.Unstorable as unstorable:
                problem = unstorable.reason
        await self.refuse(update, problem)
        raise inbox.Unstorable(problem)

    async def refuse(self, update: dict, reason: str) -> None:
        """Record an update that cannot be kept as failed with `reason`; its private chat, when
        known, is told once (a redelivery finds it already failed and says nothing)."""
        log.warning("telegram_update_refused", reason=reason)
        if await self.inbox.store_failed(CHANNEL, platform_id(update), reason):
            chat_id = private_chat_of(update)
            if chat_id is not None:  # told in the background: the webhook answers at once
                self._spawn(self._apologise(chat_id))

    async def _apologise(self, chat_id: int) -> None:
        async with self._processing:
            replies = await self.engine.apology(CHANNEL, str(chat_id), "message_unusable")
        async with self.chat_order.hold(str(chat_id)):
            await self._deliver_quietly(chat_id, replies)

    def schedule(self, update: dict) -> None:
        self._spawn(self.process(update))

    def _spawn(self, work) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # kept until done; idle() and close() wait for them
        task.add_done_callback(self._tasks.discard)

    async def receive(self, update: dict) -> bool:
        """Store, then process in the background. False for a duplicate."""
        if not await self.accept(update):
            return False
        self.schedule(update)
        return True

    async def resume_pending(self) -> int:
        payloads = await self.inbox.pending(CHANNEL)
        for payload in payloads:
            self.schedule(payload)
        if payloads:
            log.info("telegram_resumed", count=len(payloads))
        return len(payloads)

    async def process(self, update: dict) -> None:
        """One stored update. The chat's lock first (its updates and replies stay in order, paced
        for that chat alone), then a shared slot only around the database and engine work."""
        try:
            parsed = parse(update)
        except Unusable as unusable:
            await self._give_up(update, unusable.chat_id, unusable.reason, "message_unusable", locked=False)
            return
        if parsed.inbound is None:
            await self._discard(update)
            if parsed.callback_query_id:
                await self._answer_callback(parsed)
            return
        async with self.chat_order.hold(str(parsed.chat_id)):
            await self._handle(update, parsed)

    async def _handle(self, update: dict, parsed: Parsed) -> None:
        """Under the chat's lock: the file, the engine (in a shared slot), then the replies."""
        try:
            inbound = await self._with_file(parsed)
        except FileUnavailable:
            await self._give_up(update, parsed.chat_id, "file_unavailable", "file_unavailable")
            return
        except Exception:
            log.exception("telegram_update_failed")
            await self._give_up(update, parsed.chat_id, "processing_error", "internal_error")
            return
        async with self._processing:
            replies = await self.engine.handle(inbound, stored=True)  # finishes failures itself
        try:
            if parsed.callback_query_id:
                await self._answer_callback(parsed)
            await self._deliver(parsed.chat_id, replies)
        except (Unreachable, SendFailed) as failure:
            log.warning("telegram_delivery_failed", error=type(failure).__name__)
        except Exception:
            log.exception("telegram_delivery_failed")
            async with self._processing, self.sessions() as session, session.begin():
                await inbox.fail(session, CHANNEL, parsed.inbound.platform_id, "delivery_error")

    async def _give_up(
        self, update: dict, chat_id: int | None, reason: str, say: str, *, locked: bool = True
    ) -> None:
        """Finish the update as failed; its chat (if known) is told once. `locked`: the caller
        already holds the chat's lock."""
        chat = None if chat_id is None else str(chat_id)
        async with self._processing:
            replies = await self.engine.give_up(CHANNEL, chat, platform_id(update), reason, say)
        if not replies:
            return
        if locked:
            await self._deliver_quietly(chat_id, replies)
            return
        async with self.chat_order.hold(chat):
            await self._deliver_quietly(chat_id, replies)

    async def _deliver_quietly(self, chat_id: int, replies: list[Reply]) -> None:
        """An apology is best effort: a chat that cannot be reached is simply not told."""
        try:
            await self._deliver(chat_id, replies)
        except Exception as failure:
            log.warning("telegram_delivery_failed", error=type(failure).__name__)

    async def _discard(self, update: dict) -> None:
        """Updates the engine has no use for (group chats, edits) are marked processed."""
        async with self._processing, self.sessions() as session, session.begin():
            await inbox.claim(session, CHANNEL, platform_id(update))

    async def _answer_callback(self, parsed: Parsed) -> None:
        """Every pressed button is answered (the client shows a spinner until then), and its
        keyboard removed so the same button cannot be pressed twice."""
        with suppress(TelegramAPIError, TelegramNetworkError):
            await self.bot(AnswerCallbackQuery(callback_query_id=parsed.callback_query_id))
        if parsed.pressed_message_id and parsed.chat_id:
            with suppress(TelegramAPIError, Unreachable, SendFailed):
                await self.sender.call(
                    parsed.chat_id,
                    EditMessageReplyMarkup(chat_id=parsed.chat_id, message_id=parsed.pressed_message_id),
                )

    async def _with_file(self, parsed: Parsed) -> Inbound:
        """Fetch a document or photo the user sent and keep it encrypted; the engine gets its id.
        Raises FileUnavailable when Telegram does not give it to us."""
        if parsed.inbound.kind is not InboundKind.FILE or not parsed.file_id:
            return parsed.inbound
        if parsed.file_size > MAX_DOWNLOAD_BYTES:
            return parsed.inbound  # file_ref stays empty: the step says it cannot use it
        data = await self._fetch_file(parsed.file_id)  # outside the shared slot: a slow network
        async with self._processing:
            file_ref = await store_upload(
                self.sessions,
                self.cipher,
                channel=CHANNEL,
                chat_id=parsed.inbound.chat_id,
                platform_file_id=parsed.file_id,
                filename=parsed.file_name,
                content_type=parsed.content_type,
                data=data,
            )
        inbound = parsed.inbound
        return Inbound(
            channel=inbound.channel,
            chat_id=inbound.chat_id,
            kind=inbound.kind,
            file_ref=file_ref,
            platform_id=inbound.platform_id,
            at=inbound.at,
        )

    async def _fetch_file(self, file_id: str) -> bytes:
        try:
            file = await self.bot.get_file(file_id)
            if not file.file_path:
                raise FileUnavailable("no file_path")
            content = await self.bot.download_file(file.file_path)
            return content.read()
        except (TelegramAPIError, TelegramNetworkError, aiohttp.ClientError, TimeoutError) as failure:
            log.warning("telegram_file_unavailable", error=type(failure).__name__)
            raise FileUnavailable(type(failure).__name__) from failure

    # --- sending ----------------------------------------------------------------------------

    async def _deliver(self, chat_id: int, replies: list[Reply]) -> None:
        # These answer the user's own update, which just proved the chat reachable (the engine
        # cleared the flag), so there is no need to look it up; a 403 still marks it again.
        if not replies:
            return
        for reply in replies:
            for method in render.messages(chat_id, reply):
                await self.sender.call(chat_id, method)
            if reply.document:
                await self._send_document(chat_id, reply)

    async def _send_document(self, chat_id: int, reply: Reply) -> None:
        document = reply.document
        token = documents.token_of(document.url, self.app_settings.public_base_url)
        found = (
            await documents.fetch_any(self.sessions, self.cipher, token, channel=CHANNEL) if token else None
        )
        if found is None:
            return
        if isinstance(found, str):  # a health summary, rendered for this user
            upload = BufferedInputFile(found.encode(), filename=document.filename)
        else:  # a provider's document, for an admin deciding on the application
            upload = BufferedInputFile(found.data, filename=found.filename)
        caption = render.escape(document.caption)[:1024]
        await self.sender.call(
            chat_id, SendDocument(chat_id=chat_id, document=upload, caption=caption, parse_mode="HTML")
        )

    async def _mark_unreachable(self, chat_id: int) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(ChannelIdentity)
                .where(*chats.is_chat(self.cipher, CHANNEL, str(chat_id)))
                .values(unreachable=True)
            )

    # --- long polling -----------------------------------------------------------------------

    async def _poll_forever(self) -> None:
        offset = None
        while True:
            try:
                updates = await self.bot(
                    GetUpdates(offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
                )
            except (TelegramAPIError, TelegramNetworkError) as failure:
                log.warning("telegram_poll_failed", error=type(failure).__name__)
                await asyncio.sleep(2)
                continue
            for item in updates:
                raw = item.model_dump(mode="json", exclude_none=True, by_alias=True)
                try:
                    await self.receive(raw)
                except inbox.Unstorable:
                    pass  # recorded as failed: confirmed below like any other
                except Exception as failure:  # not stored (database away): fetched again
                    log.warning("telegram_store_failed", error=type(failure).__name__)
                    await asyncio.sleep(2)
                    break
                offset = item.update_id + 1


ALLOWED_UPDATES = ["message", "callback_query"]
