"""Parsing and normalising the phone numbers and emails people type."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidContact(ValueError):
    """What was typed is not a usable phone number or email; `reason` is a catalogue key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def looks_like_email(text: str) -> bool:
    return "@" in text


def normalise_phone(text: str, default_region: str) -> str:
    """E.164 (`+919876543210`) for any way a valid number can be written, else InvalidContact."""
    cleaned = text.strip()
    # Letters are refused: phonenumbers would read them as keypad digits (vanity numbers), turning a
    # typo like "98765abcde" into some other, real number.
    if not cleaned or len(cleaned) > 32 or any(ch.isalpha() for ch in cleaned):
        raise InvalidContact("phone_invalid")
    try:
        number = phonenumbers.parse(cleaned, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact("phone_invalid") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(text: str) -> str:
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 254:
        raise InvalidContact("email_invalid")
    try:
        # No DNS lookups: they are slow, fail offline and prove nothing that the OTP does not.
        result = validate_email(cleaned, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContact("email_invalid") from exc
    return result.normalized.lower()


def mask(kind: str, value: str) -> str:
    """What we may show or log: `+91•••••••210`, `a•••@example.com`."""
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}•••@{domain}"
    return f"{value[:3]}•••••••{value[-3:]}"
