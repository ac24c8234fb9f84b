"""The booking day picker understands days typed in words ("today", "tomorrow", "aaj", "kal",
"आज", "कल") in the patient's timezone, says when such a day has no free time and offers the
nearest days, and `back` from it returns to the doctor's card, keeping the search. Through the
chat, over the demo doctors, at a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from backend.models import Doctor, Slot
from tests.conversations.test_find_doctor import conversation, patient_searching, shown

# NOW is Monday 7 December 2026, 06:00 in India; Dr Kavita Nair (Dermatology) is free from 09:00.
KAVITA = "TCMC-33472"


async def at_kavitas_days(chat, sessions, cipher, *, timezone: str | None = None) -> None:
    await patient_searching(chat, sessions, cipher, timezone=timezone)
    await chat.send("skin")
    await chat.tap("Dr Kavita Nair")
    await chat.tap("Book")
    assert "Which day would you like to see Dr Kavita Nair?" in shown(chat)


async def test_today_opens_todays_free_times(chat, sessions, cipher):
    await at_kavitas_days(chat, sessions, cipher)
    await chat.send("today")
    assert "Free times on Mon, 7 Dec:" in shown(chat)
    assert "9:00 AM" in " ".join(chat.labels()).replace("\u202f", " ")
    assert (await conversation(sessions, cipher))[:2] == ("booking", "time")


@pytest.mark.parametrize("typed", ["tomorrow", "Tomorrow!", "kal", "KAL", "कल", "tmrw"])
async def test_tomorrow_and_kal_open_tomorrows_free_times(chat, sessions, cipher, typed):
    await at_kavitas_days(chat, sessions, cipher)
    await chat.send(typed)
    assert "Free times on Tue, 8 Dec:" in shown(chat)


@pytest.mark.parametrize("typed", ["aaj", "आज"])
async def test_aaj_is_today(chat, sessions, cipher, typed):
    await at_kavitas_days(chat, sessions, cipher)
    await chat.send(typed)
    assert "Free times on Mon, 7 Dec:" in shown(chat)


async def test_today_is_the_patients_own_today(chat, sessions, cipher):
    # 00:30 UTC on Monday is 19:30 on Sunday in New York; Kavita's Monday 09:00 IST is 22:30 there.
    await at_kavitas_days(chat, sessions, cipher, timezone="America/New_York")
    await chat.send("today")
    assert "Free times on Sun, 6 Dec:" in shown(chat)
    assert "10:30 PM" in " ".join(chat.labels()).replace("\u202f", " ")


async def test_a_day_without_free_time_says_so_and_offers_the_nearest_days(chat, sessions, cipher):
    await at_kavitas_days(chat, sessions, cipher)
    async with sessions() as session, session.begin():
        kavita = await session.scalar(select(Doctor).where(Doctor.registration_number == KAVITA))
        tuesday = datetime(2026, 12, 7, 18, 30, tzinfo=UTC)  # Tue 8 Dec 00:00 IST
        await session.execute(
            delete(Slot).where(
                Slot.doctor_id == kavita.id,
                Slot.starts_at >= tuesday,
                Slot.starts_at < tuesday + timedelta(days=1),
            )
        )
    replies = await chat.send("tomorrow")
    assert replies[0].text == (
        "There is no free time on Tue, 8 Dec. The nearest days with free times: Mon, 7 Dec and Wed, 9 Dec."
    )
    assert (await conversation(sessions, cipher))[:2] == ("booking", "day")
    assert "Mon, 7 Dec" in chat.labels()


async def test_words_that_are_no_day_are_asked_again(chat, sessions, cipher):
    await at_kavitas_days(chat, sessions, cipher)
    replies = await chat.send("whenever")
    assert "type “today” or “tomorrow”" in replies[0].text
    assert (await conversation(sessions, cipher))[:2] == ("booking", "day")


async def test_a_hindi_patient_is_asked_again_in_hindi(chat, sessions, cipher):
    await at_kavitas_days(chat, sessions, cipher)
    await chat.send("hindi")
    replies = await chat.send("परसों बाद")
    assert "“आज” या “कल”" in replies[0].text


async def test_back_from_the_day_picker_returns_to_the_doctors_card_keeping_the_search(
    chat, sessions, cipher
):
    await at_kavitas_days(chat, sessions, cipher)
    await chat.tap(chat.labels()[0])  # the first day
    assert "Free times on" in shown(chat)
    await chat.send("back")
    assert "Which day would you like to see Dr Kavita Nair?" in shown(chat)
    replies = await chat.send("back")
    assert "no earlier step" not in replies[0].text
    assert "Registration no.: TCMC-33472" in shown(chat)
    flow, step, data = await conversation(sessions, cipher)
    assert (flow, step) == ("find_doctor", "doctor")
    assert data["form"]["specialty"] == "Dermatology"
    await chat.tap("Back to the list")
    assert "Dermatology ·" in shown(chat) and "Dr Kavita Nair" in chat.labels()
    # Booking again from the card works as before.
    await chat.tap("Dr Kavita Nair")
    await chat.tap("Book")
    assert "Which day would you like to see Dr Kavita Nair?" in shown(chat)


async def test_back_after_leaving_for_the_menu_does_not_return_to_the_card(chat, sessions, cipher):
    await at_kavitas_days(chat, sessions, cipher)
    await chat.send("menu")
    replies = await chat.send("back")
    assert "no earlier step" in replies[0].text
