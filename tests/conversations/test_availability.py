"""The doctor's availability flow in chat: only verified doctors may change anything; weekly hours,
slot length, daily break, days off, one-off hours, on call and acceptance; bad input gets a clear
message and the question again. On SQLite and PostgreSQL, at a fixed time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from backend.models import (
    AvailabilityException,
    AvailabilityRule,
    Conversation,
    Doctor,
    Role,
    Slot,
    User,
    VerificationStatus,
    new_id,
)
from tests.backend.test_scheduling import add_appointment
from tests.chat import ChatDriver

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # Monday 7 December 2026, 06:00 IST


def shown(chat: ChatDriver) -> str:
    """The chat's last replies, with babel's narrow no-break spaces ("9:00\u202fAM") as spaces."""
    return chat.text().replace("\u202f", " ")


async def become_doctor(
    chat: ChatDriver, sessions, status: VerificationStatus = VerificationStatus.VERIFIED
) -> str:
    await chat.sign_up()
    chat.skew = NOW - datetime.now(UTC)
    async with sessions() as session, session.begin():
        user = await session.scalar(select(User))
        user.role = Role.DOCTOR
        doctor = Doctor(
            id=new_id(),
            user_id=user.id,
            full_name="Asha Verma",
            qualification="MBBS",
            council="Karnataka Medical Council",
            registration_number="KMC-1",
            languages=["English"],
            fee_minor=40_000,
            slot_minutes=30,
            status=status,
        )
        session.add(doctor)
    await chat.send("menu")
    await chat.tap("My availability")
    return doctor.id


async def rules(sessions, kind: str = "work") -> list[tuple[int, time, time]]:
    async with sessions() as session:
        found = await session.scalars(
            select(AvailabilityRule)
            .where(AvailabilityRule.kind == kind)
            .order_by(AvailabilityRule.weekday, AvailabilityRule.start_time)
        )
        return [(r.weekday, r.start_time, r.end_time) for r in found]


async def free_slots(sessions) -> list[Slot]:
    async with sessions() as session:
        return list(await session.scalars(select(Slot).where(Slot.status == "free").order_by(Slot.starts_at)))


async def doctor_row(sessions) -> Doctor:
    async with sessions() as session:
        return await session.scalar(select(Doctor))


async def step(sessions) -> tuple[str, str]:
    async with sessions() as session:
        conversation = await session.scalar(select(Conversation))
        return conversation.flow, conversation.step


async def set_hours(chat: ChatDriver, text: str) -> None:
    await chat.tap("Weekly hours")
    await chat.send(text)


# --- only verified doctors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "label"),
    [(VerificationStatus.PENDING, "awaiting verification"), (VerificationStatus.REJECTED, "rejected")],
)
async def test_an_unverified_doctor_is_told_and_can_save_nothing(chat: ChatDriver, sessions, status, label):
    await become_doctor(chat, sessions, status)
    assert f"Your registration is {label}" in shown(chat)
    assert chat.labels() == ["🏠 Main menu"]

    replies = await chat.send("Mon-Fri 09:00-17:00")
    assert "Please choose one of the options" in replies[0].text
    await chat.send("hours")
    await chat.send("45")
    assert await rules(sessions) == [] and await free_slots(sessions) == []
    assert (await doctor_row(sessions)).slot_minutes == 30

    await chat.tap("Main menu")
    assert await step(sessions) == ("menu", "main")


async def test_a_doctor_unverified_while_editing_saves_nothing(chat: ChatDriver, sessions):
    await become_doctor(chat, sessions)
    await chat.tap("Weekly hours")
    async with sessions() as session, session.begin():
        (await session.scalar(select(Doctor))).status = VerificationStatus.REJECTED
    await chat.send("Mon-Fri 09:00-17:00")
    assert "Your registration is rejected" in shown(chat)
    assert await rules(sessions) == [] and await free_slots(sessions) == []


async def test_a_user_without_a_doctor_record_is_told(chat: ChatDriver, sessions):
    await chat.sign_up()
    async with sessions() as session, session.begin():
        (await session.scalar(select(User))).role = Role.DOCTOR
    await chat.send("menu")
    await chat.tap("My availability")
    assert "no doctor record" in shown(chat)


# --- the overview and weekly hours --------------------------------------------------------------------


async def test_the_overview_shows_everything(chat: ChatDriver, sessions):
    await become_doctor(chat, sessions)
    text = shown(chat)
    for part in (
        "times in Asia/Kolkata",
        "Monday: off",
        "Daily break: none",
        "Slot length: 30 minutes",
        "On call for urgent consults: no",
        "Accepting requests: manually",
        "Free slots in the next 14 days: 0",
    ):
        assert part in text, part
    assert "🗓 My availability" in (await chat.send("menu") and chat.labels())


async def test_setting_weekly_hours_makes_slots_in_the_doctors_timezone(chat: ChatDriver, sessions):
    await become_doctor(chat, sessions)
    await set_hours(chat, "Mon-Fri 09:00-13:00, 14:00-17:00\nSat 10am-12pm; Sun off")
    assert "✅ Saved" in shown(chat)
    assert "Monday: 9:00 AM–1:00 PM, 2:00 PM–5:00 PM" in shown(chat)
    assert "Saturday: 10:00 AM–12:00 PM" in shown(chat)
    assert "Sunday: off" in shown(chat)
    assert await step(sessions) == ("availability", "overview")

    saved = await rules(sessions)
    assert (
        (0, time(9), time(13)) in saved
        and (4, time(14), time(17)) in saved
        and (5, time(10), time(12)) in saved
    )
    assert len(saved) == 11
    slots = await free_slots(sessions)
    local = [s.starts_at.astimezone(IST) for s in slots]
    # 14 days from Monday 06:00 IST: two weeks of weekdays (14 slots each) and Saturdays (4 each).
    assert len(slots) == 2 * (5 * 14 + 4)
    assert local[0] == datetime(2026, 12, 7, 9, 0, tzinfo=IST)
    assert all(m.weekday() != 6 and not time(13) <= m.time() < time(14) for m in local)
    assert f"Free slots in the next 14 days: {len(slots)}" in shown(chat)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Mon 17:00-09:00", "An end time must be after its start time"),
        ("Mon 09:00-12:00, 11:00-13:00", "Two of those times overlap"),
        ("Mon 25:00-26:00", "I couldn't read a time there"),
        ("whenever I feel like it", "I couldn't read that"),
        ("09:00-17:00", "Please start with the day(s)"),
        ("Mon", "Please add the hours after the day"),
        ("🙂", "I couldn't read that"),
    ],
)
async def test_bad_hours_get_a_clear_message_and_the_question_again(
    chat: ChatDriver, sessions, typed, message
):
    await become_doctor(chat, sessions)
    await chat.tap("Weekly hours")
    replies = await chat.send(typed)
    assert message in replies[0].text
    assert "Type the days and hours" in shown(chat)
    assert await step(sessions) == ("availability", "hours")
    assert await rules(sessions) == []


async def test_changing_hours_keeps_a_booked_slot_and_says_so(chat: ChatDriver, sessions):
    await become_doctor(chat, sessions)
    await set_hours(chat, "Mon-Fri 09:00-12:00")
    async with sessions() as session, session.begin():
        booked = await session.scalar(select(Slot).order_by(Slot.starts_at).offset(4))  # Monday 11:00
        await add_appointment(session, booked)
    await set_hours(chat, "Mon-Fri 09:00-10:00")
    assert "1 booked appointment(s) fall outside your new hours" in shown(chat)
    async with sessions() as session:
        kept = await session.get(Slot, booked.id)
        assert kept.status == "free"
        open_or_booked = await session.scalar(
            select(func.count()).select_from(Slot).where(Slot.status == "free")
        )
    assert open_or_booked == 2 * 5 * 2 + 1


# --- slot length and break -------------------------------------------------------------------------


async def test_slot_length_by_button_or_typed(chat: ChatDriver, sessions):
    await become_doctor(chat, sessions)
    await set_hours(chat, "Mon 09:00-12:00")
    await chat.tap("Slot length")
    await chat.tap("45 min")
    assert "Slot length: 45 minutes" in shown(chat)
    slots = await free_slots(sessions)
    assert {s.ends_at - s.starts_at for s in slots} == {timedelta(minutes=45)}
    assert len(slots) == 2 * 4

    await chat.tap("Slot length")
    await chat.send("10")
    assert (await doctor_row(sessions)).slot_minutes == 10
    await chat.tap("Slot length")
    replies = await chat.send("17")
    assert "Please choose 10, 15, 20, 30, 45 or 60 minutes" in replies[0].text
    assert (await doctor_row(sessions)).slot_minutes == 10


async def test_a_daily_break_is_cut_out(chat: ChatDriver, sessions):
    await become_doctor(chat, sessions)
    await set_hours(chat, "Mon-Fri 9am-5pm")
    await chat.tap("Daily break")
    await chat.send("1:00 pm - 2:00 pm")
    assert "Daily break: 1:00 PM–2:00 PM" in shown(chat)
    assert await rules(sessions, "break") == [(d, time(13), time(14)) for d in range(7)]
    assert all(
        not time(13) <= s.starts_at.astimezone(IST).time() < time(14) for s in await free_slots(sessions)
    )

    await chat.tap("Daily break")
    await chat.send("14:00-13:00")
    assert "An end time must be after its start time" in shown(chat)
    await chat.tap("No break")
    assert "Daily break: none" in shown(chat)
    assert await rules(sessions, "break") == []


# --- days off and one-off hours -------------------------------------------------------------------


async def test_a_day_off_closes_its_slots_and_can_be_removed(chat: ChatDriver, sessions):
    await become_doctor(chat, sessions)
    await set_hours(chat, "Mon-Fri 09:00-10:00")
    before = len(await free_slots(sessions))
    await chat.tap("Days off")
    await chat.tap("Add a day off")
    replies = await chat.send("01-12-2026")
    assert "That date has already passed" in replies[0].text
    await chat.send("not a date")
    assert "I couldn't read that date" in shown(chat)
    await chat.send("09-12-2026")
    assert "🌴 Wed, 9 Dec 2026 is a day off" in shown(chat)
    assert "• Wed, 9 Dec 2026: off" in shown(chat)
    slots = await free_slots(sessions)
    assert len(slots) == before - 2
    assert date(2026, 12, 9) not in {s.starts_at.astimezone(IST).date() for s in slots}

    await chat.tap("Days off")
    await chat.tap("9 Dec 2026: usual hours")
    assert "Wed, 9 Dec 2026 is back to your usual hours" in shown(chat)
    assert len(await free_slots(sessions)) == before
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AvailabilityException)) == 0


async def test_one_off_hours_replace_a_day(chat: ChatDriver, sessions):
    await become_doctor(chat, sessions)
    await set_hours(chat, "Mon-Fri 09:00-10:00")
    await chat.tap("Days off")
    await chat.tap("one-off hours")
    await chat.send("10-12-2026 15:00-16:00, 9pm-10pm")
    assert "Thu, 10 Dec 2026: 3:00 PM–4:00 PM, 9:00 PM–10:00 PM instead of your usual hours" in shown(chat)
    thursday = [
        s.starts_at.astimezone(IST).strftime("%H:%M")
        for s in await free_slots(sessions)
        if s.starts_at.astimezone(IST).date() == date(2026, 12, 10)
    ]
    assert thursday == ["15:00", "15:30", "21:00", "21:30"]

    await chat.tap("Days off")
    await chat.tap("one-off hours")
    await chat.send("12 Dec off")
    assert "Sat, 12 Dec 2026 is a day off" in shown(chat)
    await chat.tap("Days off")
    await chat.tap("one-off hours")
    await chat.send("11-12-2026 16:00-15:00")
    assert "An end time must be after its start time" in shown(chat)
    await chat.tap("Back")
    assert await step(sessions) == ("availability", "dates")


# --- on call and acceptance ----------------------------------------------------------------------------


async def test_on_call_and_acceptance_toggle(chat: ChatDriver, sessions):
    await become_doctor(chat, sessions)
    await chat.tap("Go on call")
    assert "You are on call" in shown(chat) and "On call for urgent consults: yes" in shown(chat)
    await chat.tap("Accept requests automatically")
    assert "accepted automatically" in shown(chat) and "Accepting requests: automatically" in shown(chat)
    doctor = await doctor_row(sessions)
    assert doctor.on_call and doctor.auto_accept

    await chat.tap("Stop being on call")
    await chat.tap("Accept requests manually")
    doctor = await doctor_row(sessions)
    assert not doctor.on_call and not doctor.auto_accept


async def test_hindi_speaking_doctor_sees_hindi(chat: ChatDriver, sessions):
    await chat.sign_up(language="हिन्दी")
    chat.skew = NOW - datetime.now(UTC)
    async with sessions() as session, session.begin():
        user = await session.scalar(select(User))
        user.role = Role.DOCTOR
        session.add(
            Doctor(
                user_id=user.id,
                full_name="Asha Verma",
                qualification="MBBS",
                council="KMC",
                registration_number="KMC-2",
                fee_minor=40_000,
                status=VerificationStatus.VERIFIED,
            )
        )
    await chat.send("menu")
    await chat.tap("🗓")
    assert "आपकी उपलब्धता" in shown(chat) and "सोमवार: छुट्टी" in shown(chat)
    await chat.tap("🕘")
    await chat.send("सोमवार 10:00-12:00")
    assert "✅ सहेज लिया" in shown(chat)
    assert await rules(sessions) == [(0, time(10), time(12))]
