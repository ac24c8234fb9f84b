"""Every word a user reads, per language. Steps ask for a message by key; nothing user-facing
is written inline in code. English is the reference catalogue; each other language must have
every key with the same placeholders (a test checks)."""

from __future__ import annotations

from conversations.copy import booking, en, guidance, hi, payments, providers, scheduling

# One catalogue per language, gathered from the core words and one module per area (each has
# EN and HI dicts), so areas are edited side by side without touching each other.
_AREAS = (providers, scheduling, booking, payments, guidance)
CATALOGUES: dict[str, dict[str, str]] = {
    "en": en.MESSAGES | {k: v for area in _AREAS for k, v in area.EN.items()},
    "hi": hi.MESSAGES | {k: v for area in _AREAS for k, v in area.HI.items()},
}
LANGUAGES: dict[str, str] = {"en": "English", "hi": "हिन्दी (Hindi)"}
DEFAULT_LOCALE = "en"
# Formatting (dates, money, weekday names) follows India's conventions: "15 August 1990", ₹1,50,000.
_FORMAT_LOCALES = {"en": "en_IN", "hi": "hi_IN"}


def format_locale(locale: str) -> str:
    return _FORMAT_LOCALES.get(locale, "en_IN")


def translate(locale: str, key: str, **params: object) -> str:
    catalogue = CATALOGUES.get(locale, CATALOGUES[DEFAULT_LOCALE])
    template = catalogue.get(key) or CATALOGUES[DEFAULT_LOCALE][key]
    return template.format(**params) if params else template


def all_translations(key: str) -> set[str]:
    """The message in every language (e.g. to recognise a command typed in any of them)."""
    return {catalogue[key] for catalogue in CATALOGUES.values() if key in catalogue}
