"""Log redaction: secrets and personal fields by key, phone numbers and emails inside any string."""

from __future__ import annotations

import pytest
import structlog

from backend import logs
from backend.otp.senders import DevOtpSender


@pytest.fixture(autouse=True)
def _restore_structlog():
    yield
    structlog.reset_defaults()


def redact(**fields) -> dict:
    return logs.redact(None, "info", {"event": "something_happened", **fields})


@pytest.mark.parametrize(
    "key",
    [
        "otp",
        "otp_code",
        "code",
        "token",
        "access_token",
        "secret",
        "password",
        "authorization",
        "cookie",
        "api_key",
        "phone",
        "phone_number",
        "email",
        "name",
        "full_name",
        "dob",
        "birth_date",
        "allergies",
        "medications",
        "history",
        "conditions",
        "diagnosis",
        "note",
        "text",
        "body",
        "address",
        "OTP",
        "Email",
    ],
)
@pytest.mark.parametrize("value", ["493817", "Penicillin", 493817, ["Penicillin"], {"a": "b"}, None])
def test_secret_and_personal_keys_are_redacted(key: str, value) -> None:
    assert redact(**{key: value})[key] == logs.REDACTED


@pytest.mark.parametrize(
    ("key", "value"),
    [("user_id", "3f2a9c"), ("count", 3), ("status_code", 200), ("channel", "web"), ("kind", "email")],
)
def test_harmless_keys_are_kept(key: str, value) -> None:
    assert redact(**{key: value})[key] == value


@pytest.mark.parametrize(
    ("raw", "hidden", "kept"),
    [
        ("sending to +91 98765 43210 now", ["98765", "43210", "9876543210"], ["•••210", "sending to", "now"]),
        ("call +919876543210", ["9876543210"], ["•••210"]),
        ("uk: +44 20 7946 0958.", ["7946", "2079460958"], ["•••958"]),
        ("mail asha.verma@example.com today", ["asha.verma", "sha.verma@"], ["a•••@example.com", "today"]),
        (
            "both 98765-43210 and ASHA@example.in",
            ["98765", "ASHA@"],
            ["•••210", "A•••@example.in"],
        ),
    ],
)
def test_phone_numbers_and_emails_in_free_strings_are_masked(raw: str, hidden, kept) -> None:
    for key in ("event", "detail", "reason", "destination"):
        out = redact(**{key: raw})[key]
        for fragment in hidden:
            assert fragment not in out, (key, out)
        for fragment in kept:
            assert fragment in out, (key, out)


def test_short_numbers_such_as_counts_are_left_alone() -> None:
    out = redact(detail="retry in 60 s, 3 of 5 tries, 12 slots", event_id="3f2a9c1b")
    assert out["detail"] == "retry in 60 s, 3 of 5 tries, 12 slots"
    assert out["event_id"] == "3f2a9c1b"


def test_timestamp_and_level_are_not_mangled() -> None:
    out = redact(timestamp="2030-01-01T09:00:00.123456Z", level="info")
    assert out["timestamp"] == "2030-01-01T09:00:00.123456Z"
    assert out["level"] == "info"


def test_configured_logger_redacts_end_to_end(capsys) -> None:
    logs.configure(json_output=True)
    structlog.get_logger("test").info(
        "signup_step", phone="+919876543210", otp="493817", detail="otp sent to asha@example.com"
    )
    err = capsys.readouterr().err
    assert "signup_step" in err
    assert "9876543210" not in err
    assert "493817" not in err
    assert "asha@" not in err
    assert "a•••@example.com" in err or "a\\u2022\\u2022\\u2022@example.com" in err


async def test_dev_code_is_dropped_unless_dev_codes_are_allowed(capsys) -> None:
    logs.configure(dev_codes_allowed=False)
    await DevOtpSender().send(
        kind="phone", destination="+919876543210", code="493817", chat_key="web:a", message="code"
    )
    err = capsys.readouterr().err
    assert "dev_otp_delivery" in err
    assert "493817" not in err
    assert "9876543210" not in err


async def test_dev_code_is_shown_when_dev_codes_are_allowed(capsys) -> None:
    logs.configure(dev_codes_allowed=True)
    await DevOtpSender().send(
        kind="phone", destination="+919876543210", code="493817", chat_key="web:a", message="code"
    )
    err = capsys.readouterr().err
    assert "493817" in err
    assert "9876543210" not in err  # the destination is still masked


async def test_dev_sender_publishes_to_the_dev_panel() -> None:
    published: list[tuple[str, str]] = []

    async def publish(chat_key: str, text: str) -> None:
        published.append((chat_key, text))

    sender = DevOtpSender(publish)
    await sender.send(
        kind="email", destination="asha@example.com", code="493817", chat_key="web:a", message=""
    )
    assert published == [("web:a", "OTP for a•••@example.com: 493817")]


def test_contact_details_inside_lists_and_dicts_are_masked():
    from backend.logs import redact

    out = redact(
        None,
        None,
        {"event": "x", "items": ["+919876543210"], "meta": {"who": "asha@example.com", "phone": "1"}},
    )
    assert out["items"] == ["•••210"]
    assert out["meta"]["who"] == "a•••@example.com" and out["meta"]["phone"] == "[redacted]"


def test_dates_and_short_numbers_are_not_mistaken_for_phones():
    from backend.logs import redact

    out = redact(None, None, {"event": "x", "path": "/api/slots/2030-01-01", "count": "12345678"})
    assert out["path"] == "/api/slots/2030-01-01" and out["count"] == "12345678"
