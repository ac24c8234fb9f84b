"""What a doctor is shown of a patient before and during a consult: age, sex, allergies, current
medications, conditions and history, the lists cut short enough that the doctor's request
notification stays one WhatsApp message (Twilio's 1600 characters, with the reason's 500 and the
template's own words). Language-neutral: the chat and the notification templates put the words
around it ("none recorded", "+3 more") through `one_line`, each with its own word lookup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

# Shown in this order: what can hurt the patient first.
SUMMARY_LISTS = ("allergies", "medications", "conditions", "history")
MAX_LIST_CHARS = 120  # per list, items joined by "; "
MAX_ITEM_CHARS = 60  # a longer item is cut with "…"
SEPARATOR = "; "

# A word in the reader's language: (catalogue key, **fields) → text. The chat's `ctx.t`, or the
# notification templates' catalogue; both name the words `profile_none` and `list_more`.
Words = Callable[..., str]


@dataclass(frozen=True, slots=True)
class CutList:
    items: tuple[str, ...]  # the first items, each at most MAX_ITEM_CHARS
    more: int = 0  # how many were left out

    def as_param(self) -> dict:
        """The template field value of a `_list` field (notifications.templates)."""
        return {"items": list(self.items), "more": self.more}

    @classmethod
    def from_param(cls, value: list | dict) -> CutList:
        """Back from a `_list` field value: a plain list, or what `as_param` made."""
        if isinstance(value, list):
            return cls(tuple(str(item) for item in value))
        return cls(tuple(str(item) for item in value.get("items") or []), int(value.get("more") or 0))


@dataclass(frozen=True, slots=True)
class PatientSummary:
    age: int | None  # on the appointment's local date; None without a birth date
    sex: str  # the profile's code: female, male, other, undisclosed ("" if missing)
    lists: dict[str, CutList]

    def template_params(self) -> dict:
        """Fields for a notification template: `age`, `sex_word` (a catalogue key) and one
        `<name>_list` per list."""
        return {
            "age": "—" if self.age is None else str(self.age),
            "sex_word": f"sex_{self.sex or 'undisclosed'}",
            **{f"{name}_list": self.lists[name].as_param() for name in SUMMARY_LISTS},
        }


def age_on(birth: date | None, day: date) -> int | None:
    """Whole years from `birth` to `day` (a birthday counts from its own day); None without a birth
    date or for a birth date after `day`."""
    if birth is None or birth > day:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def shorten(text: str, limit: int) -> str:
    """`text`, or its first characters and "…" in at most `limit` characters (a list item, a
    button label)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def one_line(cut: CutList, words: Words) -> str:
    """The items on one line (a WhatsApp template variable may not hold a line break) and how many
    were left out: "penicillin; peanuts +2 more"; "none recorded" when there are none."""
    if not cut.items:
        return words("profile_none")
    shown = SEPARATOR.join(" ".join(item.split()) for item in cut.items)
    return f"{shown} {words('list_more', count=cut.more)}" if cut.more else shown


def cut(items: list[str], *, max_chars: int = MAX_LIST_CHARS, max_item: int = MAX_ITEM_CHARS) -> CutList:
    """The first items that fit in `max_chars` (always the first one, shortened if need be), and
    how many did not fit."""
    shown: list[str] = []
    used = 0
    for item in items:
        short = shorten(item, max_item)
        needed = len(short) + (len(SEPARATOR) if shown else 0)
        if shown and used + needed > max_chars:
            break
        shown.append(short)
        used += needed
    return CutList(tuple(shown), len(items) - len(shown))


def summarise(birth: date | None, sex: str, lists: dict[str, list[str]], day: date) -> PatientSummary:
    return PatientSummary(
        age=age_on(birth, day),
        sex=sex,
        lists={name: cut(lists.get(name, [])) for name in SUMMARY_LISTS},
    )
