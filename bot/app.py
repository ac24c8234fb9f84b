"""The composition root: builds the FastAPI app from backend's routers and the channels, and
wires the conversation engine to its senders."""

from __future__ import annotations

import asyncio
import gc
import signal
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from backend import logs
from backend.api import admin as admin_api
from backend.api import admin_payments, health
from backend.api import payments as payments_api
from backend.crypto import FieldCipher, load_key_ring
from backend.db import create_engine, create_sessionmaker
from backend.otp.senders import DevOtpSender, OtpSender, RoutingOtpSender, SmtpOtpSender
from backend.payments import build_gateways
from backend.payments.gateway import Gateways
from backend.settings import DispatcherMode, OtpDelivery, Settings, get_settings
from bot import server_logging
from bot.body_limits import BodyLimitMiddleware
from bot.housekeeping import Housekeeper
from bot.telegram import webhook as telegram_webhook
from bot.telegram.channel import TelegramChannel
from bot.telegram.notify import TelegramNotifier
from bot.telegram.settings import TelegramMode, TelegramSettings
from bot.web import documents, terms
from bot.web import routes as web
from bot.web.hub import SocketHub
from bot.web.notify import WebNotifier
from bot.web.personas import Personas
from bot.web.relay import WebRelay
from bot.whatsapp import webhook as whatsapp_webhook
from bot.whatsapp.channel import WhatsAppChannel
from bot.whatsapp.client import TwilioGateway
from bot.whatsapp.notify import WhatsAppNotifier
from bot.whatsapp.otp import TwilioSmsOtpSender, TwilioVerifyOtpSender
from bot.whatsapp.sender import TwilioSender
from bot.whatsapp.settings import TwilioSettings
from conversations.engine import Engine
from notifications import ratelimit
from notifications.dispatcher import Dispatcher, DispatchSettings
from notifications.ratelimit import RateLimits
from notifications.sender import Sender

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
    telegram: TelegramSettings, settings: Settings, sessions, cipher, engine, limits: RateLimits | None = None
) -> TelegramChannel | None:
    if not telegram.enabled:
        return None  # no token: the channel is simply off
    if telegram.mode is TelegramMode.WEBHOOK and not telegram.webhook_secret:
        raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET")
    return TelegramChannel(telegram, settings, sessions, cipher, engine, limits)


def build_whatsapp(
    twilio: TwilioSettings,
    settings: Settings,
    sessions,
    cipher,
    engine,
    gateway: TwilioGateway | None,
    limits: RateLimits | None = None,
) -> WhatsAppChannel | None:
    if gateway is None or not twilio.whatsapp_enabled:
        return None  # no credentials or no WhatsApp sender: the channel is off
    return WhatsAppChannel(twilio, settings, sessions, cipher, engine, gateway, limits)


def build_dispatcher(
    settings: Settings, sessions, cipher, hub: SocketHub, telegram, whatsapp, relay: WebRelay | None = None
) -> Dispatcher:
    """The outbox dispatcher with a sender for every channel that is on."""
    senders: dict[str, Sender] = {"web": WebNotifier(hub, relay, sessions=sessions, cipher=cipher)}
    if telegram is not None:
        senders["telegram"] = TelegramNotifier(telegram)
    if whatsapp is not None:
        senders["whatsapp"] = WhatsAppNotifier(whatsapp)
    return Dispatcher(sessions, cipher, senders, dispatch_settings(settings))


def dispatch_settings(settings: Settings) -> DispatchSettings:
    return DispatchSettings(
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        max_attempts=settings.outbox_max_attempts,
        retry_base_seconds=settings.outbox_retry_base_seconds,
        poll_seconds=settings.outbox_poll_seconds,
    )


@dataclass
class Parts:
    """What the web app and a `telecare worker` are both made of."""

    settings: Settings
    cipher: FieldCipher
    db_engine: AsyncEngine
    sessions: async_sessionmaker
    hub: SocketHub
    gateway: TwilioGateway | None
    limits: RateLimits
    engine: Engine
    telegram: TelegramChannel | None
    whatsapp: WhatsAppChannel | None
    relay: WebRelay | None
    dispatcher: Dispatcher
    gateways: Gateways
    housekeeper: Housekeeper

    async def close(self) -> None:
        """After the dispatcher has stopped: the channels, then the clients and the database."""
        if self.telegram:
            await self.telegram.close()
        if self.whatsapp:
            await self.whatsapp.close()
        if self.gateway:
            await self.gateway.close()
        await self.limits.close()
        if self.relay:
            await self.relay.close()
        await self.gateways.close()
        await self.db_engine.dispose()


def build_parts(settings: Settings, telegram: TelegramSettings, twilio: TwilioSettings) -> Parts:
    cipher = FieldCipher(
        load_key_ring(settings.key_file, settings.keys_json)
    )  # refuses to start without keys
    db_engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(db_engine, cipher.ring)  # the ring seals the audit chain
    hub = SocketHub()
    gateway = TwilioGateway(twilio) if twilio.enabled else None
    limits = ratelimit.build(settings.redis_url)
    gateways = build_gateways(settings, cipher)
    engine = Engine(
        sessions, cipher, settings, build_otp_sender(settings, hub, twilio, gateway), gateways=gateways
    )
    telegram_channel = build_telegram(telegram, settings, sessions, cipher, engine, limits)
    whatsapp_channel = build_whatsapp(twilio, settings, sessions, cipher, engine, gateway, limits)
    # With Redis, notifications reach web chats open in other processes (and workers reach ours).
    relay = WebRelay(settings.redis_url) if settings.redis_url else None
    dispatcher = build_dispatcher(settings, sessions, cipher, hub, telegram_channel, whatsapp_channel, relay)
    engine.on_commit = dispatcher.wake  # a message the step just wrote goes now, not at the next poll
    housekeeper = Housekeeper(sessions, cipher, settings, gateways, wake=dispatcher.wake)
    return Parts(
        settings, cipher, db_engine, sessions, hub, gateway, limits, engine,
        telegram_channel, whatsapp_channel, relay, dispatcher, gateways, housekeeper,
    )  # fmt: skip


async def run_worker(settings: Settings, *, once: bool = False) -> int:
    """`telecare worker`: the outbox dispatcher alone, with senders for the channels that are on
    (nothing inbound is processed here). Web chats are in the web processes: messages for a web
    chat reach them through Redis, or wait there until the chat opens. Returns how many messages
    `once` handled."""
    parts = build_parts(settings, TelegramSettings(), TwilioSettings())
    dispatcher = parts.dispatcher
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # finish the sends under way, then stop
        loop.add_signal_handler(stop_signal, lambda: (dispatcher.stop(), parts.housekeeper.stop()))
    try:
        if once:
            await parts.housekeeper.sweep_once()
            return await dispatcher.drain()
        housekeeping = asyncio.create_task(parts.housekeeper.run(), name="housekeeping")
        await dispatcher.run()
        parts.housekeeper.stop()
        await housekeeping
        return 0
    finally:
        await dispatcher.close()
        await parts.close()


def create_app(
    settings: Settings | None = None,
    telegram: TelegramSettings | None = None,
    twilio: TwilioSettings | None = None,
) -> FastAPI:
    server_logging.install()
    settings = settings or get_settings()
    logs.configure(settings.log_level, settings.log_json, dev_codes_allowed=not settings.is_production)
    parts = build_parts(settings, telegram or TelegramSettings(), twilio or TwilioSettings())
    telegram_channel, whatsapp_channel = parts.telegram, parts.whatsapp
    relay, dispatcher, hub = parts.relay, parts.dispatcher, parts.hub

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if telegram_channel:
            await telegram_channel.start()
        if whatsapp_channel:
            await whatsapp_channel.start()
        relaying = asyncio.create_task(relay.serve(hub), name="web-relay") if relay else None
        dispatching = housekeeping = None
        if settings.dispatcher is DispatcherMode.IN_PROCESS:
            dispatching = asyncio.create_task(dispatcher.run(), name="outbox-dispatcher")
            housekeeping = asyncio.create_task(parts.housekeeper.run(), name="housekeeping")
        log.info(
            "telecare_started",
            env=settings.env.value,
            telegram=telegram_channel is not None,
            whatsapp=whatsapp_channel is not None,
            dispatcher=settings.dispatcher.value,
            shared_rate_limits=settings.redis_url is not None,
        )
        # Everything built so far (schemas, mappers, templates) lives as long as the process: move
        # it out of the garbage collector's view, so a full collection no longer walks it (under
        # load those collections paused the event loop for about 200 ms each).
        gc.collect()
        gc.freeze()
        yield
        if housekeeping:
            parts.housekeeper.stop()
            await housekeeping
        if dispatching:
            dispatcher.stop()
            await dispatching
        if relaying:
            relaying.cancel()
            await asyncio.gather(relaying, return_exceptions=True)
        await parts.close()

    app = FastAPI(title="telecare", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.sessions = parts.sessions
    app.state.cipher = parts.cipher
    app.state.hub = hub
    app.state.engine = parts.engine
    app.state.telegram = telegram_channel
    app.state.whatsapp = whatsapp_channel
    app.state.dispatcher = dispatcher
    app.state.gateways = parts.gateways
    app.state.housekeeper = parts.housekeeper
    app.state.relay = relay
    app.state.personas = Personas(parts.sessions, parts.cipher)
    app.include_router(health.router)
    app.include_router(admin_api.router)
    app.include_router(admin_payments.router)
    app.include_router(payments_api.router)
    app.include_router(web.router)
    app.include_router(documents.router)
    app.include_router(terms.router)
    app.include_router(telegram_webhook.router)
    app.include_router(whatsapp_webhook.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    app.add_middleware(BodyLimitMiddleware)  # every request body is bounded while it is read
    return app
