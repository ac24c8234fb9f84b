"""Normalising and masking the phone numbers and emails people type."""

from __future__ import annotations

import phonenumbers
import pytest

from backend.accounts.contacts import InvalidContact, looks_like_email, mask, normalise_email, normalise_phone


@pytest.mark.parametrize(
    "typed",
    [
        "9876543210",
        "98765 43210",
        "98765-43210",
        "987-654-3210",
        "09876543210",
        "098765 43210",
        "+919876543210",
        "+91 98765 43210",
        "+91-9876543210",
        "+91-98765-43210",
        "(+91) 98765 43210",
        "919876543210",
        "91 98765 43210",
        "0091 98765 43210",
        "  98765 43210  ",
        "+91\u00a098765\u00a043210",  # no-break spaces pasted from a web page
    ],
)
def test_indian_mobile_spellings_normalise_to_e164(typed: str) -> None:
    assert normalise_phone(typed, "IN") == "+919876543210"


@pytest.mark.parametrize(
    ("typed", "region", "expected"),
    [
        ("+44 20 7946 0958", "IN", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+1 (415) 555-2671", "IN", "+14155552671"),
        ("+971 50 123 4567", "IN", "+971501234567"),
        ("+61 4 1234 5678", "IN", "+61412345678"),
        ("011 2345 6789", "IN", "+911123456789"),  # a Delhi landline
    ],
)
def test_international_and_landline_numbers(typed: str, region: str, expected: str) -> None:
    assert normalise_phone(typed, region) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "12345",  # too short
        "98765 4321",  # one digit short
        "98765 432100",  # one digit long
        "+91",
        "0",
        "abcdefghij",  # letters
        "call me",
        "nine eight seven six five",
        "9" * 40,  # 40 characters
        "+91 " + "9" * 36,
        "+919876543210+919876543210",
        "+999 1234 5678",  # no such country
    ],
    ids=repr,
)
def test_invalid_phone_numbers_are_refused(typed: str) -> None:
    with pytest.raises(InvalidContact) as caught:
        normalise_phone(typed, "IN")
    assert caught.value.reason == "phone_invalid"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("typed", ["98765abcde", "9876543abc", "1-800-FLOWERS", "98765 43210 ext 5"])
def test_letters_mixed_into_a_number_are_refused(typed: str) -> None:
    """phonenumbers would read letters as keypad digits and turn a typo into someone else's number."""
    with pytest.raises(InvalidContact) as caught:
        normalise_phone(typed, "IN")
    assert caught.value.reason == "phone_invalid"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Asha.Verma@Example.COM", "asha.verma@example.com"),
        ("  ASHA@EXAMPLE.IN ", "asha@example.in"),
        ("asha+telecare@gmail.com", "asha+telecare@gmail.com"),
        ("a@b.co", "a@b.co"),
    ],
)
def test_emails_are_normalised_to_lower_case(typed: str, expected: str) -> None:
    assert normalise_email(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "a@",
        "@b.com",
        "a b@c.com",
        "a@b@c.com",
        "asha",
        "asha@localhost",
        "asha@example..com",
        "a" * 290 + "@example.com",  # > 254 characters
        "a@" + "b" * 64 + ".com",  # a domain label > 63 characters
    ],
    ids=lambda v: repr(v[:30]) + f"[{len(v)}]",
)
def test_invalid_emails_are_refused(typed: str) -> None:
    with pytest.raises(InvalidContact) as caught:
        normalise_email(typed)
    assert caught.value.reason == "email_invalid"


def test_looks_like_email() -> None:
    assert looks_like_email("asha@example.com")
    assert not looks_like_email("+91 98765 43210")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("phone", "+919876543210"),
        ("phone", "+442079460958"),
        ("phone", "+14155552671"),
        ("email", "asha.verma@example.com"),
        ("email", "ab@example.com"),
    ],
)
def test_mask_never_shows_the_full_value(kind: str, value: str) -> None:
    masked = mask(kind, value)
    assert value not in masked
    assert "•" in masked
    if kind == "phone":
        digits = value.lstrip("+")
        assert digits not in masked
        assert masked.endswith(value[-3:])  # enough to recognise one's own number
        assert sum(ch.isdigit() for ch in masked) <= 5
    else:
        local, _, domain = value.partition("@")
        assert local not in masked.split("@")[0]
        assert masked.endswith("@" + domain)


def test_mask_hides_digits_of_every_valid_number_in_the_world() -> None:
    """The shortest real E.164 numbers still keep some digits hidden."""
    checked = 0
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            masked = mask("phone", e164)
            assert e164 not in masked, (region, e164, masked)
            shown = sum(ch.isdigit() for ch in masked)
            assert shown < sum(ch.isdigit() for ch in e164), (region, e164, masked)
            checked += 1
    assert checked > 300
