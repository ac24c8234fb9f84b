"""Sending one WhatsApp or SMS message through Twilio: paced per sender, retried on 429 and 5xx
and network errors with backoff and jitter, never blocking the event loop (twilio's aiohttp
client). Twilio queues what it accepted, so order within a chat is kept by sending one at a time."""

from __future__ import annotations

import asyncio
import json
import random

import aiohttp
import structlog
from twilio.base.exceptions import TwilioException, TwilioRestException

from bot.whatsapp.client import TwilioGateway
from bot.whatsapp.render import Outgoing
from notifications.ratelimit import LocalLimits, Rate, RateLimits

log = structlog.get_logger(__name__)

WINDOW_CLOSED = 63016  # free-form WhatsApp message outside the 24-hour window
UNSUBSCRIBED = 21610  # the recipient replied STOP (Twilio's own opt-out list)
RETRY_STATUSES = {429, 500, 502, 503, 504}


class SendFailed(Exception):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class WindowClosed(SendFailed):
    pass


class Unsubscribed(SendFailed):
    pass


class TwilioSender:
    def __init__(
        self,
        gateway: TwilioGateway,
        *,
        per_second: float,
        max_attempts: int,
        status_callback: str | None,
        backoff_base: float = 0.5,
        limits: RateLimits | None = None,
    ) -> None:
        self.gateway = gateway
        # Per sending number (or Messaging Service): shared through Redis when it is configured.
        self._limits = limits or LocalLimits()
        self._rate = Rate(per_second, burst=max(1, int(per_second) // 10))
        self._max_attempts = max(1, max_attempts)
        self._status_callback = status_callback
        self._backoff_base = backoff_base

    async def send(self, to: str, message: Outgoing, *, sender: str) -> str:
        """Hand one message to Twilio; its SID. `to` and `sender` are full addresses
        (`whatsapp:+…` or `+…`); `sender` may be a Messaging Service SID (MG…)."""
        params: dict = {"to": to}
        if sender.startswith("MG"):
            params["messaging_service_sid"] = sender
        else:
            params["from_"] = sender
        if message.content_sid:
            params["content_sid"] = message.content_sid
            params["content_variables"] = json.dumps(message.variables or {}, ensure_ascii=False)
        else:
            params["body"] = message.body
            if message.media_url:
                params["media_url"] = [message.media_url]
        if self._status_callback:
            params["status_callback"] = self._status_callback
        return await self._with_retries(params, f"twilio:{sender}")

    async def _with_retries(self, params: dict, limit_key: str) -> str:
        for attempt in range(1, self._max_attempts + 1):
            await self._limits.acquire(limit_key, self._rate)
            try:
                created = await self.gateway.client.messages.create_async(**params)
                return created.sid
            except TwilioRestException as refused:
                if refused.code == WINDOW_CLOSED:
                    raise WindowClosed(refused.msg, refused.code) from refused
                if refused.code == UNSUBSCRIBED:
                    raise Unsubscribed(refused.msg, refused.code) from refused
                if refused.status not in RETRY_STATUSES:
                    raise SendFailed(refused.msg, refused.code) from refused
                log.warning("twilio_retry", status=refused.status, code=refused.code, attempt=attempt)
            except (aiohttp.ClientError, TimeoutError, TwilioException) as failure:
                log.warning("twilio_retry", error=type(failure).__name__, attempt=attempt)
            if attempt < self._max_attempts:
                await asyncio.sleep(self._backoff_base * 2 ** (attempt - 1) * (1 + random.random() / 2))
        raise SendFailed(f"Twilio refused the message {self._max_attempts} times")
