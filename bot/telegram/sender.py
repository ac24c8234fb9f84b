"""Sending to Telegram within its limits: about 1 message per second per chat and 30 per second
per bot (both configurable; notifications.ratelimit: in process, or shared through Redis with every
other process sending for this bot), in order per chat. A 429 waits `retry_after` and
sends again; 5xx and network errors retry with exponential backoff and jitter; a 403 (the user
blocked the bot) marks the chat unreachable and stops."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import structlog
from aiogram import Bot
from aiogram.client.session.base import Response
from aiogram.exceptions import (
    RestartingTelegram,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    GetFile,
    GetUpdates,
    SendDocument,
    SendMessage,
    TelegramMethod,
)

from notifications.ratelimit import HEADROOM, LocalLimits, Rate, RateLimits

log = structlog.get_logger(__name__)

# aiogram parses every answer with Response[<return type>]; pydantic keeps those generic models
# only weakly, so they were rebuilt again and again under load (~4 ms each, 10-15% of the CPU in
# the benchmark's profile). Holding them here keeps them built once.
_RESPONSE_MODELS = [
    Response[m.__returning__]
    for m in (SendMessage, SendDocument, EditMessageReplyMarkup, AnswerCallbackQuery, GetUpdates, GetFile)
]


class Unreachable(Exception):
    """The chat refuses our messages (blocked bot, deactivated user)."""


class SendFailed(Exception):
    """Telegram kept failing; the message was not delivered."""


class TelegramSender:
    def __init__(
        self,
        bot: Bot,
        *,
        per_chat_per_second: float,
        per_bot_per_second: float,
        max_attempts: int,
        on_unreachable: Callable[[int], Awaitable[None]],
        backoff_base: float = 0.5,
        limits: RateLimits | None = None,
    ) -> None:
        self.bot = bot
        self._limits = limits or LocalLimits()
        self._chat_rate = Rate(per_chat_per_second)
        self.chat_interval = 1 / (per_chat_per_second * HEADROOM)  # what the limiter allows
        # Small bursts: arrivals stay even, well inside Telegram's own bucket.
        self._bot_rate = Rate(per_bot_per_second, burst=max(1, int(per_bot_per_second) // 10))
        self._bot_key = f"telegram:{bot.id}"
        self._max_attempts = max_attempts
        self._on_unreachable = on_unreachable
        self._backoff_base = backoff_base

    async def _paced(self, chat_id: int) -> None:
        # The chat first, then the bot: waiting for a busy chat must not spend the bot's budget.
        await self._limits.acquire(f"{self._bot_key}:chat:{chat_id}", self._chat_rate)
        await self._limits.acquire(self._bot_key, self._bot_rate)

    async def call(self, chat_id: int, method: TelegramMethod):
        """One call into a chat, with pacing and retries. Raises Unreachable or SendFailed."""
        for attempt in range(1, self._max_attempts + 1):
            await self._paced(chat_id)
            try:
                return await self.bot(method)
            except TelegramRetryAfter as flood:
                wait = float(flood.retry_after)
                log.warning("telegram_429", retry_after=wait, attempt=attempt)
            except TelegramForbiddenError as refused:
                log.info("telegram_unreachable", reason=refused.message[:80])
                await self._on_unreachable(chat_id)
                raise Unreachable(refused.message) from refused
            except (TelegramServerError, RestartingTelegram, TelegramNetworkError) as failure:
                wait = self._backoff_base * 2 ** (attempt - 1) * (1 + random.random() / 2)
                log.warning("telegram_retry", error=type(failure).__name__, attempt=attempt)
            if attempt < self._max_attempts:
                await asyncio.sleep(wait)
        raise SendFailed(f"{type(method).__name__} failed after {self._max_attempts} attempts")
