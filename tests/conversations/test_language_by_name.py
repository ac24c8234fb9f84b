"""A message that only names a language ("Hindi", "hindi mein", "English") switches the chat's
language at once, at any step, and asks the same question again in it — except where the step
asks for a language as its answer (a doctor's languages, the search's language filter)."""

from __future__ import annotations

import pytest

from conversations import commands
from conversations.copy import LANGUAGES
from tests.chat import ChatDriver


def devanagari(text: str) -> bool:
    return any("\u0900" <= ch <= "\u097f" for ch in text)


@pytest.mark.parametrize(
    ("typed", "locale"),
    [
        ("Hindi", "hi"),
        ("  HINDI! ", "hi"),
        ("hindi mein", "hi"),
        ("Hindi  me", "hi"),
        ("in hindi", "hi"),
        ("हिंदी", "hi"),
        ("हिन्दी", "hi"),
        ("हिंदी में", "hi"),
        ("English", "en"),
        ("english.", "en"),
        ("in English", "en"),
        ("angrezi", "en"),
        ("अंग्रेज़ी", "en"),
        ("अंग्रेजी", "en"),
        ("I speak Hindi", None),
        ("hindi teacher", None),
        ("englis", None),
        ("", None),
        ("hindi " * 20, None),
    ],
)
def test_which_messages_name_a_language(typed, locale):
    assert commands.language_named(typed) == locale


def test_every_language_of_the_chat_can_be_named():
    assert set(commands.LANGUAGE_NAMES) == set(LANGUAGES)


async def _at_name_step(chat: ChatDriver) -> None:
    await chat.open()
    await chat.tap("sign up")
    await chat.tap("I agree")
    assert "full name" in chat.text()


async def test_typing_hindi_at_the_name_step_switches_and_asks_the_name_again_in_hindi(chat: ChatDriver):
    await _at_name_step(chat)
    replies = await chat.send("hindi mein")
    assert replies[0].text == "भाषा बदलकर हिन्दी कर दी गई है।"
    assert "आपका पूरा नाम क्या है?" in replies[-1].text
    replies = await chat.send("English")
    assert replies[0].text == "Language changed to English."
    assert "What is your full name?" in replies[-1].text
    # Nothing was lost or skipped: the name is still the question, and is taken as before.
    await chat.send("Asha Verma")
    assert "date of birth" in chat.text()


async def test_typing_a_language_on_the_welcome_buttons_switches_them(chat: ChatDriver):
    await chat.open()
    await chat.send("हिंदी")
    assert devanagari(chat.labels()[0])
    await chat.send("english")
    assert any("sign up" in label for label in chat.labels())


async def test_a_language_name_at_the_signup_language_question_is_its_answer(chat: ChatDriver):
    await chat.sign_up(language="English", timezone="Kolkata")
    # sign_up tapped the button; typing it goes on to the time zone as well, in Hindi.
    other = ChatDriver(chat.engine, chat.otp, chat_id="chat-b")
    await other.open()
    await other.tap("sign up")
    await other.tap("I agree")
    await other.send("Ravi Kumar")
    await other.send("01-01-1980")
    await other.tap("Male")
    await other.send("ravi@example.com")
    await other.send(other.otp.last_code())
    await other.send("Hindi")
    assert devanagari(other.text()) and "Kolkata" in " ".join(other.labels())
