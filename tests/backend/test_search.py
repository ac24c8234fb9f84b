"""Doctor search (backend.scheduling.search): specialty typed with typos or in lay words, language,
fee range, earliest-available and fee order, pages with "more", only verified doctors, on SQLite
and PostgreSQL at fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.models import Appointment, AppointmentStatus, Doctor, Specialty, VerificationStatus, new_id
from backend.scheduling import search
from backend.scheduling import service as scheduling
from tests.backend.test_scheduling import add_appointment, add_doctor, slots_of

NOW = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # Monday 05:30 IST
NAMES = [
    "Cardiology",
    "Dermatology",
    "Endocrinology",
    "General Physician",
    "Gynaecology",
    "Paediatrics",
    "Psychiatry",
]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("cardiolgy", "Cardiology"),
        ("CARDIOLOGY", "Cardiology"),
        ("dermatolgy", "Dermatology"),
        ("dermatologist", "Dermatology"),
        ("skin", "Dermatology"),
        ("itchy skin rash", "Dermatology"),
        ("child", "Paediatrics"),
        ("kids", "Paediatrics"),
        ("pediatrician", "Paediatrics"),
        ("heart", "Cardiology"),
        ("I need a heart doctor", "Cardiology"),
        ("general physican", "General Physician"),
        ("gynecologist", "Gynaecology"),
        ("psychiatrist", "Psychiatry"),
        ("त्वचा", "Dermatology"),
        ("बच्चे", "Paediatrics"),
        ("neurology", None),
        ("xyzzy", None),
        ("her", None),
        ("a", None),
        ("", None),
        ("🙂🙂", None),
        ("x" * 5000, None),
    ],
)
def test_match_specialty(typed, expected):
    assert search.match_specialty(typed, NAMES) == expected


def test_lay_words_only_name_specialties_that_exist():
    assert search.match_specialty("skin", ["Cardiology", "Psychiatry"]) is None
    assert search.match_specialty("heart", ["Cardiology", "Psychiatry"]) == "Cardiology"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hindi", "Hindi"),
        ("Hndi", "Hindi"),
        ("हिंदी", "Hindi"),
        ("हिन्दी", "Hindi"),
        ("tamil", "Tamil"),
        ("klingon", None),
    ],
)
def test_match_language(typed, expected):
    assert search.match_language(typed, ["English", "Hindi", "Tamil"]) == expected


async def _specialty(session, name: str) -> Specialty:
    specialty = Specialty(id=new_id(), name=name)
    session.add(specialty)
    await session.flush()
    return specialty


async def _clinic(sessions) -> dict[str, str]:
    """Six doctors: their free times differ, so the orders differ."""
    async with sessions() as session, session.begin():
        cardio, derm = await _specialty(session, "Cardiology"), await _specialty(session, "Dermatology")
        every_day = {d: [("09:00", "10:00")] for d in range(7)}
        doctors = {
            "early": await add_doctor(
                session,
                name="Early Cardio",
                specialties=[cardio],
                fee_minor=90_000,
                hours=every_day,
                languages=("English", "Hindi"),
            ),
            "late": await add_doctor(
                session,
                name="Late Cardio",
                specialties=[cardio],
                fee_minor=40_000,
                hours={d: [("17:00", "18:00")] for d in range(7)},
                languages=("Tamil", "English"),
            ),
            "none": await add_doctor(
                session, name="Fully Booked Cardio", specialties=[cardio], fee_minor=30_000
            ),
            "pending": await add_doctor(
                session,
                name="Pending Cardio",
                specialties=[cardio],
                hours=every_day,
                status=VerificationStatus.PENDING,
            ),
            "derm": await add_doctor(
                session, name="Skin Doctor", specialties=[derm], fee_minor=60_000, hours=every_day
            ),
            "derm2": await add_doctor(
                session, name="Another Skin Doctor", specialties=[derm], fee_minor=70_000, hours=every_day
            ),
        }
        for doctor in doctors.values():
            await scheduling.generate_slots(session, doctor, now=NOW, horizon_days=3)
        return {key: doctor.id for key, doctor in doctors.items()}


async def _search(sessions, **kwargs) -> search.SearchPage:
    params = {
        "specialty_text": None,
        "language": None,
        "min_fee_minor": None,
        "max_fee_minor": None,
        "now": NOW,
    }
    async with sessions() as session:
        return await search.search_doctors(session, **(params | kwargs))


def _names(page: search.SearchPage) -> list[str]:
    return [card.doctor.full_name for card in page.cards]


async def test_a_typo_finds_the_specialty_and_only_verified_doctors(sessions):
    await _clinic(sessions)
    page = await _search(sessions, specialty_text="cardiolgy")
    assert page.specialty == "Cardiology"
    assert _names(page) == ["Early Cardio", "Late Cardio", "Fully Booked Cardio"]  # no slots: last
    assert "Pending Cardio" not in _names(await _search(sessions))


async def test_each_card_has_the_next_three_free_times_in_utc(sessions):
    await _clinic(sessions)
    early = (await _search(sessions, specialty_text="heart")).cards[0]
    assert early.next_free == [datetime(2026, 3, d, 3, 30, tzinfo=UTC) for d in (2, 3, 4)]  # 09:00 IST


async def test_a_held_slot_is_not_offered_and_a_lapsed_hold_is(sessions):
    ids = await _clinic(sessions)
    async with sessions() as session, session.begin():
        first = (await slots_of(session, await session.get(Doctor, ids["early"])))[0]
        appointment = await add_appointment(
            session, first, status=AppointmentStatus.HELD, hold_expires_at=NOW + timedelta(minutes=10)
        )
    page = await _search(sessions, specialty_text="Cardiology")
    early = next(c for c in page.cards if c.doctor.full_name == "Early Cardio")
    assert first.starts_at not in early.next_free
    async with sessions() as session, session.begin():
        (await session.get(Appointment, appointment.id)).hold_expires_at = NOW - timedelta(seconds=1)
    page = await _search(sessions, specialty_text="Cardiology")
    early = next(c for c in page.cards if c.doctor.full_name == "Early Cardio")
    assert early.next_free[0] == first.starts_at


async def test_order_by_fee(sessions):
    await _clinic(sessions)
    page = await _search(sessions, specialty_text="Cardiology", order="fee")
    assert _names(page) == ["Fully Booked Cardio", "Late Cardio", "Early Cardio"]


async def test_language_and_fee_filters(sessions):
    await _clinic(sessions)
    assert _names(await _search(sessions, language="tamil")) == ["Late Cardio"]
    assert _names(await _search(sessions, language="हिंदी")) == ["Early Cardio"]
    assert _names(await _search(sessions, language="klingon")) == []
    assert _names(await _search(sessions, min_fee_minor=50_000, max_fee_minor=70_000, order="fee")) == [
        "Skin Doctor",
        "Another Skin Doctor",
    ]
    assert _names(await _search(sessions, specialty_text="skin", max_fee_minor=10_000)) == []


async def test_pages_of_results_with_more(sessions):
    await _clinic(sessions)
    first = await _search(sessions, limit=2)
    second = await _search(sessions, limit=2, offset=2)
    third = await _search(sessions, limit=2, offset=4)
    assert first.has_more and second.has_more and not third.has_more
    everyone = _names(first) + _names(second) + _names(third)
    assert len(everyone) == len(set(everyone)) == 5
    assert everyone[-1] == "Fully Booked Cardio"
    assert _names(await _search(sessions, offset=10)) == []


async def test_an_unknown_specialty_finds_nobody(sessions):
    await _clinic(sessions)
    page = await _search(sessions, specialty_text="astrology")
    assert (page.cards, page.has_more, page.specialty) == ([], False, None)


async def test_specialty_buttons_list_only_what_verified_doctors_practise(sessions):
    await _clinic(sessions)
    async with sessions() as session, session.begin():
        await _specialty(session, "Neurology")
        assert await search.specialty_names(session, practised=True) == ["Cardiology", "Dermatology"]
        assert "Neurology" in await search.specialty_names(session)
        assert (await search.languages_spoken(session))[0] == "English"


async def test_an_unknown_order_is_a_programming_error(sessions):
    with pytest.raises(ValueError):
        await _search(sessions, order="random")
