"""Map what a user typed to one of the choices we offered.

Channels without buttons (WhatsApp text, SMS-like fallbacks) and users who type instead of tapping
answer a prompt with free text: "2", "#2", "my profile", "profle", "hindi". `match_choice` turns
that into the index of the label, or None when we cannot tell; the caller then re-asks, which is
always better than acting on a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz

from conversations.textnorm import normalise

# Longer text is not an answer to a menu; fuzzing all of it would only waste time on big inputs.
MAX_CHOICE_CHARS = 120
# Minimum fuzzy score (0-100) to accept a label. 80 admits one typo in a 5-7 letter word
# ("profle", "engish", "hindii") and rejects loose overlaps ("pro", "not").
SCORE_THRESHOLD = 80.0
# If the runner-up scores within this margin of the best, the answer is ambiguous.
AMBIGUITY_MARGIN = 8.0
# Words an answer may add to a label and still be taken as naming it ("yes please").
_EXTRA_WORDS = 2

# "2", "2.", "#2", "(2)", "[2]", "2)", "option 2", "no. 2", "विकल्प 2"; leading zeros allowed.
_NUMBER = re.compile(
    r"(?:(?:option|opt|choice|number|num|no|vikalp|विकल्प)\s*\.?\s*)?"
    r"[#(\[]?\s*(?P<n>\d{1,3})\s*[.)\]:]?"
)

_PARENTHESISED = re.compile(r"\(([^()]*)\)")
# One normalisation for every matcher of the chat (conversations/textnorm.py).
_normalise = normalise


def _ascii_digits(text: str) -> str:
    """Turn any Unicode decimal digit ("२", "٢") into its ASCII form."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def _number_choice(text: str, count: int) -> int | None:
    """The 0-based index for a typed number, -1 if it is a number but not a valid one, else None."""
    match = _NUMBER.fullmatch(_ascii_digits(text).strip().casefold())
    if not match:
        return None
    number = int(match["n"])
    return number - 1 if 1 <= number <= count else -1


def _names(label: str) -> list[str]:
    """The ways a user may name `label`: all of it, and for "हिन्दी (Hindi)" each part alone."""
    names = [_normalise(label)]
    inner = _PARENTHESISED.findall(label)
    if inner:
        names.append(_normalise(_PARENTHESISED.sub(" ", label)))
        names.extend(_normalise(part) for part in inner)
    return [name for name in dict.fromkeys(names) if name]


def _score(query: str, names: list[str]) -> float:
    """How well `query` names a label, 0-100.

    - ratio against each name catches a typo in the whole label ("my profle");
    - token_set_ratio catches a subset, a reordering or a polite extra ("profile", "yes please"),
      but only while the answer is about as short as the label: in a sentence, the label's words
      appearing somewhere is no choice ("I can't find my profile, the app crashes");
    - ratio against each longer word catches a typo in one word ("profle" -> "My profile").
    WRatio was tried and rejected: its partial matching scores "not" 90 against "Notifications".
    """
    query_words = query.count(" ") + 1
    best = 0.0
    for name in names:
        best = max(best, fuzz.ratio(query, name))
        if query_words <= name.count(" ") + 1 + _EXTRA_WORDS:
            best = max(best, fuzz.token_set_ratio(query, name))
        for word in name.split():
            if len(word) >= 4:
                best = max(best, fuzz.ratio(query, word))
    return best


def _exact_choice(query: str, names: list[list[str]]) -> int | None:
    hits = [index for index, label_names in enumerate(names) if query in label_names]
    return hits[0] if len(hits) == 1 else None


def _fuzzy_choice(query: str, names: list[list[str]]) -> int | None:
    scores = sorted(
        ((_score(query, label_names), index) for index, label_names in enumerate(names)), reverse=True
    )
    best_score, best_index = scores[0]
    if best_score < SCORE_THRESHOLD:
        return None
    if len(scores) > 1 and best_score - scores[1][0] < AMBIGUITY_MARGIN:
        return None  # "appointment" against "Book appointment" and "My appointments"
    return best_index


def match_choice(text: str, labels: Sequence[str]) -> int | None:
    """Return the 0-based index of the label `text` chooses, or None if it chooses none clearly.

    In order: a number as shown to the user (1-based; out of range is None, not a fuzzy guess),
    an exact label after normalisation, then a near spelling with a clear winner.
    """
    if not text or not labels:
        return None
    text = text[:MAX_CHOICE_CHARS]

    number = _number_choice(text, len(labels))
    if number is not None:
        return number if number >= 0 else None

    query = _normalise(text)
    # Digits that are not a valid number ("-1", "2 3") must not be fuzzed into a label.
    if not query or query.replace(" ", "").isdecimal():
        return None
    names = [_names(label) for label in labels]
    exact = _exact_choice(query, names)
    if exact is not None:
        return exact
    return _fuzzy_choice(query, names)
