"""Process configuration, read once from the environment (prefix TELECARE_) and `.env`."""

from __future__ import annotations

import enum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import phonenumbers
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    DEMO = "demo"
    PRODUCTION = "production"


class OtpDelivery(enum.StrEnum):
    DEV = "dev"  # code shown in the server log and the web chat's developer panel
    SMTP = "smtp"  # email through TELECARE_SMTP_URL; phone codes need an SMS channel


class DispatcherMode(enum.StrEnum):
    IN_PROCESS = "in_process"  # `telecare serve` sends notifications itself (one command)
    OFF = "off"  # separate `telecare worker` processes do


class PaymentGatewayName(enum.StrEnum):
    SANDBOX = "sandbox"  # built in: a checkout page on our own server, no account anywhere
    STRIPE = "stripe"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELECARE_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = f"sqlite+aiosqlite:///{VAR_DIR / 'telecare.db'}"
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"

    # Keys: a JSON key file (created by `telecare keys init`), or the same JSON inline.
    key_file: Path = VAR_DIR / "keys.json"
    keys_json: str | None = None
    # The audit chain's head is appended here (mode 0600) and logged as `audit_head`, by the
    # process that runs the housekeeping sweep, at most this often and only when it moved.
    audit_head_file: Path = VAR_DIR / "audit-heads.log"
    audit_head_seconds: float = 300.0

    otp_delivery: OtpDelivery = OtpDelivery.DEV
    smtp_url: str | None = None  # smtp://user:pass@host:port or smtps://...
    smtp_from: str = "telecare <no-reply@telecare.local>"

    default_region: str = "IN"  # for phone numbers typed without a country code
    default_timezone: str = "Asia/Kolkata"
    terms_version: str = "2026-11"
    web_session_days: int = 30
    # OTP abuse limits, counted in the database so they hold across processes and restarts.
    # Distinct contacts that one chat, and one client address (the web chat's IP), may get codes
    # for in 24 hours; SMS only to these country calling codes ("+91,+977"); SMS codes per hour.
    otp_destinations_per_day: int = Field(default=3, ge=1)
    sms_allowed_country_codes: Annotated[list[str], NoDecode] = ["+91"]
    sms_hourly_budget: int = Field(default=500, ge=0)
    # How long an admin API token works (`telecare admin-token create --days N` overrides it).
    admin_token_days: int = Field(default=30, ge=1, le=365)
    # Notifications. Redis (redis://host:6379/0) shares send rate limits across processes;
    # without it each process keeps its own. `serve` runs a dispatcher in process unless
    # TELECARE_DISPATCHER=off (then run `telecare worker`, as many as you like, on PostgreSQL).
    redis_url: str | None = None
    dispatcher: DispatcherMode = DispatcherMode.IN_PROCESS
    outbox_max_attempts: int = 6
    outbox_retry_base_seconds: float = 30.0
    outbox_lease_seconds: int = 120
    outbox_poll_seconds: float = 1.0
    # Booking. Money is in minor units (paise); percentages in basis points (1500 = 15.00 %).
    currency: str = "INR"
    hold_minutes: int = 10  # an unpaid slot is held this long, then freed
    booking_horizon_days: int = 14  # slots are generated this far ahead
    decision_minutes: int = 120  # a paid request the doctor leaves unanswered this long is refunded
    commission_bps: int = 1500  # the platform's share of each consultation fee
    free_cancel_hours: int = 24  # a patient cancelling at least this long before gets everything back
    late_cancel_refund_percent: int = 50  # ... and this much of the fee when cancelling later
    urgent_fee_minor: int = 50_000
    urgent_wait_minutes: int = 15  # nobody on call accepted by then: refunded, told where to go
    sweep_seconds: float = 15.0  # how often lapsed holds and unanswered requests are looked for
    # Payments. The sandbox gateway needs nothing; Stripe needs a key and a webhook secret.
    payment_gateway: PaymentGatewayName = PaymentGatewayName.SANDBOX
    stripe_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("TELECARE_STRIPE_API_KEY", "STRIPE_API_KEY")
    )
    stripe_webhook_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("TELECARE_STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET")
    )
    stripe_api_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("TELECARE_STRIPE_API_BASE_URL", "STRIPE_API_BASE_URL")
    )
    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("sms_allowed_country_codes", mode="before")
    @classmethod
    def _country_calling_codes(cls, value: object) -> list[str]:
        """ "+91, 977" → ["+91", "+977"]; each must be a country calling code phonenumbers knows."""
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ValueError("a comma-separated list of country calling codes, e.g. +91,+977")
        codes = []
        for item in items:
            digits = str(item).strip().removeprefix("+")
            if not digits:
                continue
            if not digits.isdigit() or phonenumbers.region_code_for_country_code(int(digits)) == "ZZ":
                raise ValueError(f"{str(item).strip()!r} is not a country calling code (e.g. +91)")
            codes.append(f"+{int(digits)}")
        return codes

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if self.otp_delivery is OtpDelivery.DEV:
                raise ValueError("TELECARE_OTP_DELIVERY=dev is not allowed in production")
            if not self.public_base_url.startswith("https://"):
                raise ValueError("TELECARE_PUBLIC_BASE_URL must be https in production")
            if self.payment_gateway is PaymentGatewayName.SANDBOX:
                raise ValueError(
                    "TELECARE_PAYMENT_GATEWAY=sandbox takes no real money: not allowed in production"
                )
        if self.payment_gateway is PaymentGatewayName.STRIPE and not (
            self.stripe_api_key and self.stripe_webhook_secret
        ):
            raise ValueError("TELECARE_PAYMENT_GATEWAY=stripe needs STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET")
        if self.otp_delivery is OtpDelivery.SMTP and not self.smtp_url:
            raise ValueError("TELECARE_OTP_DELIVERY=smtp needs TELECARE_SMTP_URL")
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def demo_tools_enabled(self) -> bool:
        """The persona picker and developer panel exist only outside production."""
        return self.env in (Environment.DEVELOPMENT, Environment.DEMO)

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")


@lru_cache
def get_settings() -> Settings:
    return Settings()
