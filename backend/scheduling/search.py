"""Doctor search for patients: by specialty (free text, typo tolerant), language, fee range, in
order of the earliest free slot or of the fee. Only verified doctors are ever listed."""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from babel import Locale
from rapidfuzz import fuzz
from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Doctor, Slot, Specialty, VerificationStatus
from backend.models.directory import doctor_specialties
from backend.scheduling.names import other_names, translated_specialties
from backend.scheduling.service import free_condition, next_free_starts

NEXT_FREE_SHOWN = 3
ORDERS = ("earliest", "fee")
# 0-100: one typo in a word of five letters or more ("cardiolgy", "dermatolgy") passes,
# unrelated words ("her" for "heart") do not.
SCORE_THRESHOLD = 80.0

# The words patients use for a specialty. A specialty is only suggested when it exists.
LAY_WORDS: dict[str, tuple[str, ...]] = {
    "Dermatology": ("skin", "rash", "acne", "hair", "eczema", "dermatologist", "त्वचा", "चमड़ी", "स्किन"),
    "Paediatrics": (
        "child",
        "children",
        "kid",
        "kids",
        "baby",
        "infant",
        "pediatrics",
        "pediatrician",
        "paediatrician",
        "बच्चा",
        "बच्चे",
        "बच्चों",
        "शिशु",
    ),
    "Cardiology": ("heart", "cardiac", "cardiologist", "palpitations", "दिल", "हृदय"),
    "Gynaecology": (
        "women",
        "woman",
        "pregnancy",
        "pregnant",
        "period",
        "periods",
        "gynecology",
        "gynecologist",
        "gynaecologist",
        "स्त्री",
        "महिला",
        "गर्भावस्था",
    ),
    "Psychiatry": ("mental", "anxiety", "depression", "stress", "psychiatrist", "मानसिक", "तनाव"),
    "Endocrinology": (
        "diabetes",
        "sugar",
        "thyroid",
        "hormone",
        "hormones",
        "endocrinologist",
        "मधुमेह",
        "शुगर",
    ),
    "General Physician": (
        "gp",
        "general",
        "internal medicine",
        "general medicine",
        "family medicine",
        "medicine specialist",
        "family",
        "fever",
        "cold",
        "physician",
        "बुखार",
        "सामान्य",
        # A headache is first a general physician's (NHS: "see a GP if…"); migraine → Neurology.
        "headache",
        "sar dard",
        "sir dard",
        "sardard",
        "सिर दर्द",
        "सिरदर्द",
    ),
    "Neurology": ("neurologist", "migraine", "nerve", "nerves", "नसों"),
    "Ophthalmology": (
        "eye",
        "eyes",
        "eye doctor",
        "ophthalmologist",
        "vision",
        "aankh",
        "aankhen",
        "ankh",
        "आँख",
        "आंख",
        "आंखें",
        "नेत्र",
    ),
    "Dentistry": ("dentist", "dental", "tooth", "teeth", "toothache", "daant", "dant", "दांत", "दाँत"),
    "ENT": ("ear", "ears", "kaan", "कान", "ent specialist"),
}
# Asked first when nobody practises what the patient asked for: a general physician can see most
# problems and refer on.
GENERAL_PHYSICIAN = "General Physician"
# 0-100: how close a word must come to a specialty or one of its words to be offered as "closest".
SUGGEST_THRESHOLD = 60.0

_SEPARATORS = re.compile(r"[^a-z0-9\u0900-\u0963\u0966-\u097f]+")


def _normal(text: str) -> str:
    return _SEPARATORS.sub(" ", unicodedata.normalize("NFC", text).casefold()).strip()


def _phrases(text: str) -> list[str]:
    """The whole text, each word, and each pair of neighbouring words."""
    words = text.split()
    return list(dict.fromkeys([text, *words, *(" ".join(pair) for pair in itertools.pairwise(words))]))


def _best(text: str, candidates: dict[str, str]) -> str | None:
    """The candidate value whose key the text (or one of its words) names best, fuzzily."""
    query = _normal(text)[:200]
    if len(query) < 2:
        return None
    best_value, best_score = None, 0.0
    for phrase in _phrases(query):
        if phrase in candidates:
            return candidates[phrase]
        if len(phrase) < 4:  # "gp" must be exact; fuzz on short words matches anything
            continue
        for key, value in candidates.items():
            score = fuzz.ratio(phrase, key)
            if score > best_score:
                best_value, best_score = value, score
    return best_value if best_score >= SCORE_THRESHOLD else None


def match_specialty(text: str, names: list[str]) -> str | None:
    """The specialty (one of `names`) the patient means: its name with a typo ("cardiolgy"), a
    word for it ("skin" → Dermatology, "kids" → Paediatrics, "heart" → Cardiology), else None."""
    candidates: dict[str, str] = {}
    for name in names:
        candidates[_normal(name)] = name
        for word in _normal(name).split():
            if len(word) >= 5:
                candidates.setdefault(word, name)  # "physician" alone names General Physician
    for name in names:
        for other in other_names(name):  # "हृदय रोग" → Cardiology
            candidates.setdefault(_normal(other), name)
    present = {_normal(name): name for name in names}
    for specialty, words in LAY_WORDS.items():
        if (name := present.get(_normal(specialty))) is not None:
            for word in words:
                candidates.setdefault(_normal(word), name)
    return _best(text, candidates)


def named_specialty(text: str) -> str | None:
    """The specialty the patient's words name, by its name or a lay word, whether or not anybody
    practises it here ("eye doctor" → Ophthalmology): to say honestly that nobody does yet."""
    candidates: dict[str, str] = {}
    for specialty in dict.fromkeys([*LAY_WORDS, *translated_specialties()]):
        candidates[_normal(specialty)] = specialty
        for word in [*other_names(specialty), *LAY_WORDS.get(specialty, ())]:
            candidates.setdefault(_normal(word), specialty)
    return _best(text, candidates)


def nearest_specialties(text: str, names: list[str], limit: int = 3) -> list[str]:
    """The specialties (of `names`) whose names or lay words come closest to any word of the text,
    best first: what to suggest when nothing matched."""
    scores: dict[str, float] = {}
    for phrase in _phrases(_normal(text)[:200]):
        if len(phrase) < 4:
            continue
        for name in names:
            words = [*other_names(name), *LAY_WORDS.get(name, ())]
            keys = [_normal(name), *(_normal(w) for w in words)]
            score = max(fuzz.ratio(phrase, key) for key in keys)
            scores[name] = max(scores.get(name, 0.0), score)
    ranked = sorted(
        (n for n, score in scores.items() if score >= SUGGEST_THRESHOLD), key=lambda n: -scores[n]
    )
    return ranked[:limit]


@lru_cache(maxsize=256)
def _language_aliases(name: str) -> tuple[str, ...]:
    """Other names of a language: "Hindi" is also "हिन्दी" and "हिंदी" (from babel's locale data)."""
    english = Locale("en").languages
    code = next((c for c, n in english.items() if n.casefold() == name.casefold() and "_" not in c), None)
    if code is None:
        return ()
    aliases = set()
    for locale in (code, "hi"):
        try:
            aliases.add(Locale.parse(locale).languages.get(code, ""))
        except (ValueError, LookupError):
            continue
    if "हिन्दी" in aliases:
        aliases.add("हिंदी")
    return tuple(a for a in aliases if a)


@lru_cache(maxsize=1)
def _known_languages() -> dict[str, str]:
    """Every language's name in English and in Hindi (babel's locale data), normalised → its
    English name: "हिंदी" → "Hindi", "angrezi" is not here but "अंग्रेज़ी" is."""
    english = {code: name for code, name in Locale("en").languages.items() if "_" not in code}
    known: dict[str, str] = {}
    for name in english.values():
        known.setdefault(_normal(name), name)
    for code, name in Locale("hi").languages.items():
        if code in english:
            known.setdefault(_normal(name), english[code])
    known.setdefault(_normal("हिंदी"), "Hindi")  # the common spelling beside babel's हिन्दी
    return known


def canonical_language(text: str) -> str | None:
    """The English name of a language typed in English or Hindi ("hindi", "हिंदी" → "Hindi"),
    so that doctors' languages and patients' searches meet; None when it is not one we know."""
    return _known_languages().get(_normal(text))


def match_language(text: str, names: list[str]) -> str | None:
    """The language (one of `names`, as doctors list them) the patient typed: "hindi", "Hndi", "हिंदी"."""
    candidates: dict[str, str] = {}
    for name in names:
        candidates[_normal(name)] = name
        for alias in _language_aliases(name):
            candidates.setdefault(_normal(alias), name)
    return _best(text, candidates)


async def specialty_names(session: AsyncSession, *, practised: bool = False) -> list[str]:
    """Every specialty by name; with `practised`, only those a verified doctor practises."""
    query = select(Specialty.name).order_by(Specialty.name)
    if practised:
        query = (
            query.join(doctor_specialties, doctor_specialties.c.specialty_id == Specialty.id)
            .join(Doctor, Doctor.id == doctor_specialties.c.doctor_id)
            .where(Doctor.status == VerificationStatus.VERIFIED)
            .distinct()
        )
    return list(await session.scalars(query))


async def languages_spoken(session: AsyncSession) -> list[str]:
    """Every language a verified doctor lists, most common first."""
    counts: dict[str, int] = {}
    for languages in await session.scalars(
        select(Doctor.languages).where(Doctor.status == VerificationStatus.VERIFIED)
    ):
        for language in languages or []:
            counts[language] = counts.get(language, 0) + 1
    return sorted(counts, key=lambda name: (-counts[name], name))


def _speaks(session: AsyncSession, language: str) -> ColumnElement[bool]:
    """SQL: the doctor's JSON list of languages contains `language` (exactly, as stored)."""
    if session.bind.dialect.name == "postgresql":
        spoken = func.json_array_elements_text(Doctor.languages).table_valued("value")
    else:
        spoken = func.json_each(Doctor.languages).table_valued("value")
    return exists(select(1).select_from(spoken).where(spoken.c.value == language))


@dataclass(frozen=True)
class DoctorCard:
    doctor: Doctor
    next_free: list[datetime]  # UTC


@dataclass(frozen=True)
class SearchPage:
    cards: list[DoctorCard]
    has_more: bool
    specialty: str | None  # the specialty matched


async def search_doctors(
    session: AsyncSession,
    *,
    specialty_text: str | None,
    language: str | None,
    min_fee_minor: int | None,
    max_fee_minor: int | None,
    now: datetime,
    offset: int = 0,
    limit: int = 5,
    order: str = "earliest",
) -> SearchPage:
    """One page of verified doctors. `order` "earliest": the earliest free slot first, doctors with
    none last; "fee": the lowest fee first. A specialty text that names no specialty finds nobody;
    a language is matched to the languages doctors list (typo tolerant, any script babel knows)."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}")
    query = select(Doctor).where(Doctor.status == VerificationStatus.VERIFIED)
    specialty = None
    if specialty_text and specialty_text.strip():
        specialty = match_specialty(specialty_text, await specialty_names(session))
        if specialty is None:
            return SearchPage([], False, None)
        query = query.where(Doctor.specialties.any(Specialty.name == specialty))
    if language and language.strip():
        spoken = match_language(language, await languages_spoken(session))
        if spoken is None:
            return SearchPage([], False, specialty)
        query = query.where(_speaks(session, spoken))
    if min_fee_minor is not None:
        query = query.where(Doctor.fee_minor >= min_fee_minor)
    if max_fee_minor is not None:
        query = query.where(Doctor.fee_minor <= max_fee_minor)

    earliest = (
        select(func.min(Slot.starts_at))
        .where(Slot.doctor_id == Doctor.id, free_condition(now))
        .correlate(Doctor)
        .scalar_subquery()
    )
    soonest = (earliest.is_(None), earliest)
    ordering = soonest if order == "earliest" else (Doctor.fee_minor, *soonest)
    query = query.order_by(*ordering, Doctor.full_name, Doctor.id).offset(max(offset, 0)).limit(limit + 1)
    doctors = list(await session.scalars(query))
    cards = [
        DoctorCard(doctor, await next_free_starts(session, doctor.id, now=now, count=NEXT_FREE_SHOWN))
        for doctor in doctors[:limit]
    ]
    return SearchPage(cards, len(doctors) > limit, specialty)
