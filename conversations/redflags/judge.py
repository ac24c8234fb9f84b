"""Where a rule's concepts meet in a message (conversations/redflags/lexicon.py found them), and
whether that meeting stands: not negated, not made ordinary by a word beside it ("unless"), not a
figure of speech or a story, and told as happening now or as history.

Every question here is answered with bisection over sorted positions and per-clause sets built
once per message, so a long message full of red-flag words stays linear, not quadratic.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from conversations.redflags.lexicon import Mark, Message, Rule
from conversations.textnorm import latin

# Words of the same clause a negation reaches: "no chest pain", "not having any chest pain".
NEGATION_REACH = 3
# Words around a match where an "unless" concept makes it ordinary ("chest x-ray report").
UNLESS_REACH = 3
# Hindi puts the negation after the noun: "dard nahi hai" is no pain, "dard nahi ruk raha" is.
_HINDI_NOT = frozenset({"nahi", "nahin", "nhi", "nai", "na", "no", "not"})
# Words that may stand between a symptom and that negation: "dard wala kuch nahi hai" ("koi"
# alone may not: "papa behosh, koi nahi hai ghar pe" is nobody at home, not no fainting).
_LIKE = frozenset({"wala", "wali", "wale", "jaisa", "jaisi"})
_SOME = frozenset({"kuch", "koi"})
# What may follow that negation for it to deny: "dard nahi hai", "daura nahi aaya" (no fit came).
_HINDI_CAME = {"aaya", "aya", "aayi", "ayi", "aaye", "pada", "padi", "pade"}
_HINDI_IS = frozenset(
    {"hai", "h", "he", "hain", "tha", "thi", "the", "hota", "hoti", "hua", "hui", "hue"} | _HINDI_CAME
)
# Verbs that put what follows them in the present ("has fever"), unless the Hindi auxiliary after
# them makes them past again ("ho raha tha"; "the" only after the Hindi progressive, where it is थे).
_PRESENT_VERBS = frozenset({"has", "is", "are", "am", "hai", "hain", "rha", "raha", "rahi", "rahe"})
_PROGRESSIVE = frozenset({"rha", "raha", "rahi", "rahe"})
_PAST_TENSE = frozenset({"tha", "thi", "was", "were", "had"})
# A negation inside one of these is part of how bad it is, not a denial: "never felt pain like this".
_SEVERITY = ("worst", "sudden")
# A figure of speech or a story in the clause ("drowning in work", a film's plot) makes a red flag a
# manner of speaking, except for these, which people also hide in a joke or a story.
_NEVER_FIGURATIVE = frozenset({"mental_health", "violence_abuse"})


def matches(message: Message, rule: Rule) -> Iterator[list[Mark]]:
    """Each way the rule's concepts occur within `rule.within` content words: one mark per concept,
    around each mark of the first concept, the others nearest first."""
    first, *others = rule.concepts
    if not others:
        yield from ([mark] for mark in message.marks.get(first, ()))
        return
    # Positions, not content words, bound the search; the exact span is checked below.
    reach = 3 * rule.within + 6
    for anchor in message.marks.get(first, ()):
        near = [_within(message, concept, anchor.start - reach, anchor.end + reach) for concept in others]
        if len(others) == 1:
            for mark in sorted(near[0], key=lambda mark: abs(mark.start - anchor.start)):
                if _distinct(mark, [anchor]) and _span(message, [anchor, mark]) <= rule.within:
                    yield [anchor, mark]
            continue
        chosen = [anchor]
        for candidates in near:
            best = min(
                (mark for mark in candidates if _distinct(mark, chosen)),
                key=lambda mark: abs(mark.start - anchor.start),
                default=None,
            )
            if best is None:
                break
            chosen.append(best)
        else:
            if _span(message, chosen) <= rule.within:
                yield chosen


def negated(message: Message, marks: list[Mark], category: str) -> bool:
    """A negation before the match ("no chest pain", "no fever") or, in Hindi, right after it
    ("dard nahi hai"); not one that is the symptom ("not breathing", "can't wake him") and, for a
    mental-health risk, never the Hindi one after it ("jeene ki ichha nahi hai" is the risk)."""
    for mark in marks:
        if any(
            mark.start <= neg.start and neg.end <= mark.end
            for neg in _within(message, "negator", mark.start, mark.end)
        ):
            return False
    if any(_negated_before(message, mark) for mark in marks):
        return True
    if category == "mental_health":
        return False
    # The symptom (a rule's last concept) and the match's end: "dard nahi hai", "chest pain nahi".
    return any(_denied_after(message, end) for end in {marks[-1].end, max(mark.end for mark in marks)})


def _denied_after(message: Message, end: int) -> bool:
    """Hindi's negation after the word at `end`, in its clause: "dard nahi hai", "dard wala kuch
    nahi hai" — but not "dard nahi ruk raha" (the pain does not stop)."""
    clause = message.clause_of[end]
    position = end + 1
    if position < len(message.words) and latin(message.words[position]) in _LIKE:
        position += 1
        if position < len(message.words) and latin(message.words[position]) in _SOME:
            position += 1
    following = [latin(word) for word in message.words[position : position + 2]]
    if not following or following[0] not in _HINDI_NOT or message.clause_of[position] != clause:
        return False
    at_clause_end = len(following) == 1 or message.clause_of[position + 1] != clause
    return at_clause_end or following[1] in _HINDI_IS


def ordinary(message: Message, marks: list[Mark], concepts: tuple[str, ...]) -> bool:
    """Whether any of `concepts` occurs in the match's clauses within a few words of it."""
    if not concepts:
        return False
    start = min(mark.start for mark in marks)
    end = max(mark.end for mark in marks)
    clauses = {message.clause_of[start], message.clause_of[end]}
    low, high = _shift(message, start, -UNLESS_REACH), _shift(message, end, UNLESS_REACH)
    # A mark that starts within reach counts, even if it ends past it ("phool jati hai").
    return any(
        message.clause_of[mark.start] in clauses
        for concept in concepts
        for mark in _within(message, concept, low, high)
    )


def figurative(message: Message, marks: list[Mark], category: str) -> bool:
    """A figure of speech or a story in the match's clauses ("drowning in work", "dil toot gaya",
    "the hero dies of a heart attack"). A laugh alone is not one: "heart attack lol please help"."""
    if category in _NEVER_FIGURATIVE:
        return False
    clauses = {message.clause_of[mark.start] for mark in marks}
    return bool(clauses & (_clauses_with(message, "figurative") | _clauses_with(message, "story")))


def history(message: Message, marks: list[Mark], *, acts: bool = False) -> bool:
    """Whether the match is told as the past: the clause of its symptom (a rule's last concept)
    speaks of the past and not of now ("had eclampsia in my first pregnancy, now 12 weeks"), or
    the message says it is over and names a past time. Acts (Rule.acts) never are: preparations
    for suicide are told in the past, and calm after them ("he says he is fine now") is a warning."""
    if acts:
        return False
    symptom = marks[-1]
    clauses = {message.clause_of[symptom.start], message.clause_of[symptom.end]}
    if clauses & _present_clauses(message):
        return False
    past = _clauses_with(message, "past_time")
    if past and message.marks.get("resolved"):
        return True
    return any(
        message.clause_of[mark.start] in clauses and not _present_between(message, mark.end, symptom.start)
        for mark in message.marks.get("past_time", ())
    ) or bool(past and min(past) < min(clauses) and clauses <= _past_tense_clauses(message))


def _past_tense_clauses(message: Message) -> set[int]:
    """Clauses told in the past tense and not in the present: after "last year, after my delivery"
    the clause "needed a transfusion" ("खून चढ़ाना पड़ा था") goes on telling the past."""
    key = ("past tense",)
    if key not in message.cache:
        past: set[int] = set()
        present = set(_present_clauses(message))
        for word, clause in zip(message.words, message.clause_of, strict=True):
            if latin(word) in _PAST_TENSE or word == "थे":  # not "the", which is English too
                past.add(clause)
            elif latin(word) in _PRESENT_VERBS:
                present.add(clause)
        message.cache[key] = past - present
    return message.cache[key]


def _present_between(message: Message, low: int, high: int) -> bool:
    """A verb in the present between a past time and the symptom it would date: "I delivered 2
    weeks ago and my baby has fever" is a baby ill now, "2 years ago I had a stroke" is not."""
    words = message.words
    return any(latin(words[i]) in _PRESENT_VERBS and not _made_past(words, i) for i in range(low + 1, high))


def _made_past(words: list[str], index: int) -> bool:
    """Whether the auxiliary after the verb at `index` puts it in the past: "ho raha tha"."""
    after = words[index + 1] if index + 1 < len(words) else ""
    if latin(after) in {"tha", "thi"} or after == "थे":
        return True
    return after == "the" and latin(words[index]) in _PROGRESSIVE


def _negated_before(message: Message, mark: Mark) -> bool:
    clause = message.clause_of[mark.start]
    index = bisect_left(message.content, mark.start)
    before = [
        p for p in message.content[max(0, index - NEGATION_REACH) : index] if message.clause_of[p] == clause
    ]
    if not before:
        return False
    for negator in _within(message, "negator", before[0], mark.start - 1):
        if negator.start not in before:
            continue
        hedged = any(
            hedge.start == negator.end + 1
            for hedge in _within(message, "uncertain", negator.end + 1, negator.end + 1)
        )
        severity = any(
            other.start <= negator.start and negator.end <= other.end
            for concept in _SEVERITY
            for other in _within(message, concept, negator.start - 4, negator.end)
        )
        if not hedged and not severity:
            return True
    return False


def _within(message: Message, concept: str, low: int, high: int) -> list[Mark]:
    """The marks of `concept` that start between positions `low` and `high`."""
    marks = message.marks.get(concept)
    if not marks:
        return []
    starts = _starts(message, concept)
    return marks[bisect_left(starts, low) : bisect_right(starts, high)]


def _starts(message: Message, concept: str) -> list[int]:
    key = ("starts", concept)
    if key not in message.cache:
        message.cache[key] = [mark.start for mark in message.marks[concept]]
    return message.cache[key]


def _clauses_with(message: Message, concept: str) -> set[int]:
    key = ("clauses", concept)
    if key not in message.cache:
        message.cache[key] = {message.clause_of[mark.start] for mark in message.marks.get(concept, ())}
    return message.cache[key]


def _present_clauses(message: Message) -> set[int]:
    """Clauses that speak of now — "now" in "now fine" or "well for years now" does not count."""
    key = ("present",)
    if key not in message.cache:
        message.cache[key] = {
            message.clause_of[mark.start]
            for mark in message.marks.get("present_time", ())
            if not any(
                done.end >= mark.start - 1 for done in _within(message, "resolved", mark.start - 8, mark.end)
            )
        }
    return message.cache[key]


def _distinct(mark: Mark, taken: list[Mark]) -> bool:
    """One word is one idea: "heavy" is not both the pain and its severity."""
    return all((mark.start, mark.end) != (other.start, other.end) for other in taken)


def _span(message: Message, marks: list[Mark]) -> int:
    """Content words (fillers not counted) after the first mark's start up to the last mark's end."""
    start = min(mark.start for mark in marks)
    end = max(mark.end for mark in marks)
    return bisect_right(message.content, end) - bisect_right(message.content, start)


def _shift(message: Message, position: int, by: int) -> int:
    """The word `by` content words away from `position` (fillers skipped), clamped to the text."""
    content = message.content
    if not content:
        return position
    index = min(bisect_left(content, position), len(content) - 1)
    return content[min(max(index + by, 0), len(content) - 1)]
