"""Red-flag detector for inbound chat text (REQ-6.1 / REQ-6.6): concepts, not phrases.

Every inbound text passes through `detect_red_flag` before anything else, so the matcher is plain
Python over data files: no network, no model, well under a millisecond for a chat message
(bench/redflags.py measures it).

How a message is read:

1. It is cut into clauses and words, and every word gets a sound key (conversations/textnorm.py)
   that folds Hinglish spellings and Devanagari together ("सांस", "saans", "sans").
2. The concepts of conversations/redflags/concepts.toml are found in it: body parts, symptoms,
   severity, onset, people (a baby, a pregnant woman), substances, and when ("last year", "now").
   Typos of longer words count ("pian", "breth").
3. A rule of conversations/redflags/rules.toml fires when its concepts occur within a few words of
   each other ("chest" ... "pain"; "pregnant" ... "bleeding"; "baby" ... "not feeding"), unless
   a concept that makes it ordinary is next to them ("chest x-ray report", "dying to see").
4. Negation right before the match ("no chest pain", "without any bleeding") or, in Hindi, right
   after it ("dard nahi hai") cancels it; a negation that is part of the symptom ("can't
   breathe", "not waking up", "saans nahi aa rahi") or that only hedges ("not sure if it's chest
   pain") does not.
5. A match in a clause that speaks of the past ("heart attack in 2019", "pichle saal") and not of
   now, or in a message that says it is over ("now fine", "ab theek hoon"), is history: the chat
   answers it without the emergency card and keeps a note for the doctor.

Design choices, deliberately on the side of over-triage (a false alarm costs a banner, a miss can
cost a life): a rule needs only two ideas near each other; a message that mixes a past event with
anything happening now is now; when several categories match, mental_health wins, then
violence_abuse (their cards differ: a helpline; "it is not your fault", 112 and the emergency
department), otherwise the first in CATEGORIES order.
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations.redflags import model as redflag_model
from conversations.redflags.lexicon import RULES, Mark, Message, Rule, read
from conversations.textnorm import latin

CATEGORIES = (
    "cardiac",
    "breathing",
    "stroke",
    "neuro",
    "bleeding_trauma",
    "anaphylaxis",
    "poisoning",
    "obstetric",
    "paediatric",
    "mental_health",
    "violence_abuse",
)
_OWN_CARDS = ("mental_health", "violence_abuse")
MODEL_PHRASE = "model"  # EmergencyHit.phrase of a flag the statistical model raised
_PREFERENCE = (*_OWN_CARDS, *(category for category in CATEGORIES if category not in _OWN_CARDS))

# Words of the same clause a negation reaches: "no chest pain", "not having any chest pain".
_NEGATION_REACH = 3
# Words around a match where an "unless" concept makes it ordinary ("chest x-ray report").
_UNLESS_REACH = 3
_NEVER_A_JOKE = frozenset(_OWN_CARDS)
# Hindi puts the negation after the noun: "dard nahi hai" is no pain, "dard nahi ruk raha" is.
_HINDI_NOT = frozenset({"nahi", "nahin", "nhi", "nai", "na", "no", "not"})
_HINDI_IS = frozenset({"hai", "h", "he", "hain", "tha", "thi", "the", "hota", "hoti", "hua", "hui", "hue"})


@dataclass(frozen=True, slots=True)
class EmergencyHit:
    category: str  # one of CATEGORIES
    phrase: str  # the name of the rule that fired, as in rules.toml
    history: bool = False  # only something that happened before and is over

    @property
    def mental_health(self) -> bool:
        """Mental-health crises get different guidance (a helpline, not only an ambulance)."""
        return self.category == "mental_health"


def detect_red_flag(text: str, *, model: bool = True) -> EmergencyHit | None:
    """The red flag in `text`: one happening now, or else one only told as history, or None.

    The rules read first; when they find nothing, the statistical model (conversations/redflags/
    model.py, if built) may still raise one: it only adds, and never turns a rule's "history" into
    "now". `model=False` reads with the rules alone (their own tests)."""
    hit = _rules_hit(text)
    if hit is None and model and text and (reader := redflag_model.load()) is not None:
        category = reader.flag(text)
        if category is not None:
            return EmergencyHit(category, MODEL_PHRASE)
    return hit


def _rules_hit(text: str) -> EmergencyHit | None:
    if not text or not text.strip():
        return None
    message = read(text)
    now: dict[str, str] = {}
    past: dict[str, str] = {}
    for rule in RULES:
        if rule.category in now:
            continue
        for marks in _matches(message, rule):
            if _negated(message, marks) or _near(message, marks, rule.unless) or _joked(message, marks, rule):
                continue
            if _history(message, marks):
                past.setdefault(rule.category, rule.name)
            else:
                now[rule.category] = rule.name
                break
    for found, history in ((now, False), (past, True)):
        for category in _PREFERENCE:
            if category in found:
                return EmergencyHit(category, found[category], history)
    return None


def detect_emergency(text: str) -> EmergencyHit | None:
    """The red flag in `text` that is happening now, or None (history alone is not one)."""
    hit = detect_red_flag(text)
    return hit if hit is not None and not hit.history else None


def _matches(message: Message, rule: Rule):
    """Each way the rule's concepts occur within `rule.within` words: one mark per concept,
    around each mark of the first concept, taking the nearest mark of every other concept."""
    first, *others = rule.concepts
    if any(not message.marks.get(concept) for concept in rule.concepts):
        return
    if len(others) == 1:
        # Two ideas: every pairing, nearest first, so a negated pair ("jalan nahi") does not hide
        # the next one ("pressure jaisa").
        pairs = sorted(
            ((abs(a.start - b.start), a, b) for a in message.marks[first] for b in message.marks[others[0]]),
            key=lambda pair: pair[0],
        )
        for _, a, b in pairs:
            if (a.start, a.end) != (b.start, b.end) and _content_span(
                message, min(a.start, b.start), max(a.end, b.end)
            ) <= rule.within:
                yield [a, b]
        return
    for anchor in message.marks[first]:
        chosen = [anchor]
        for concept in others:
            near = _nearest(message.marks[concept], anchor, chosen)
            if near is None:
                break
            chosen.append(near)
        else:
            start = min(mark.start for mark in chosen)
            end = max(mark.end for mark in chosen)
            if not others or _content_span(message, start, end) <= rule.within:
                yield chosen


def _nearest(marks: list[Mark], anchor: Mark, taken: list[Mark]) -> Mark | None:
    spans = {(mark.start, mark.end) for mark in taken}
    best = None
    for mark in marks:
        if (mark.start, mark.end) in spans:
            continue  # one word is one idea: "heavy" is not both the pain and its severity
        distance = abs(mark.start - anchor.start)
        if best is None or distance < best[0]:
            best = (distance, mark)
    return best[1] if best else None


def _content_span(message: Message, start: int, end: int) -> int:
    """Words between `start` and `end` (fillers not counted)."""
    return sum(1 for position in message.content if start < position <= end)


def _negated(message: Message, marks: list[Mark]) -> bool:
    end = max(mark.end for mark in marks)
    negators = message.marks.get("negator", ())
    if any(_inside(negator, mark.start, mark.end) for negator in negators for mark in marks):
        return False  # the negation is part of the symptom: "not breathing", "can't wake him"
    if any(_negated_before(message, mark) for mark in marks):
        return True
    words = [latin(word) for word in message.words[end + 1 : end + 3]]
    clause = message.clause_of[end]
    if words and words[0] in _HINDI_NOT and message.clause_of[end + 1] == clause:
        at_clause_end = len(words) == 1 or message.clause_of[end + 2] != clause
        return at_clause_end or words[1] in _HINDI_IS
    return False


def _negated_before(message: Message, mark: Mark) -> bool:
    """ "no fever", "not having any chest pain": a negation a few words before, in its clause,
    that does not only hedge ("not sure")."""
    clause = message.clause_of[mark.start]
    before = [p for p in message.content if p < mark.start and message.clause_of[p] == clause][
        -_NEGATION_REACH:
    ]
    for negator in message.marks.get("negator", ()):
        if negator.start in before:
            after = negator.end + 1
            if not any(hedge.start == after for hedge in message.marks.get("uncertain", ())):
                return True
    return False


def _inside(mark: Mark, start: int, end: int) -> bool:
    return start <= mark.start and mark.end <= end


def _near(message: Message, marks: list[Mark], concepts: tuple[str, ...]) -> bool:
    """Whether any of `concepts` occurs in the match's clauses within a few words of it."""
    if not concepts:
        return False
    start = min(mark.start for mark in marks)
    end = max(mark.end for mark in marks)
    clauses = {message.clause_of[start], message.clause_of[end]}
    low = _shift(message, start, -_UNLESS_REACH)
    high = _shift(message, end, _UNLESS_REACH)
    return any(
        low <= mark.start and mark.end <= high and message.clause_of[mark.start] in clauses
        for concept in concepts
        for mark in message.marks.get(concept, ())
    )


def _joked(message: Message, marks: list[Mark], rule: Rule) -> bool:
    """ "heart attack aa jata h 😂", "behosh hone wala tha lol", "drowning in work", a film's plot:
    a laugh, a figure of speech or a story in the same clause makes a red flag a manner of speaking,
    except for suicide and violence, which people also hide in a joke or a story."""
    if rule.category in _NEVER_A_JOKE:
        return False
    clauses = {message.clause_of[mark.start] for mark in marks}
    return any(
        message.clause_of[mark.start] in clauses
        for concept in ("joke", "figurative", "story")
        for mark in message.marks.get(concept, ())
    )


def _shift(message: Message, position: int, by: int) -> int:
    """The word `by` content words away from `position` (fillers skipped), clamped to the text."""
    content = message.content
    index = next((i for i, p in enumerate(content) if p >= position), len(content) - 1)
    index = min(max(index + by, 0), len(content) - 1)
    return content[index] if content else position


def _history(message: Message, marks: list[Mark]) -> bool:
    """Whether the match is told as the past: the clause of its symptom (a rule's last concept)
    speaks of the past and not of now ("had eclampsia in my first pregnancy, now 12 weeks"), or
    the message says it is over and names a past time."""
    symptom = marks[-1]
    clauses = {message.clause_of[symptom.start], message.clause_of[symptom.end]}
    resolved = message.marks.get("resolved", [])
    present = [
        mark
        for mark in message.marks.get("present_time", ())
        if message.clause_of[mark.start] in clauses and not any(_overlaps(mark, done) for done in resolved)
    ]
    if present:
        return False
    past = message.marks.get("past_time", [])
    if any(message.clause_of[mark.start] in clauses for mark in past):
        return True
    return bool(past and resolved)


def _overlaps(a: Mark, b: Mark) -> bool:
    return a.start <= b.end and b.start <= a.end
