"""The red-flag lexicon compiled from its data files (concepts.toml, rules.toml), and where its
concepts occur in a message.

A message is cut into clauses and words (conversations/textnorm.py); each word keeps its sound
key, filler words are set aside, and every concept term found is a `Mark` with the word span it
covers. Rules (conversations/emergency.py) then look for the marks they need close together.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA
from wordfreq import top_n_list

from conversations.textnorm import clauses, latin, sound_key, words

HERE = Path(__file__).resolve().parent

# Words that carry no triage meaning, in either language: a term matches across them ("heart
# attack" in "heart ka attack", "saans nahi" in "saans bilkul nahi") and they do not count in a
# rule's distance. A term that names one ("kicking me", "dil ka daura") needs it. Compared as
# spelled (in Latin letters), not by sound: "kha" (eat) is not "ka", nor "see" "si".
_FILLER_WORDS = (
    "the a an my his her their our your its is are am was were be been "
    "of in on at to i me im he she it they we this that some kind kinda like quite "
    "mera meri mere mujhe mujhko muje hai hain h hay tha thi "
    "the ka ki ke ko se me mein main mai mei ne par pe wala wali wale sa si se hi bhi "
    "men hei para"
)
FILLERS = frozenset(_FILLER_WORDS.split())

# A real word is never a typo of another ("cooking" is not "choking", "think" not "thick", "since"
# not "seene"): the 40,000 commonest English words (wordfreq) are only ever themselves.
_REAL_WORDS = frozenset(top_n_list("en", 40_000)) | {
    "stubbed",
    "swabbed",
    "scabbed",
    "overdone",
    "gaping",
    "rapping",
}
# Everyday Hinglish words one typo from a lexicon word: "mirchi" (chilli) is not "mirghi" (epilepsy).
_REAL_WORDS |= {"mirchi", "mirch"}


# Numbers written as words ("thirty weeks", "नौ महीने", "बीपी सत्तर पर चालीस") count as numbers. Not
# Hinglish spellings: "do", "teen", "char" and "saat" are everyday words too.
_NUMBER_WORDS = {
    word: value
    for value, spellings in enumerate(
        [
            "zero शून्य", "one एक", "two दो", "three तीन", "four चार", "five पांच पाँच", "six छह छः छे",
            "seven सात", "eight आठ", "nine नौ", "ten दस", "eleven ग्यारह", "twelve बारह", "thirteen तेरह",
            "fourteen चौदह", "fifteen पंद्रह", "sixteen सोलह", "seventeen सत्रह", "eighteen अठारह",
            "nineteen उन्नीस", "twenty बीस",
        ]
    )
    for word in spellings.split()
} | {
    "thirty": 30, "तीस": 30, "forty": 40, "चालीस": 40, "fifty": 50, "पचास": 50, "sixty": 60, "साठ": 60,
    "seventy": 70, "सत्तर": 70, "eighty": 80, "अस्सी": 80, "ninety": 90, "नब्बे": 90, "डेढ़": 1,
    "तैंतीस": 33, "पैंतीस": 35, "छत्तीस": 36, "सैंतीस": 37, "अड़तीस": 38, "बत्तीस": 32, "चौंतीस": 34,
    "इक्यासी": 81, "बयासी": 82, "तिरासी": 83, "चौरासी": 84, "पचासी": 85, "छियासी": 86, "सत्तासी": 87,
    "अट्ठासी": 88, "नवासी": 89, "इक्यानबे": 91, "बानबे": 92, "तिरानबे": 93, "चौरानबे": 94,
}  # fmt: skip
_NUMBER_WORDS = {words(word)[0]: value for word, value in _NUMBER_WORDS.items()}  # as messages are normalised


def number_value(word: str) -> int | None:
    """The number a word stands for: digits, or a number word in English or Hindi."""
    if word.isascii() and word.isdigit() and len(word) <= 9:  # not "²" or "①", nor 5,000 digits
        return int(word)
    return _NUMBER_WORDS.get(word)


@dataclass(frozen=True, slots=True)
class Unit:
    """One word of a term: a sound key, or a number range for "#" / "#a-b"."""

    key: str = ""
    low: int = -1
    high: int = -1
    spelled: str = ""  # the word as the term writes it, in Latin letters

    def matches(self, word: str, forms: frozenset[str]) -> bool:
        if self.low >= 0:
            value = number_value(word)
            return value is not None and self.low <= value <= self.high
        if self.key not in forms:
            return False
        # A common word is only ever itself: "hot" is not "hoth" (lips), "क्या" not "khaya" (ate),
        # "भी" not "bee"; but a filler is any spelling of a filler ("में" is "mein").
        text = latin(word)
        return (
            text not in ONLY_AS_SPELLED
            or text == self.spelled
            or (text in FILLERS and self.spelled in FILLERS)
        )


@dataclass(frozen=True, slots=True)
class Term:
    concept: str
    text: str
    units: tuple[Unit, ...]
    # The sound keys of its words: a message that lacks one of them cannot hold the term, which a
    # set comparison tells far faster than trying the term word by word.
    keys: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    category: str
    concepts: tuple[str, ...]
    within: int
    unless: tuple[str, ...]
    source: str
    examples: tuple[str, ...]
    needs: frozenset[str] = frozenset()  # the concepts a message must hold for it to be tried
    # Acts told in the past that are a crisis now (C-SSRS preparatory behaviour: "he paid off his
    # loans and wrote down his passwords"): never history.
    acts: bool = False
    # It asserts the emergency happened ("he swallowed the phenyl"): the model never doubts it.
    sure: bool = False


@dataclass(frozen=True, slots=True)
class Mark:
    concept: str
    start: int  # first word (index into Message.words)
    end: int  # last word, inclusive


def _number(part: str) -> Unit:
    """ "#" is any number, "#a-b" one from a to b."""
    if part == "#":
        return Unit(low=0, high=10**9)
    low, _, high = part[1:].partition("-")
    return Unit(low=int(low), high=int(high or low))


def _compile_term(concept: str, text: str) -> Term:
    units: list[Unit] = []
    for part in text.split():
        units.extend(
            [_number(part)]
            if part.startswith("#")
            else (Unit(key=sound_key(word), spelled=latin(word)) for word in words(part))
        )
    if not units:
        raise ValueError(f"term {text!r} of {concept!r} has no words")
    return Term(concept, text, tuple(units), frozenset(unit.key for unit in units if unit.low < 0))


def _load(name: str) -> dict:
    with (HERE / name).open("rb") as handle:
        return tomllib.load(handle)


def _compile_rules(raw: list[dict], concepts: dict) -> tuple[Rule, ...]:
    rules = []
    for entry in raw:
        rule = Rule(
            name=entry["name"],
            category=entry["category"],
            concepts=tuple(entry["all"]),
            within=int(entry.get("within", 0)),
            unless=tuple(entry.get("unless", ())),
            source=entry["source"],
            examples=tuple(entry.get("examples", ())),
            needs=frozenset(entry["all"]),
            acts=bool(entry.get("acts", False)),
            sure=bool(entry.get("sure", False)),
        )
        unknown = [name for name in (*rule.concepts, *rule.unless) if name not in concepts]
        if unknown:
            raise ValueError(f"rule {rule.name!r} names unknown concepts {unknown}")
        rules.append(rule)
    return tuple(rules)


CONCEPTS: dict[str, list[str]] = _load("concepts.toml")
RULES: tuple[Rule, ...] = _compile_rules(_load("rules.toml")["rule"], CONCEPTS)

_TERMS = [_compile_term(concept, text) for concept, texts in CONCEPTS.items() for text in texts]
_BY_FIRST_KEY: dict[str, list[Term]] = defaultdict(list)
# Terms that start with a number, by the key of their second word ("# weeks", "# din ka"), so a
# message of many numbers does not try every such term at every number.
_NUMBER_ALONE: list[Term] = []
_NUMBER_THEN: dict[str, list[Term]] = defaultdict(list)
for _term in _TERMS:
    if _term.units[0].low < 0:
        _BY_FIRST_KEY[_term.units[0].key].append(_term)
    elif len(_term.units) == 1 or _term.units[1].low >= 0:
        _NUMBER_ALONE.append(_term)
    else:
        _NUMBER_THEN[_term.units[1].key].append(_term)

# Latin spellings of every lexicon word, grouped by (first letter, length), for typo lookups.
_VOCAB: dict[tuple[str, int], list[str]] = defaultdict(list)
_VOCAB_KEY: dict[str, str] = {}
for _text in sorted({latin(word) for texts in CONCEPTS.values() for text in texts for word in words(text)}):
    if len(_text) >= 4 and not _text.isdigit():
        _VOCAB[(_text[0], len(_text))].append(_text)
        _VOCAB_KEY[_text] = sound_key(_text)


# Words typed for one another that no typo budget joins: "cannot walk straight" is "cant walk straight".
_SAME_AS = {"cannot": "cant", "couldnt": "cant", "cudnt": "cant", "cnt": "cant"}
# The commonest English words, which match a term only as spelled, never by sound ("hot" is not
# "hoth", lips; "by" not "baya", left) — but for Hinglish words among them, which are spelled
# every way ("mar"/"maar", "dam"/"dum").
_HINGLISH_IN_ENGLISH = set(
    "band pa hi li pet pair sir na main ye sa di ya pure ban log mar dam dum tab jab ab bas gala ang sar "  # noqa: SIM905
    "par pat pit jan mr or bar bat sun rat mat pal".split()
)
# As messages are normalised ("don't" is "dont", "i'm" "im").
_ENGLISH_ONLY = (
    frozenset(word for entry in top_n_list("en", 5_000) for word in words(entry))
    - _HINGLISH_IN_ENGLISH
    - _SAME_AS.keys()
)
# Nor are filler words ("भी" is not "bee") and a few everyday Hindi words: "kya" (what) is not
# "khaya" (ate), "सास" (mother-in-law) not "saas" (breath), "साथ" (with) not "sat" (oxygen
# saturation), "खट्टी" (sour) not "kaati" (bitten). Compared in Latin letters.
ONLY_AS_SPELLED = _ENGLISH_ONLY | FILLERS | {"kya", "kia", "kyaa", "sasa", "satha", "khatti"}


@lru_cache(maxsize=32768)
def word_forms(word: str) -> frozenset[str]:
    """The sound keys a typed word may stand for: its own, and those of lexicon words it is one
    typo away from ("pian" -> "pain", "bleding" -> "bleeding"). Both words have six letters or
    more, are in Latin letters, and the typo keeps the first two (typos there are rare, real
    neighbours common: "sitting" is not "spitting"); shorter words may only swap two letters.
    Hindi spellings need no typo budget: the sound key already folds them, and a budget would make
    "दांत" (teeth) "danda" (a stick)."""
    word = _SAME_AS.get(word, word)
    key = sound_key(word)
    text = latin(word)
    if len(text) < 4 or text in _REAL_WORDS or text.isdigit() or text in FILLERS or text != word:
        return frozenset((key,))
    near = {key}
    for length in (len(text) - 1, len(text), len(text) + 1):
        bucket = _VOCAB.get((text[0], length))
        if not bucket:
            continue
        for match, _, _ in process.extract(text, bucket, scorer=OSA.distance, score_cutoff=1, limit=None):
            swapped = len(match) == len(text) and sorted(match) == sorted(text)
            if swapped or (min(len(text), len(match)) >= 6 and match[:2] == text[:2]):
                near.add(_VOCAB_KEY[match])
    return frozenset(near)


@dataclass(slots=True)
class Message:
    """A message as the rules read it: its words, the clause of each, and the concepts found."""

    words: list[str]
    clause_of: list[int]
    content: list[int]  # indices of the words that are not fillers, in order
    marks: dict[str, list[Mark]]  # each concept's marks, by start
    cache: dict = field(default_factory=dict)  # what conversations/redflags/judge.py works out once


# An e-mail address or a link names no symptom ("asha@example.com" is not "coma").
_ADDRESSES = re.compile(r"\S+@\S+|(?:https?://|www\.)\S+", re.IGNORECASE)


def read(text: str) -> Message:
    all_words: list[str] = []
    clause_of: list[int] = []
    for number, clause in enumerate(clauses(_ADDRESSES.sub(" ", text))):
        for word in words(clause):
            all_words.append(word)
            clause_of.append(number)
    forms = [word_forms(word) for word in all_words]
    content = [i for i, word in enumerate(all_words) if latin(word) not in FILLERS]
    found: set[Mark] = set()
    present = frozenset().union(*forms)
    for position, word in enumerate(all_words):
        candidates = [
            term for key in forms[position] for term in _BY_FIRST_KEY.get(key, ()) if term.keys <= present
        ]
        if number_value(word) is not None:
            candidates.extend(_number_terms(position, all_words, forms))
        for term in candidates:
            end = _match_end(term, position, all_words, forms, clause_of)
            if end is not None:
                found.add(Mark(term.concept, position, end))
    marks: dict[str, list[Mark]] = defaultdict(list)
    for mark in sorted(found, key=lambda mark: (mark.start, mark.end)):
        marks[mark.concept].append(mark)
    return Message(all_words, clause_of, content, marks)


def _number_terms(position: int, all_words: list[str], forms: list[frozenset[str]]) -> list[Term]:
    """The number-first terms worth trying at a number: those whose second word could follow it
    (the next word, or the next after fillers)."""
    terms = list(_NUMBER_ALONE)
    following = set()
    for after in range(position + 1, len(all_words)):
        following |= forms[after]
        if latin(all_words[after]) not in FILLERS:
            break
    for key in following:
        terms.extend(_NUMBER_THEN.get(key, ()))
    return terms


def _match_end(term: Term, start: int, all_words: list[str], forms: list, clause_of: list[int]) -> int | None:
    """The last word of `term` if it is found from word `start` (filler words between its words
    skipped, all in one clause: "fit, now shes drowsy" is not "fit now"), else None."""
    position = start
    for number, unit in enumerate(term.units):
        if number:
            position += 1
            while (
                position < len(all_words)
                and not unit.matches(all_words[position], forms[position])
                and latin(all_words[position]) in FILLERS
            ):
                position += 1
        if position >= len(all_words) or clause_of[position] != clause_of[start]:
            return None
        if not unit.matches(all_words[position], forms[position]):
            return None
    return position
