"""Structured logs (structlog) that never carry health data, OTPs, tokens or full phone numbers.

Redaction is by key (anything named like a secret or a personal field is replaced) and by value
(phone numbers and emails inside any string are masked), so a careless log call stays safe."""

from __future__ import annotations

import logging
import re
import sys

import structlog

REDACTED = "[redacted]"
_SECRET_KEYS = re.compile(
    r"(otp|code|token|secret|password|passwd|authorization|cookie|key|phone|email|name|dob|birth|"
    r"allerg|medication|history|condition|diagnos|note|text|body|address)",
    re.IGNORECASE,
)
_ALLOWED_KEYS = {
    "event",
    "level",
    "timestamp",
    "logger",
    "channel",
    "kind",
    "category",
    "exc_info",
    "exception",
    "status_code",
    "method",
    "path",
    "duration_ms",
    "destination",
    "dev_code",
    "audit_link",
    "audit_key_id",
}
# The audit head's link is hex, which may hold a run of digits that looks like a phone number;
# masked, the log's copy of the head would be useless.
_UNMASKED_KEYS = {"timestamp", "level", "logger", "exception", "dev_code", "audit_link", "audit_key_id"}
_PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _mask_phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    # Fewer than 10 digits is a date, an id or a count, not a phone number.
    return "•••" + digits[-3:] if len(digits) >= 10 else match.group(0)


def _mask_value(value: str) -> str:
    value = _EMAIL.sub(lambda m: m.group(0)[:1] + "•••@" + m.group(0).split("@", 1)[1], value)
    return _PHONE.sub(_mask_phone, value)


def _mask_nested(value):
    """Strings anywhere inside lists, tuples and dicts are masked too."""
    if isinstance(value, str):
        return _mask_value(value)
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEYS.search(str(k)) else _mask_nested(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return type(value)(_mask_nested(v) for v in value)
    return value


def redact(_logger, _method, event_dict: dict) -> dict:
    for key, value in list(event_dict.items()):
        if key not in _ALLOWED_KEYS and _SECRET_KEYS.search(key):
            event_dict[key] = REDACTED
        elif key not in _UNMASKED_KEYS:
            event_dict[key] = _mask_nested(value)
    return event_dict


def mask_exception(_logger, _method, event_dict: dict) -> dict:
    """Tracebacks may quote values (a parameter, a message): mask contact details in them too."""
    if isinstance(event_dict.get("exception"), str):
        event_dict["exception"] = _mask_value(event_dict["exception"])
    return event_dict


def configure(level: str = "INFO", json_output: bool = False, dev_codes_allowed: bool = False) -> None:
    def drop_dev_code(_logger, _method, event_dict: dict) -> dict:
        if not dev_codes_allowed and "dev_code" in event_dict:
            event_dict["dev_code"] = REDACTED
        return event_dict

    renderer = (
        structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            redact,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            drop_dev_code,
            structlog.processors.format_exc_info,
            mask_exception,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
