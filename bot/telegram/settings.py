"""Telegram settings (prefix TELEGRAM_). Without a bot token the channel is off."""

from __future__ import annotations

import enum

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REAL_API = "https://api.telegram.org"


class TelegramMode(enum.StrEnum):
    WEBHOOK = "webhook"
    POLLING = "polling"


class TelegramSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELEGRAM_", env_file=".env", extra="ignore")

    bot_token: str | None = None
    mode: TelegramMode = TelegramMode.WEBHOOK
    # Telegram sends it in X-Telegram-Bot-Api-Secret-Token; 1-256 of A-Z a-z 0-9 _ -
    webhook_secret: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    api_base_url: str = REAL_API
    per_chat_per_second: float = 1.0  # Telegram: about one message per second in one chat
    per_bot_per_second: float = 30.0  # Telegram: about 30 messages per second in all
    max_send_attempts: int = 5

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token)
