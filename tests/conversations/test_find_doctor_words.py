"""Specialties found from the words patients use ("sar dard", "eye doctor", "dentist", "daant"),
an honest "no such doctor here yet" with the general physician first when nobody practises it,
and the nearest specialties suggested when nothing matches. Through the chat, over the demo
doctors (which have no ophthalmologist or dentist), at a fixed time; and the lay-word table as a
truth table."""

from __future__ import annotations

import pytest

from backend.scheduling import search
from tests.backend.test_search import NAMES
from tests.conversations.test_find_doctor import conversation, patient_searching, shown


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("sar dard", "General Physician"),
        ("internal medicine", "General Physician"),
        ("sir dard", "General Physician"),
        ("mujhe sar dard hai", "General Physician"),
        ("सिर दर्द", "General Physician"),
        ("headache", "General Physician"),
        ("migraine", "Neurology"),
        ("eye doctor", "Ophthalmology"),
        ("aankh", "Ophthalmology"),
        ("आँख", "Ophthalmology"),
        ("dentist", "Dentistry"),
        ("daant", "Dentistry"),
        ("दांत", "Dentistry"),
        ("teeth pain", "Dentistry"),
        ("ear pain", "ENT"),
        ("skin", "Dermatology"),
        ("cardiolgy", "Cardiology"),
        ("astrology", None),
        ("dard", None),
    ],
)
def test_the_specialty_a_patients_words_name(typed, named):
    assert search.named_specialty(typed) == named


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("sar dard", "General Physician"),
        ("eye doctor", None),  # nobody in the demo practises it
        ("dentist", None),
        ("my kids have a cough", "Paediatrics"),
    ],
)
def test_only_specialties_that_exist_are_matched(typed, found):
    assert search.match_specialty(typed, NAMES) == found


async def test_sar_dard_finds_the_general_physicians(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    await chat.send("sar dard")
    assert "General Physician ·" in shown(chat)
    assert "Dr Ananya Rao" in chat.labels()


@pytest.mark.parametrize(
    ("typed", "specialty"),
    [("eye doctor", "Ophthalmology"), ("dentist", "Dentistry"), ("eye test", "Ophthalmology")],
)
async def test_a_specialty_nobody_practises_says_so_and_offers_the_general_physician_first(
    chat, sessions, cipher, typed, specialty
):
    await patient_searching(chat, sessions, cipher)
    replies = await chat.send(typed)
    assert replies[0].text.startswith(f"We have no {specialty} doctor on telecare yet.")
    assert "tap General Physician below" in replies[0].text
    assert chat.labels()[0] == "General Physician"
    assert (await conversation(sessions, cipher))[:2] == ("find_doctor", "specialty")
    await chat.tap("General Physician")
    assert "Dr Ananya Rao" in chat.labels()


async def test_words_that_match_nothing_get_the_nearest_specialties_first(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    replies = await chat.send("cardio check")
    # "cardio" is close to a name, but not close enough to pick for them: offered first instead.
    assert "I couldn't match “cardio check” to a specialty. The closest: Cardiology" in replies[0].text
    assert chat.labels()[0] == "Cardiology"


async def test_a_hindi_patient_hears_about_the_missing_specialty_in_hindi(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    await chat.send("hindi")
    replies = await chat.send("aankh")
    # The specialty is named in Hindi too, and so is the general physician offered instead.
    assert "telecare पर अभी कोई नेत्र रोग डॉक्टर नहीं है।" in replies[0].text
    assert "सामान्य चिकित्सक" in replies[0].text and "General Physician" not in replies[0].text
    assert chat.labels()[0] == "सामान्य चिकित्सक"


async def test_the_language_filter_takes_hindi_as_a_filter_not_a_switch(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    await chat.tap("Any specialty")
    await chat.tap("Language")
    await chat.send("Hindi")
    assert "Language: Hindi" in shown(chat)
