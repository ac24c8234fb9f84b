"""Requests for what is not built yet (medicines, lab tests, video calls, prescriptions), typed
where they cannot be an ordinary answer, get an honest "coming soon, and this works today"
instead of "Please choose one of the options". The phrase table as a truth table, then the chat."""

from __future__ import annotations

import pytest

from conversations import unbuilt
from conversations.copy import CATALOGUES
from tests.chat import ChatDriver
from tests.conversations.test_find_doctor import patient_searching


@pytest.mark.parametrize(
    ("typed", "feature"),
    [
        ("order medicines", "medicines"),
        ("I want to order medicines please", "medicines"),
        ("Order Medicine!", "medicines"),
        ("dawai mangwani hai", "medicines"),
        ("mujhe दवाई चाहिए", "medicines"),
        ("pharmacy", "medicines"),
        ("book a blood test", "lab_tests"),
        ("lab test", "lab_tests"),
        ("khoon ki jaanch", "lab_tests"),
        ("खून की जाँच करानी है", "lab_tests"),
        ("video call with doctor", "video"),
        ("वीडियो कॉल", "video"),
        ("prescription", "prescription"),
        ("my e-prescription", "prescription"),
        ("a prescription for my medicines", "prescription"),  # the first in table order wins
        ("parchi chahiye", "prescription"),
        ("find a doctor", None),
        ("contest", None),  # whole words only
        ("I need a sugar test", "lab_tests"),
        ("general medicine", None),
        ("eye checkup karwana hai", None),
        ("thyroid test", "lab_tests"),
        ("शुगर टेस्ट", "lab_tests"),
        ("book lab", "lab_tests"),
        ("eye test", None),  # names a specialty (Ophthalmology): a doctor, not a lab test
        ("आँखों की जाँच", None),
        ("internal medicine", None),
        ("labrador", None),
        ("what is this?", None),
        ("", None),
        ("order medicines " * 20, None),  # a paragraph is an answer to something else
    ],
)
def test_which_messages_ask_for_what_is_not_built(typed, feature):
    assert unbuilt.requested(typed) == feature


def test_every_feature_has_an_answer_in_every_language():
    for feature in unbuilt.FEATURE_PHRASES:
        for catalogue in CATALOGUES.values():
            assert f"unbuilt_{feature}" in catalogue


async def test_order_medicines_at_the_patient_menu_is_answered_honestly_with_the_menu(chat: ChatDriver):
    await chat.sign_up()
    replies = await chat.send("order medicines")
    assert replies[0].text.startswith("Ordering medicines is coming soon; it is not in telecare yet.")
    assert "Today you can find a verified doctor and book an appointment" in replies[0].text
    assert "🔎 Find a doctor" in chat.labels()


@pytest.mark.parametrize(
    ("typed", "start"),
    [
        ("book a blood test", "Booking lab tests is coming soon"),
        ("video call with doctor", "Video calls with a doctor are coming soon"),
        ("prescription", "Prescriptions are not in telecare yet"),
    ],
)
async def test_each_unbuilt_request_at_a_menu_says_so(chat: ChatDriver, typed, start):
    await chat.sign_up()
    replies = await chat.send(typed)
    assert replies[0].text.startswith(start)


async def test_a_hindi_patient_gets_the_answer_in_hindi(chat: ChatDriver):
    await chat.sign_up(language="हिन्दी")
    replies = await chat.send("dawai mangwani hai")
    assert replies[0].text.startswith("दवाइयाँ मँगवाना जल्द आ रहा है")


async def test_a_lab_test_asked_for_at_the_specialty_question_is_answered_honestly(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    replies = await chat.send("khoon ki jaanch")
    assert replies[0].text.startswith("Booking lab tests is coming soon")
    assert "What kind of doctor do you need?" in chat.text()


async def test_at_a_free_text_step_the_words_stay_an_answer(chat: ChatDriver):
    await chat.open()
    await chat.tap("sign up")
    await chat.tap("I agree")
    await chat.send("Video Kumar")  # a name is a name
    assert "date of birth" in chat.text()
