"""The patient's doctor search in chat, over the demo doctors: specialty typed with a typo or in
lay words, filters, order, pages with "More", times in the patient's timezone, credentials before
booking and the hand-off to the booking flow. On SQLite and PostgreSQL, at a fixed time."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from backend import demo
from backend.models import Conversation, Doctor, Role, Specialty, User, VerificationStatus, new_id
from tests.chat import ChatDriver

NOW = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # Monday 7 December 2026, 06:00 IST


def shown(chat: ChatDriver) -> str:
    """The chat's last replies, with babel's narrow no-break spaces ("9:00\u202fAM") as spaces."""
    return chat.text().replace("\u202f", " ")


async def patient_searching(chat: ChatDriver, sessions, cipher, *, timezone: str | None = None) -> None:
    async with sessions() as session, session.begin():
        await demo.load(session, cipher, now=NOW)
    await chat.sign_up()
    chat.skew = NOW - datetime.now(UTC)
    if timezone:
        async with sessions() as session, session.begin():
            user = await session.scalar(
                select(User).where(User.role == Role.PATIENT, User.display_name.is_(None))
            )
            user.timezone = timezone
    await chat.send("menu")
    await chat.tap("Find a doctor")


async def conversation(sessions, cipher) -> tuple[str, str, dict]:
    async with sessions() as session:
        found = await session.scalar(select(Conversation))
        data = json.loads(cipher.decrypt("conversations", "data", found.id, found.data_enc))
        return found.flow, found.step, data


async def test_a_typo_finds_cardiology_with_credentials_fee_and_local_times(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    assert "What kind of doctor do you need?" in shown(chat)
    assert "Cardiology" in chat.labels() and "Paediatrics" in chat.labels()

    await chat.send("cardiolgy")
    text = shown(chat)
    assert "1. Dr Naveen Kumar — MBBS, MD (Medicine), DM (Cardiology)" in text
    assert "Andhra Pradesh Medical Council, registration no. APMC-58120" in text
    assert "Languages: Telugu, English, Hindi · Fee: ₹1,000" in text
    # 09:00 IST is his first slot; the patient lives in India too.
    assert "Next free: Mon, 7 Dec, 9:00 AM; Mon, 7 Dec, 9:15 AM; Mon, 7 Dec, 9:30 AM" in text
    assert "2." not in text
    assert "Dr Naveen Kumar" in chat.labels() and "➡️ More doctors" not in chat.labels()


async def test_times_are_shown_in_the_patients_timezone(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher, timezone="America/New_York")
    await chat.send("heart")
    # 09:00 IST on Monday is 22:30 on Sunday in New York (EST).
    assert "Next free: Sun, 6 Dec, 10:30 PM; Sun, 6 Dec, 10:45 PM; Sun, 6 Dec, 11:00 PM" in shown(chat)


async def test_lay_words_find_the_specialty(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    await chat.send("my kids have a cough")
    assert "Paediatrics ·" in shown(chat)
    assert "Dr Meera Iyer" in shown(chat) and "Dr Arjun Mehta" in shown(chat)
    assert "Dr Naveen Kumar" not in shown(chat)


async def test_an_unknown_specialty_is_asked_again(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    replies = await chat.send("astrology")
    assert "I couldn't match “astrology” to a specialty" in replies[0].text
    flow, step, _ = await conversation(sessions, cipher)
    assert (flow, step) == ("find_doctor", "specialty")


async def test_pages_of_five_with_more(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    await chat.tap("Any specialty")
    first = shown(chat)
    assert "1. Dr " in first and "5. Dr " in first and "6. Dr " not in first
    await chat.tap("More doctors")
    second = shown(chat)
    assert "6. Dr " in second and "10. Dr " in second and "1. Dr " not in second
    await chat.tap("More doctors")
    third = shown(chat)
    assert "11. Dr " in third and "12. Dr " in third
    assert "➡️ More doctors" not in chat.labels()
    names = [label for label in chat.labels() if label.startswith("Dr ")]
    assert len(names) == 2


async def test_language_fee_and_order_filters(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    await chat.tap("Any specialty")
    await chat.tap("Language")
    await chat.send("tamil")
    assert "Language: Tamil" in shown(chat)
    assert [label for label in chat.labels() if label.startswith("Dr ")] == ["Dr Meera Iyer"]

    await chat.tap("Language")
    await chat.tap("Any language")
    await chat.tap("Fee range")
    await chat.tap("up to ₹500")
    doctors = [label for label in chat.labels() if label.startswith("Dr ")]
    assert set(doctors) == {"Dr Ananya Rao", "Dr Vikram Singh", "Dr Meera Iyer", "Dr Arjun Mehta"}

    await chat.tap("Sort: lowest fee")
    assert "lowest fee first" in shown(chat)
    assert next(label for label in chat.labels() if label.startswith("Dr ")) == "Dr Vikram Singh"

    await chat.tap("Fee range")
    await chat.send("five hundred")
    assert "Please type an amount like 800" in shown(chat)
    await chat.send("700-900")
    doctors = [label for label in chat.labels() if label.startswith("Dr ")]
    assert doctors == ["Dr Sunita Reddy", "Dr Priya Das", "Dr Sanjay Gupta", "Dr Aisha Siddiqui"]


async def test_nothing_found_offers_to_change_the_search(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    await chat.send("Cardiology")
    await chat.tap("Language")
    await chat.send("Tamil")  # not among the eight most spoken, so typed
    assert "No verified doctor matches this search yet" in shown(chat)
    assert "🔎 New search" in chat.labels()
    await chat.tap("New search")
    flow, step, _ = await conversation(sessions, cipher)
    assert (flow, step) == ("find_doctor", "specialty")


async def test_only_verified_doctors_are_listed(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    async with sessions() as session, session.begin():
        user = User(id=new_id(), role=Role.DOCTOR)
        session.add(user)
        await session.flush()
        cardiology = await session.scalar(select(Specialty).where(Specialty.name == "Cardiology"))
        session.add(
            Doctor(
                user_id=user.id,
                full_name="Pending Person",
                qualification="MBBS",
                council="Nowhere Council",
                registration_number="N-1",
                fee_minor=100,
                status=VerificationStatus.PENDING,
                specialties=[cardiology],
            )
        )
    await chat.send("Cardiology")
    assert "Pending Person" not in shown(chat)


async def test_a_doctors_credentials_then_book_hands_off_to_booking(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    await chat.send("skin")
    await chat.tap("Dr Kavita Nair")
    text = shown(chat)
    for part in (
        "Dr Kavita Nair",
        "MBBS, MD (Dermatology)",
        "Registered with: Travancore-Cochin Medical Council",
        "Registration no.: TCMC-33472",
        "Consultation fee: ₹600",
        "Acne, eczema, hair loss and skin infections.",
        "Next free times (Asia/Kolkata): Mon, 7 Dec, 9:00 AM",
    ):
        assert part in text, part
    await chat.tap("Book")
    flow, _, data = await conversation(sessions, cipher)
    async with sessions() as session:
        kavita = await session.scalar(select(Doctor).where(Doctor.registration_number == "TCMC-33472"))
    assert flow == "booking"
    assert data["booking"] == {"doctor_id": kavita.id}


async def test_a_doctor_no_longer_verified_cannot_be_booked(chat, sessions, cipher):
    await patient_searching(chat, sessions, cipher)
    await chat.send("skin")
    await chat.tap("Dr Kavita Nair")
    async with sessions() as session, session.begin():
        kavita = await session.scalar(select(Doctor).where(Doctor.registration_number == "TCMC-33472"))
        kavita.status = VerificationStatus.REJECTED
    await chat.tap("Book")
    flow, step, data = await conversation(sessions, cipher)
    assert (flow, step) == ("find_doctor", "results") and "booking" not in data
    assert "Dr Kavita Nair" not in chat.labels()


async def test_hindi_patient_sees_hindi_and_can_type_hindi(chat, sessions, cipher):
    async with sessions() as session, session.begin():
        await demo.load(session, cipher, now=NOW)
    await chat.sign_up(language="हिन्दी")
    chat.skew = NOW - datetime.now(UTC)
    await chat.send("menu")
    await chat.tap("🔎")
    assert "आपको किस तरह का डॉक्टर चाहिए?" in shown(chat)
    await chat.send("त्वचा")
    assert "डॉ. Kavita Nair" in shown(chat) and "पंजीकरण संख्या TCMC-33472" in shown(chat)


async def hindi_patient_searching(chat: ChatDriver, sessions, cipher) -> None:
    async with sessions() as session, session.begin():
        await demo.load(session, cipher, now=NOW)
    await chat.sign_up(language="हिन्दी")
    chat.skew = NOW - datetime.now(UTC)
    await chat.send("menu")
    await chat.tap("🔎")


async def test_hindi_specialty_buttons_are_hindi_and_still_book(chat, sessions, cipher):
    await hindi_patient_searching(chat, sessions, cipher)
    labels = chat.labels()
    assert "हृदय रोग" in labels and "त्वचा रोग" in labels and "सामान्य चिकित्सक" in labels
    assert not {"Cardiology", "Dermatology", "General Physician"} & set(labels)
    await chat.tap("हृदय रोग")
    text = shown(chat)
    assert "डॉ. Naveen Kumar" in text and "Cardiology" not in text.replace("DM (Cardiology)", "")
    _, _, data = await conversation(sessions, cipher)
    assert data["form"]["specialty"] == "Cardiology"  # the key stays English
    await chat.tap("Naveen Kumar")
    await chat.tap("बुक")
    flow, _, data = await conversation(sessions, cipher)
    assert flow == "booking" and "doctor_id" in data["booking"]


async def test_hindi_doctor_card_names_languages_in_hindi(chat, sessions, cipher):
    await hindi_patient_searching(chat, sessions, cipher)
    await chat.send("हृदय रोग")  # typed, the Hindi name finds the specialty
    text = shown(chat)
    assert "तेलुगू, अंग्रेज़ी, हिन्दी" in text
    assert "Telugu" not in text


async def test_hindi_no_doctor_names_the_specialty_in_hindi(chat, sessions, cipher):
    await hindi_patient_searching(chat, sessions, cipher)
    await chat.send("दाँत")
    text = shown(chat)
    assert "दंत चिकित्सा" in text and "Dentistry" not in text
