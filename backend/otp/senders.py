"""Delivering OTP codes. The engine calls a sender after its transaction has committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib
import structlog

from backend.accounts.contacts import mask

log = structlog.get_logger(__name__)


class OtpDeliveryError(Exception):
    """The code could not be handed to the delivery service."""


class OtpSender(Protocol):
    def supports(self, kind: str) -> bool: ...

    async def send(self, *, kind: str, destination: str, code: str, chat_key: str, message: str) -> None: ...

    def checks_codes(self, kind: str) -> bool:
        """True when the delivery service makes and checks the code itself (Twilio Verify)."""
        ...

    async def check(self, *, kind: str, destination: str, code: str) -> bool:
        """Only for senders that check codes: is this the code the service sent?"""
        ...


class OwnCodes:
    """Senders that deliver our own codes: backend.otp checks them."""

    def checks_codes(self, kind: str) -> bool:
        return False

    async def check(self, *, kind: str, destination: str, code: str) -> bool:
        raise NotImplementedError("backend.otp checks our own codes")


class DevOtpSender(OwnCodes):
    """Development only: the code goes to the server log and to the web chat's developer panel.
    Settings refuse this sender in production."""

    def __init__(self, publish: Callable[[str, str], Awaitable[None]] | None = None) -> None:
        self._publish = publish

    def supports(self, kind: str) -> bool:
        return True

    async def send(self, *, kind: str, destination: str, code: str, chat_key: str, message: str) -> None:
        # Deliberately logged in clear, and only by this development sender.
        log.warning("dev_otp_delivery", dev_code=code, destination=mask(kind, destination))
        if self._publish is not None:
            await self._publish(chat_key, f"OTP for {mask(kind, destination)}: {code}")


class SmtpOtpSender(OwnCodes):
    """Email codes through an SMTP relay (aiosmtplib). Phone codes need the SMS channel."""

    def __init__(self, smtp_url: str, sender: str, timeout: float = 15.0) -> None:
        self._url = smtp_url
        self._from = sender
        self._timeout = timeout

    def supports(self, kind: str) -> bool:
        return kind == "email"

    async def send(self, *, kind: str, destination: str, code: str, chat_key: str, message: str) -> None:
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(self._url)
        email = EmailMessage()
        email["From"] = self._from
        email["To"] = destination
        email["Subject"] = message.splitlines()[0][:120]
        email.set_content(message)
        try:
            await aiosmtplib.send(
                email,
                hostname=parts.hostname or "localhost",
                port=parts.port or (465 if parts.scheme == "smtps" else 25),
                username=unquote(parts.username) if parts.username else None,
                password=unquote(parts.password) if parts.password else None,
                use_tls=parts.scheme == "smtps",
                start_tls=None
                if parts.scheme == "smtps"
                else (True if parts.scheme == "smtp+starttls" else None),
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise OtpDeliveryError(str(exc)) from exc
        log.info("otp_email_sent", destination=mask(kind, destination))


class RoutingOtpSender:
    """Email codes one way, phone codes another."""

    def __init__(self, by_kind: dict[str, OtpSender]) -> None:
        self._by_kind = by_kind

    def supports(self, kind: str) -> bool:
        sender = self._by_kind.get(kind)
        return sender is not None and sender.supports(kind)

    def checks_codes(self, kind: str) -> bool:
        sender = self._by_kind.get(kind)
        return sender is not None and sender.checks_codes(kind)

    async def check(self, *, kind: str, destination: str, code: str) -> bool:
        return await self._by_kind[kind].check(kind=kind, destination=destination, code=code)

    async def send(self, *, kind: str, destination: str, code: str, chat_key: str, message: str) -> None:
        await self._by_kind[kind].send(
            kind=kind, destination=destination, code=code, chat_key=chat_key, message=message
        )
