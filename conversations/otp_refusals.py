"""What a chat is told when backend.otp sends no code or a contact is locked. The words are the
same whether or not the contact belongs to an account."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from babel import Locale
from babel.dates import get_timezone_name
from babel.lists import format_list

from backend.otp.service import Issued, Refusal
from conversations import when
from conversations.context import Context
from conversations.copy import format_locale


def refusal_text(ctx: Context, issued: Issued) -> str:
    wait = issued.retry_after
    minutes = max(1, round(wait / 60))
    match issued.refused:
        case Refusal.COOLDOWN:
            return ctx.t("otp_cooldown", seconds=wait)
        case Refusal.DESTINATIONS:
            hours = max(1, round(wait / 3600))
            return ctx.t("otp_destinations", limit=ctx.settings.otp_destinations_per_day, hours=hours)
        case Refusal.SMS_COUNTRY if ctx.settings.sms_allowed_country_codes:
            return ctx.t("otp_sms_country", countries=sms_countries(ctx))
        case Refusal.SMS_COUNTRY:  # SMS to no country at all
            return ctx.t("sms_unavailable")
        case Refusal.SMS_BUDGET:
            return ctx.t("otp_sms_budget", minutes=minutes)
        case Refusal.CONTACT_LOCKED if issued.until is not None:
            return locked_text(ctx, issued.until)
        case _:
            return ctx.t("otp_too_many", minutes=minutes)


def locked_text(ctx: Context, until: datetime) -> str:
    """'… until Tue, 8 Dec, 9:30 am' in the user's timezone; a chat without an account has none of
    its own, so the platform's is named: '9:30 am (India Time)'."""
    moment = when.when(ctx, until)
    if ctx.user is None:
        moment += f" ({get_timezone_name(when.zone(ctx), locale=format_locale(ctx.locale))})"
    return ctx.t("otp_contact_locked", until=moment)


def sms_countries(ctx: Context) -> str:
    """'+91 (India)' or '+91 (India) or +977 (Nepal)', country names in the user's language."""
    names = Locale.parse(format_locale(ctx.locale)).territories
    shown = []
    for code in ctx.settings.sms_allowed_country_codes:
        region = phonenumbers.region_code_for_country_code(int(code.removeprefix("+")))
        shown.append(f"{code} ({names.get(region, region)})")
    return format_list(shown, style="or", locale=format_locale(ctx.locale))
