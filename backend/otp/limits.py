"""Who may get a code: the limits against SMS pumping (toll fraud; OWASP API Top 10 2023 API4).

- One chat, and one client address (the web chat's IP; an IPv6 client by its /64, which one
  subscriber usually has whole), get codes for at most a few distinct contacts in 24 hours. On
  Telegram and WhatsApp the chat itself is the client.
- SMS only to the allowed country calling codes (default +91).
- A global budget of SMS codes per clock hour (UTC); when it is spent, every admin is told once
  that hour, through the outbox.

Everything is counted from `otp_challenges` (each issued code is a row), inside the issuing
transaction after `audit.hold_chain`, so the limits hold across processes and restarts and two
chats racing cannot both take the last place."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.crypto import FieldCipher, KeyRing, blind_index
from backend.models import OtpChallenge, Role, User
from backend.outbox import service as outbox
from backend.outbox.queue import ADMIN_KIND
from backend.settings import Settings

DESTINATION_WINDOW = timedelta(hours=24)
BUDGET_PERIOD = timedelta(hours=1)
_CLIENT_INDEX = "otp_client"  # the blind-index purpose of client addresses


@dataclass(frozen=True)
class SendLimits:
    """The configurable limits (settings `TELECARE_OTP_DESTINATIONS_PER_DAY`,
    `TELECARE_SMS_ALLOWED_COUNTRY_CODES`, `TELECARE_SMS_HOURLY_BUDGET`); defaults are theirs."""

    destinations_per_day: int = 3
    sms_country_codes: tuple[str, ...] = ("+91",)
    sms_hourly_budget: int = 500

    @classmethod
    def from_settings(cls, settings: Settings) -> SendLimits:
        return cls(
            destinations_per_day=settings.otp_destinations_per_day,
            sms_country_codes=tuple(settings.sms_allowed_country_codes),
            sms_hourly_budget=settings.sms_hourly_budget,
        )


DEFAULT_LIMITS = SendLimits()


def wait_seconds(delta: timedelta) -> int:
    """A wait told to the user: whole seconds, rounded up, at least one."""
    return max(1, math.ceil(delta.total_seconds()))


def sms_country_allowed(limits: SendLimits, phone: str) -> bool:
    """Is this E.164 number in one of the countries SMS codes may go to?"""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return False
    return f"+{number.country_code}" in limits.sms_country_codes


def client_network(host: str | None) -> str | None:
    """The part of a client address that one client controls: an IPv4 address, or an IPv6 /64
    (rotating within it must not buy new destinations). Not an IP (a test client): as it is."""
    if not host:
        return None
    try:
        address = ipaddress.ip_address(host.strip())
    except ValueError:
        return host.strip()[:100] or None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_index(ring: KeyRing, host: str | None) -> str | None:
    """The keyed hash stored for a client address; the address itself is never stored."""
    network = client_network(host)
    return blind_index(ring, _CLIENT_INDEX, network) if network else None


async def destinations_wait(session: AsyncSession, scope, bidx: str, now: datetime, limit: int) -> int | None:
    """None when `bidx` may get a code from this scope (`OtpChallenge.chat_key == …` or
    `OtpChallenge.client_bidx == …`): it already got one in the window, or there is room for one
    more contact. Otherwise the seconds until the oldest contact leaves the window."""
    rows = await session.execute(
        select(OtpChallenge.destination_bidx, func.max(OtpChallenge.created_at))
        .where(scope, OtpChallenge.created_at > now - DESTINATION_WINDOW)
        .group_by(OtpChallenge.destination_bidx)
    )
    latest = {bidx_: at for bidx_, at in rows.all()}
    if bidx in latest or len(latest) < limit:
        return None
    frees_at = min(latest.values()) + DESTINATION_WINDOW
    return wait_seconds(frees_at - now)


def budget_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


async def sms_budget_wait(session: AsyncSession, limits: SendLimits, now: datetime) -> int | None:
    """None while this hour's SMS budget has room; else the seconds until the next hour."""
    hour = budget_hour(now)
    sent = await session.scalar(
        select(func.count())
        .select_from(OtpChallenge)
        .where(OtpChallenge.destination_kind == "phone", OtpChallenge.created_at >= hour)
    )
    if (sent or 0) < limits.sms_hourly_budget:
        return None
    return wait_seconds(hour + BUDGET_PERIOD - now)


async def alert_budget_spent(
    session: AsyncSession, cipher: FieldCipher, limits: SendLimits, now: datetime
) -> int:
    """Tell every active admin that this hour's SMS budget is spent: once per admin per hour
    (the dedupe key carries the hour), however many sends are refused."""
    hour = budget_hour(now)
    admins = (
        await session.scalars(select(User.id).where(User.role == Role.ADMIN, User.active).order_by(User.id))
    ).all()
    for admin_id in admins:
        await outbox.enqueue(
            session,
            cipher,
            key=f"sms_budget:{hour:%Y-%m-%dT%H}:{admin_id}",
            user_id=admin_id,
            template="sms_budget_spent",
            params={"budget": limits.sms_hourly_budget, "until_at": (hour + BUDGET_PERIOD).isoformat()},
            kind=ADMIN_KIND,
            urgent=True,  # an attack under way: told now, not after the admin's quiet hours
        )
    return len(admins)
