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
from backend.otp.senders import DevOtpSender, OtpSender, SmtpOtpSender
from backend.settings import OtpDelivery, Settings, get_settings
from bot.telegram import webhook as telegram_webhook
from bot.telegram.channel import TelegramChannel
from bot.telegram.settings import TelegramMode, TelegramSettings
from bot.web import documents
from bot.web import routes as web
from bot.web.hub import SocketHub
from bot.web.personas import Personas
from conversations.engine import Engine

log = structlog.get_logger(__name__)


def build_otp_sender(settings: Settings, hub: SocketHub) -> OtpSender:
    if settings.otp_delivery is OtpDelivery.SMTP:
        return SmtpOtpSender(settings.smtp_url, settings.smtp_from)

    async def to_developer_panel(chat_key: str, text: str) -> None:
        await hub.send(chat_key, {"type": "dev", "text": text})

    return DevOtpSender(publish=to_developer_panel)


def build_telegram(
    telegram: TelegramSettings, settings: Settings, sessions, cipher, engine
) -> TelegramChannel | None:
    if not telegram.enabled:
        return None  # no token: the channel is simply off
    if telegram.mode is TelegramMode.WEBHOOK and not telegram.webhook_secret:
        raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET")
    return TelegramChannel(telegram, settings, sessions, cipher, engine)


def create_app(settings: Settings | None = None, telegram: TelegramSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    telegram = telegram or TelegramSettings()
    logs.configure(settings.log_level, settings.log_json, dev_codes_allowed=not settings.is_production)
    cipher = FieldCipher(
        load_key_ring(settings.key_file, settings.keys_json)
    )  # refuses to start without keys
    db_engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(db_engine)
    hub = SocketHub()

    engine = Engine(sessions, cipher, settings, build_otp_sender(settings, hub))
    telegram_channel = build_telegram(telegram, settings, sessions, cipher, engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if telegram_channel:
            await telegram_channel.start()
        log.info("telecare_started", env=settings.env.value, telegram=telegram_channel is not None)
        # Everything built so far (schemas, mappers, templates) lives as long as the process: move
        # it out of the garbage collector's view, so a full collection no longer walks it (under
        # load those collections paused the event loop for about 200 ms each).
        gc.collect()
        gc.freeze()
        yield
        if telegram_channel:
            await telegram_channel.close()
        await db_engine.dispose()

    app = FastAPI(title="telecare", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.cipher = cipher
    app.state.hub = hub
    app.state.engine = engine
    app.state.telegram = telegram_channel
    app.state.personas = Personas(sessions, cipher)
    app.include_router(health.router)
    app.include_router(web.router)
    app.include_router(documents.router)
    app.include_router(telegram_webhook.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    return app
