"""A patient's red flags as their doctor reads them, on one line, in the doctor's language and
timezone: "⚠️ Red flags this patient raised in chat: cardiac 7 Dec; history: stroke 2 Dec". The
chat (the appointment card) and the notification templates (the doctor's request) each give the
line's own words through `words`, as `backend.records.summary.one_line` does; the category names
are here, one list for both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_skeleton

from backend.timefmt import babel_locale, zone

# The categories of conversations/emergency.py CATEGORIES, as a doctor reads them.
CATEGORY_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "cardiac": "cardiac",
        "breathing": "breathing",
        "stroke": "stroke",
        "neuro": "seizure/unconscious",
        "bleeding_trauma": "bleeding/injury",
        "anaphylaxis": "anaphylaxis",
        "poisoning": "poisoning/overdose",
        "obstetric": "pregnancy",
        "paediatric": "sick child",
        "mental_health": "mental-health crisis",
        "violence_abuse": "violence/abuse",
    },
    "hi": {
        "cardiac": "हृदय",
        "breathing": "साँस",
        "stroke": "स्ट्रोक/लकवा",
        "neuro": "दौरा/बेहोशी",
        "bleeding_trauma": "खून बहना/चोट",
        "anaphylaxis": "गंभीर एलर्जी",
        "poisoning": "ज़हर/ओवरडोज़",
        "obstetric": "गर्भावस्था",
        "paediatric": "बीमार बच्चा",
        "mental_health": "मानसिक संकट",
        "violence_abuse": "हिंसा/दुर्व्यवहार",
    },
}

# A word in the reader's language: (catalogue key, **fields) → text. Both catalogues name
# `red_flags_line` ({flags}) and `red_flag_history` ({flag}).
Words = Callable[..., str]


@dataclass(frozen=True, slots=True)
class ShownFlag:
    category: str
    at: datetime  # when it was raised (UTC)
    history: bool  # a mention of the past, not happening then

    def as_param(self) -> dict:
        """The template field value (a `_flags` field of notifications.templates holds a list)."""
        return {"category": self.category, "at": self.at.isoformat(), "history": self.history}

    @classmethod
    def from_param(cls, value: dict) -> ShownFlag:
        return cls(str(value["category"]), datetime.fromisoformat(value["at"]), bool(value.get("history")))


def category_name(category: str, locale: str) -> str:
    names = CATEGORY_NAMES.get(locale) or CATEGORY_NAMES["en"]
    return names.get(category) or CATEGORY_NAMES["en"].get(category, category)


def flags_line(flags: list[ShownFlag], words: Words, locale: str, timezone: str) -> str:
    """The flags, as given (newest first), on one line; "" when there are none."""
    if not flags:
        return ""
    shown = []
    for flag in flags:
        day = format_skeleton("MMMd", flag.at, tzinfo=zone(timezone), locale=babel_locale(locale))
        item = f"{category_name(flag.category, locale)} {day}"
        shown.append(words("red_flag_history", flag=item) if flag.history else item)
    return words("red_flags_line", flags="; ".join(shown))
