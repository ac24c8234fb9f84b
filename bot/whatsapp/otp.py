"""One-time codes by SMS through Twilio, for phone numbers a channel has not proven (typed on
Telegram or the web). With a Verify service Twilio makes, sends and checks the code (approved only
on status "approved"); otherwise our own code goes through the Messages API. Either way the
foundation's rules (expiry, attempts, cooldown) are enforced by backend.otp around it."""

from __future__ import annotations

import aiohttp
import structlog
from twilio.base.exceptions import TwilioException, TwilioRestException

from backend.accounts.contacts import mask
from backend.otp.senders import OtpDeliveryError, OwnCodes
from bot.whatsapp.client import TwilioGateway
from bot.whatsapp.render import Outgoing
from bot.whatsapp.sender import SendFailed, TwilioSender
from bot.whatsapp.settings import TwilioSettings

log = structlog.get_logger(__name__)
_NETWORK = (aiohttp.ClientError, TimeoutError)


class TwilioSmsOtpSender(OwnCodes):
    """Our own code in an SMS (Messages API)."""

    def __init__(self, sender: TwilioSender, settings: TwilioSettings) -> None:
        self._sender = sender
        self._from = settings.messaging_service_sid or settings.sms_from

    def supports(self, kind: str) -> bool:
        return kind == "phone"

    async def send(self, *, kind: str, destination: str, code: str, chat_key: str, message: str) -> None:
        try:
            await self._sender.send(destination, Outgoing(body=message), sender=self._from)
        except SendFailed as failure:
            raise OtpDeliveryError(f"SMS refused ({failure.code})") from failure
        log.info("otp_sms_sent", destination=mask(kind, destination))


class TwilioVerifyOtpSender:
    """Twilio Verify makes and checks the code; our own code is not used."""

    def __init__(self, gateway: TwilioGateway, service_sid: str) -> None:
        self._gateway = gateway
        self._service = service_sid

    def supports(self, kind: str) -> bool:
        return kind == "phone"

    def checks_codes(self, kind: str) -> bool:
        return kind == "phone"

    async def send(self, *, kind: str, destination: str, code: str, chat_key: str, message: str) -> None:
        service = self._gateway.client.verify.v2.services(self._service)
        try:
            await service.verifications.create_async(to=destination, channel="sms")
        except (TwilioException, *_NETWORK) as failure:
            raise OtpDeliveryError(f"Verify refused the send ({getattr(failure, 'code', None)})") from failure
        log.info("otp_verify_sent", destination=mask(kind, destination))

    async def check(self, *, kind: str, destination: str, code: str) -> bool:
        service = self._gateway.client.verify.v2.services(self._service)
        try:
            checked = await service.verification_checks.create_async(to=destination, code=code)
        except TwilioRestException as refused:
            if refused.status in (404, 429):  # expired, already used, or too many tries at Twilio
                return False
            raise OtpDeliveryError(f"Verify refused the check ({refused.code})") from refused
        except (TwilioException, *_NETWORK) as failure:
            raise OtpDeliveryError("Verify could not be reached") from failure
        return checked.status == "approved"
