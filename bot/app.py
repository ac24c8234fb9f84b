"""The composition root: builds the FastAPI app from backend's routers and the channels, and
wires the conversation engine to its senders."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from backend import logs
from backend.api import health
from backend.crypto import FieldCipher, load_key_ring
from backend.db import create_engine, create_sessionmaker
from backend.otp.senders import DevOtpSender, OtpSender, RoutingOtpSender, SmtpOtpSender
from backend.settings import OtpDelivery, Settings, get_settings
from bot.telegram import webhook as telegram_webhook
from bot.telegram.channel import TelegramChannel
from bot.telegram.settings import TelegramMode, TelegramSettings
from bot.web import documents
from bot.web import routes as web
from bot.web.hub import SocketHub
from bot.web.personas import Personas
from bot.whatsapp import webhook as whatsapp_webhook
from bot.whatsapp.channel import WhatsAppChannel
from bot.whatsapp.client import TwilioGateway
from bot.whatsapp.otp import TwilioSmsOtpSender, TwilioVerifyOtpSender
from bot.whatsapp.sender import TwilioSender
from bot.whatsapp.settings import TwilioSettings
from conversations.engine import Engine

log = structlog.get_logger(__name__)


def build_otp_sender(
    settings: Settings, hub: SocketHub, twilio: TwilioSettings, gateway: TwilioGateway | None
) -> OtpSender:
    """Email codes by SMTP (or, in development, to the developer panel); phone codes by SMS
    through Twilio when it is configured, else (development only) the panel too."""

    async def to_developer_panel(chat_key: str, text: str) -> None:
        await hub.send(chat_key, {"type": "dev", "text": text})

    smtp = settings.otp_delivery is OtpDelivery.SMTP
    email = SmtpOtpSender(settings.smtp_url, settings.smtp_from) if smtp else DevOtpSender(to_developer_panel)
    by_kind: dict[str, OtpSender] = {"email": email}
    if gateway is not None and twilio.sms_enabled:
        if twilio.verify_service_sid:
            by_kind["phone"] = TwilioVerifyOtpSender(gateway, twilio.verify_service_sid)
        else:
            sender = TwilioSender(
                gateway, per_second=twilio.per_sender_per_second, max_attempts=3, status_callback=None
            )
            by_kind["phone"] = TwilioSmsOtpSender(sender, twilio)
    elif not smtp:
        by_kind["phone"] = email
    return RoutingOtpSender(by_kind)


def build_telegram(
    telegram: TelegramSettings, settings: Settings, sessions, cipher, engine
) -> TelegramChannel | None:
    if not telegram.enabled:
        return None  # no token: the channel is simply off
    if telegram.mode is TelegramMode.WEBHOOK and not telegram.webhook_secret:
        raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET")
    return TelegramChannel(telegram, settings, sessions, cipher, engine)


def build_whatsapp(
    twilio: TwilioSettings, settings: Settings, sessions, cipher, engine, gateway: TwilioGateway | None
) -> WhatsAppChannel | None:
    if gateway is None or not twilio.whatsapp_enabled:
        return None  # no credentials or no WhatsApp sender: the channel is off
    return WhatsAppChannel(twilio, settings, sessions, cipher, engine, gateway)


def create_app(
    settings: Settings | None = None,
    telegram: TelegramSettings | None = None,
    twilio: TwilioSettings | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    telegram = telegram or TelegramSettings()
    twilio = twilio or TwilioSettings()
    logs.configure(settings.log_level, settings.log_json, dev_codes_allowed=not settings.is_production)
    cipher = FieldCipher(
        load_key_ring(settings.key_file, settings.keys_json)
    )  # refuses to start without keys
    db_engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(db_engine)
    hub = SocketHub()

    gateway = TwilioGateway(twilio) if twilio.enabled else None
    engine = Engine(sessions, cipher, settings, build_otp_sender(settings, hub, twilio, gateway))
    telegram_channel = build_telegram(telegram, settings, sessions, cipher, engine)
    whatsapp_channel = build_whatsapp(twilio, settings, sessions, cipher, engine, gateway)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if telegram_channel:
            await telegram_channel.start()
        if whatsapp_channel:
            await whatsapp_channel.start()
        log.info(
            "telecare_started",
            env=settings.env.value,
            telegram=telegram_channel is not None,
            whatsapp=whatsapp_channel is not None,
        )
        # Everything built so far (schemas, mappers, templates) lives as long as the process: move
        # it out of the garbage collector's view, so a full collection no longer walks it (under
        # load those collections paused the event loop for about 200 ms each).
        gc.collect()
        gc.freeze()
        yield
        if telegram_channel:
            await telegram_channel.close()
        if whatsapp_channel:
            await whatsapp_channel.close()
        if gateway:
            await gateway.close()
        await db_engine.dispose()

    app = FastAPI(title="telecare", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.cipher = cipher
    app.state.hub = hub
    app.state.engine = engine
    app.state.telegram = telegram_channel
    app.state.whatsapp = whatsapp_channel
    app.state.personas = Personas(sessions, cipher)
    app.include_router(health.router)
    app.include_router(web.router)
    app.include_router(documents.router)
    app.include_router(telegram_webhook.router)
    app.include_router(whatsapp_webhook.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    return app
