"""How the chat's matchers see text: one normalisation for menu answers (recognize.py) and the
red-flag matcher (emergency.py).

People write Hindi in two scripts and Hinglish with no standard spelling ("saans", "sans",
"सांस", "साँस"), so beside the normalised text there is a sound key: Devanagari is transliterated
to Latin (indic_transliteration, ITRANS) and both scripts fold the distinctions that typing does
not keep — vowel length, aspiration, doubled letters, the inherent "a" — so all four spellings of
"breath" above share the key "sns".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from indic_transliteration import sanscript

# Dropped outright: the zero-width joiners and the soft hyphen sit inside words, and the nukta
# ("ज़" vs "ज") is typed inconsistently. Apostrophes join ("can't" -> "cant"). A zero-width
# space, word joiner or BOM stands between words: "chest\u200bpain" is two.
_DELETE = dict.fromkeys(map(ord, "\u200c\u200d\u00ad\u093c'’‘`´"), None)
_DELETE.update(dict.fromkeys(map(ord, "\u200b\u2060\ufeff"), " "))
# Chandrabindu and anusvara are used interchangeably in chat ("साँस" / "सांस").
_DELETE[0x0901] = "\u0902"
# A nasal consonant + virama before a stop is written as anusvara just as often ("हिन्दी" / "हिंदी").
_NASAL_CONJUNCT = re.compile("[\u0919\u091e\u0923\u0928\u092e]\u094d(?=[\u0915-\u092d])")
# Everything that is not a word character or Devanagari (minus the danda marks) separates words.
# `\w` alone would drop Devanagari vowel signs, which are combining marks, not letters.
_SEPARATORS = re.compile(r"(?:[^\w\u0900-\u0963\u0966-\u097f]|_)+")
# "paaaain", "helppp": three or more repeats are emphasis, not spelling.
_REPEATS = re.compile(r"(.)\1{2,}")
# Where one thought ends and another starts: "had chest pain in 2019, now fine".
_CLAUSE_BREAKS = re.compile(r"[.!?;,:\n।॥|]+|\s(?:but|lekin|magar|however|though)\s", re.IGNORECASE)
_DEVANAGARI = re.compile("[\u0900-\u097f]")


def normalise(text: str) -> str:
    """Text as the matchers compare it: case, spacing, punctuation, nukta and the two ways of
    writing a nasal ("हिन्दी" and "हिंदी") do not count."""
    text = unicodedata.normalize("NFC", text).casefold().translate(_DELETE)
    text = _NASAL_CONJUNCT.sub("\u0902", text)
    return _SEPARATORS.sub(" ", text).strip()


def in_devanagari(text: str) -> bool:
    """Whether `text` has any Devanagari in it (Hindi typed in its own script)."""
    return _DEVANAGARI.search(text) is not None


def words(text: str) -> list[str]:
    """The normalised words of `text`, with emphasis repeats ("paaaain") folded."""
    return _REPEATS.sub(r"\1\1", normalise(text)).split()


def clauses(text: str) -> list[str]:
    """`text` cut where one thought ends: punctuation and "but"-words."""
    return [part for part in _CLAUSE_BREAKS.split(text) if part.strip()]


# ITRANS marks nasalisation as "M" (anusvara) or ".N" (chandrabindu): a consonant-like "n" inside a
# word ("सांस" -> "saans"), nothing at its end ("नहीं" -> "nahi", as everyone types it).
_ITRANS_NASAL_END = re.compile(r"(?:M|\.N)$")
_ITRANS_NASAL = re.compile(r"M|\.N|\.n")
_ITRANS_MARKS = re.compile(r"[.~^]")


@lru_cache(maxsize=32768)
def latin(word: str) -> str:
    """A normalised word in Latin letters: Devanagari transliterated, anything else unchanged."""
    if not _DEVANAGARI.search(word):
        return word
    text = sanscript.transliterate(word, sanscript.DEVANAGARI, sanscript.ITRANS)
    text = _ITRANS_NASAL_END.sub("", text)
    text = _ITRANS_NASAL.sub("n", text)
    return _ITRANS_MARKS.sub("", text).lower()


# Folded in this order. Digraphs first (aspiration and sibilants are typed either way: "kh"/"k",
# "sh"/"s"), then long vowels ("ee"/"i", "oo"/"u"), then letters typed for one another.
_FOLDS = (
    ("chh", "c"), ("ch", "c"), ("sh", "s"), ("ph", "f"), ("kh", "k"), ("gh", "g"), ("jh", "j"),
    ("th", "t"), ("dh", "d"), ("bh", "b"), ("ck", "k"), ("ee", "i"), ("ii", "i"), ("oo", "u"),
    ("uu", "u"), ("aa", "a"), ("ai", "e"), ("ei", "e"), ("ae", "e"), ("au", "o"), ("ou", "o"),
    ("w", "v"), ("z", "j"), ("q", "k"),
)  # fmt: skip
_DOUBLES = re.compile(r"(.)\1+")
_H_AFTER_CONSONANT = re.compile(r"(?<=[b-df-hj-np-tv-z])h")


@lru_cache(maxsize=32768)
def sound_key(word: str) -> str:
    """What a word sounds like, roughly, so that spellings of one Hindi word compare equal:
    "seene"/"sine", "dard"/"drd"/"दर्द", "saans"/"sans"/"सांस", "khoon"/"khun"/"खून".
    The inherent "a" of Devanagari, written or not ("darda"/"dard", "rha"/"raha"), is dropped
    after the first letter."""
    text = latin(word)
    if text.isdigit():
        return text
    for old, new in _FOLDS:
        text = text.replace(old, new)
    text = _DOUBLES.sub(r"\1", text)
    text = text[:1] + text[1:].replace("a", "")
    return _H_AFTER_CONSONANT.sub("", text)
