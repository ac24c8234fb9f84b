"""Typed answers to a menu: numbers, label text, near spellings, and when to refuse to guess."""

from __future__ import annotations

import pytest

from conversations.recognize import match_choice

MENU = ["📋 My profile", "📅 My appointments", "🩺 Book appointment", "🔔 Notifications", "❓ Help"]
LANGUAGES = ["English", "हिन्दी (Hindi)", "मराठी (Marathi)"]
YES_NO = ["✅ Yes", "❌ No"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 0),
        ("2", 1),
        ("2.", 1),
        ("#2", 1),
        ("(2)", 1),
        ("[2]", 1),
        ("2)", 1),
        (" 2 ", 1),
        ("option 2", 1),
        ("Option 3", 2),
        ("no. 4", 3),
        ("05", 4),
        ("५", 4),
    ],
)
def test_numbers_are_one_based(text: str, expected: int) -> None:
    assert match_choice(text, MENU) == expected


def test_devanagari_digit_on_a_language_menu() -> None:
    assert match_choice("२", LANGUAGES) == 1


@pytest.mark.parametrize("text", ["0", "6", "99", "1000", "-1", "-2", "option 0", "#7", "1 2", "2.5"])
def test_invalid_numbers_choose_nothing(text: str) -> None:
    assert match_choice(text, MENU) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my profile", 0),
        ("MY PROFILE", 0),
        ("  my   profile!! ", 0),
        ("📋 My profile", 0),
        ("my appointments", 1),
        ("book appointment", 2),
        ("notifications", 3),
        ("help", 4),
        ("Help?", 4),
    ],
)
def test_label_text_without_emoji_or_punctuation(text: str, expected: int) -> None:
    assert match_choice(text, MENU) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("profle", 0),
        ("my profle", 0),
        ("profile", 0),
        ("book apointment", 2),
        ("book", 2),
        ("notifcations", 3),
        ("notification", 3),
    ],
)
def test_near_spellings_and_single_words(text: str, expected: int) -> None:
    assert match_choice(text, MENU) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hindi", 1),
        ("Hindi", 1),
        ("hindii", 1),
        ("हिन्दी", 1),
        ("हिंदी", 1),  # anusvara spelling of the same word
        ("हिन्दी (Hindi)", 1),
        ("english", 0),
        ("engish", 0),
        ("marathi", 2),
        ("मराठी", 2),
    ],
)
def test_language_labels(text: str, expected: int) -> None:
    assert match_choice(text, LANGUAGES) == expected


@pytest.mark.parametrize("text", ["appointment", "appointments", "apointment", "my"])
def test_ambiguous_answers_choose_nothing(text: str) -> None:
    # "appointment" fits "My appointments" and "Book appointment" about equally well.
    assert match_choice(text, MENU) is None


@pytest.mark.parametrize(("text", "expected"), [("appointment", None), ("cancel", 1), ("book", 0)])
def test_ambiguity_is_relative_to_the_offered_labels(text: str, expected: int | None) -> None:
    assert match_choice(text, ["Book appointment", "Cancel appointment"]) == expected


def test_a_sentence_that_mentions_a_label_chooses_nothing() -> None:
    assert match_choice("I can't find my profile, the app crashes every time", MENU) is None


@pytest.mark.parametrize(
    "text",
    ["what is the weather", "not", "not sure", "pro", "a", "x", "😀", "...", "asdfgh", "I have a fever"],
)
def test_unrelated_text_chooses_nothing(text: str) -> None:
    assert match_choice(text, MENU) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("yes", 0), ("YES!", 0), ("no", 1), ("No.", 1), ("yes please", 0), ("y", None), ("nope", None)],
)
def test_yes_no(text: str, expected: int | None) -> None:
    assert match_choice(text, YES_NO) == expected


@pytest.mark.parametrize("text", ["", " ", "1", "help"])
def test_empty_label_list_chooses_nothing(text: str) -> None:
    assert match_choice(text, []) is None


def test_empty_text_chooses_nothing() -> None:
    assert match_choice("", MENU) is None


def test_duplicate_labels_are_ambiguous() -> None:
    assert match_choice("help", ["Help", "Help"]) is None
    assert match_choice("2", ["Help", "Help"]) == 1


@pytest.mark.parametrize("text", ["x" * 10_000, "my profile" + " x" * 5_000, "2" * 10_000])
def test_very_long_text_chooses_nothing(text: str) -> None:
    assert match_choice(text, MENU) is None


def test_accepts_any_sequence_of_labels() -> None:
    assert match_choice("help", tuple(MENU)) == 4
