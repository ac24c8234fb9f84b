"""Twilio settings (prefix TWILIO_). Without an account SID and auth token the WhatsApp channel
and SMS codes are off, and the rest runs."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class TwilioSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TWILIO_", env_file=".env", extra="ignore")

    account_sid: str | None = None
    auth_token: str | None = None
    whatsapp_from: str | None = Field(default=None, pattern=r"^whatsapp:\+[1-9]\d{6,14}$")
    sms_from: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")
    messaging_service_sid: str | None = Field(default=None, pattern=r"^MG[0-9a-fA-F]{32}$")
    verify_service_sid: str | None = Field(default=None, pattern=r"^VA[0-9a-fA-F]{32}$")
    # Replaces https://api.twilio.com, https://verify.twilio.com and https://content.twilio.com
    # (a local Twilio for tests and development).
    api_base_url: str | None = None
    # Approved WhatsApp templates: our name -> Content SID, e.g. {"reminder": "HX…"}. Business-
    # initiated messages outside the 24-hour window can only go as one of these.
    templates: dict[str, str] = {}
    # In-session interactive content, by number of options: {"2": "HX…", "3": "HX…"} for
    # twilio/quick-reply (body {{1}}, button i titled {{i+1}} with id "i"), and the same for
    # twilio/list-picker with 4 to 10 items. Without them options are numbered in the text.
    quick_reply_content: dict[int, str] = {}
    list_picker_content: dict[int, str] = {}
    per_sender_per_second: float = 80.0  # Twilio's default WhatsApp throughput per sender
    max_send_attempts: int = 5

    @field_validator("templates", "quick_reply_content", "list_picker_content")
    @classmethod
    def _content_sids(cls, value: dict) -> dict:
        for sid in value.values():
            if not (isinstance(sid, str) and sid.startswith("HX") and len(sid) == 34):
                raise ValueError(f"{sid!r} is not a Content SID (HX followed by 32 characters)")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token)

    @property
    def whatsapp_enabled(self) -> bool:
        return self.enabled and bool(self.whatsapp_from)

    @property
    def sms_enabled(self) -> bool:
        return self.enabled and bool(self.verify_service_sid or self.sms_from or self.messaging_service_sid)
