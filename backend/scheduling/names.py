"""Specialty and language names in the user's language, for display only.

The database keeps a specialty's English name as its key (filters, saved conversations and button
values use it); a patient in Hindi mode reads its Hindi name, and may type it to search. A
specialty without a Hindi name here stays as stored. Language names come from babel's locale data
("Telugu" → "तेलुगु")."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale

# The standard specialties (backend/providers/service.py STANDARD_SPECIALTIES) as Hindi-speaking
# patients name them. No commas: names are listed joined by ", ".
SPECIALTY_NAMES: dict[str, dict[str, str]] = {
    "hi": {
        "General Physician": "सामान्य चिकित्सक",
        "Paediatrics": "बाल रोग",
        "Dermatology": "त्वचा रोग",
        "Gynaecology": "स्त्री रोग",
        "Psychiatry": "मनोरोग",
        "Cardiology": "हृदय रोग",
        "Endocrinology": "हार्मोन रोग",
        "ENT": "कान-नाक-गला",
        "Orthopaedics": "हड्डी रोग",
        "Ophthalmology": "नेत्र रोग",
        "Neurology": "तंत्रिका रोग",
        "Gastroenterology": "पेट व पाचन रोग",
        "Pulmonology": "फेफड़ा रोग",
        "Nephrology": "गुर्दा रोग",
        "Urology": "मूत्र रोग",
        "Dentistry": "दंत चिकित्सा",
    }
}


def specialty_name(name: str, locale: str) -> str:
    """A specialty as shown in `locale`: its name there, else as stored."""
    return SPECIALTY_NAMES.get(locale, {}).get(name, name)


def specialty_names(names: list[str] | tuple[str, ...], locale: str) -> str:
    return ", ".join(specialty_name(name, locale) for name in names)


def other_names(name: str) -> list[str]:
    """The specialty's names in every language we translate it to (for search)."""
    return [names[name] for names in SPECIALTY_NAMES.values() if name in names]


def translated_specialties() -> list[str]:
    """Every specialty we have a translated name for (by its English key)."""
    return list(dict.fromkeys(name for names in SPECIALTY_NAMES.values() for name in names))


@lru_cache(maxsize=1)
def _language_codes() -> dict[str, str]:
    """English language name, casefolded → its code ("telugu" → "te")."""
    return {n.casefold(): code for code, n in Locale("en").languages.items() if "_" not in code}


@lru_cache(maxsize=512)
def language_name(name: str, locale: str) -> str:
    """A language (as doctors list it, in English) named in `locale`: "Telugu" → "तेलुगु" in Hindi;
    as stored when babel does not know it or `locale` is English."""
    code = _language_codes().get(name.casefold())
    if code is None or locale == "en":
        return name
    try:
        return Locale.parse(locale).languages.get(code) or name
    except (ValueError, LookupError):
        return name


def language_names(names: list[str], locale: str) -> str:
    return ", ".join(language_name(name, locale) for name in names)
