"""Red-flag detector for inbound chat text (REQ-6.1 / REQ-6.6): concepts, not phrases.

Every inbound text passes through `detect_red_flag` before anything else, so it is plain Python
over data files and a small model's weights: no network, well under a millisecond for a chat
message (bench/redflags.py measures it).

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
   breathe", "not waking up", "saans nahi aa rahi"), of its severity ("never felt pain like
   this") or that only hedges ("not sure if it's chest pain") does not. A figure of speech or a
   story in the clause ("drowning in work", a film's plot) makes it a manner of speaking, except
   for suicide and violence (conversations/redflags/judge.py).
5. A match in a clause that speaks of the past ("heart attack in 2019", "pichle saal") and not of
   now, or in a message that says it is over ("now fine", "ab theek hoon"), is history: the chat
   answers it without the emergency card and keeps a note for the doctor.
6. When the rules find nothing, the model (conversations/redflags/model.py, character n-grams
   and words of the sound keys, trained from the development set) may still raise a flag, of any
   category the rules did not deny in this message ("no chest pain" is never a cardiac flag from
   the model). It never clears a rule's flag, but the flag of a rule joining two concepts that
   it finds very unlikely an emergency (under DOUBTFUL_BELOW) is "doubtful": the gentle note with
   112 / 108 instead of the card ("is phenyl safe for mopping if my baby crawls?"). Never where
   a rule beyond doubt also fires for now — one naming the emergency, one asserting it happened
   (`sure`), or one of suicide, violence, chest pain, breathing or stroke — nor in a message
   under five words: the model reads short, plain emergencies ("हार्ट अटैक आया है", "i think he
   had a stroke") as ordinary more often than the rules do.

Design choices, deliberately on the side of over-triage (a false alarm costs a banner, a miss can
cost a life): a rule needs only two ideas near each other; a message that mixes a past event with
anything happening now is now; when several categories match, mental_health wins, then
violence_abuse (their cards differ: a helpline; "it is not your fault", 112 and the emergency
department), otherwise the first in CATEGORIES order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from conversations.redflags import judge
from conversations.redflags import model as redflag_model
from conversations.redflags.lexicon import RULES, Mark, Message, Rule, read

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

# Read at most this much of a message: five times the longest a chat accepts (the engine answers
# "too long" beyond 4,000), so a red flag at the end of a long paste is still seen, and a
# 32 KB web frame built to be slow is not read whole.
MAX_CHARS = 20_000


# A flag of a rule that joins two concepts or more ("chest" … "pain", "baby" … "phenyl") for
# something happening now, in a message the model finds very unlikely an emergency (below
# DOUBTFUL_BELOW), is "doubtful": the chat answers it with the gentle note (112 / 108,
# tap-to-call) above its usual reply instead of the card, and keeps the flag for the doctor. Chosen
# on the development part, each batch scored by a model trained on the others (docs/safety.md).
# Never where a rule beyond doubt (_UNDOUBTED_RULES) also fires for now: one that names the
# emergency itself ("stroke", "behosh"), since the model reads short, plain ones ("i think he had a
# stroke") as ordinary; one asserting it happened; or one of the categories never doubted:
# suicide and violence, which people also hide in a joke and whose card is the help itself, and
# chest pain, breathing and stroke, the emergencies where a minute counts most (and which people
# ask to book a doctor for: "I have chest pain, can I book a cardiologist today" reads as routine
# to the model).
DOUBTFUL_BELOW = 0.10
_NEVER_DOUBTED = frozenset({*_OWN_CARDS, "cardiac", "breathing", "stroke"})
# The rules whose flag the model never doubts: those naming the emergency (one concept), those
# asserting it happened (`sure`: "he swallowed the phenyl"), and those of a category never doubted.
_UNDOUBTED_RULES = tuple(
    rule for rule in RULES if len(rule.concepts) == 1 or rule.sure or rule.category in _NEVER_DOUBTED
)
_UNDOUBTED_NAMES = frozenset(rule.name for rule in _UNDOUBTED_RULES)


@dataclass(frozen=True, slots=True)
class EmergencyHit:
    category: str  # one of CATEGORIES
    phrase: str  # the name of the rule that fired, as in rules.toml
    history: bool = False  # only something that happened before and is over
    doubtful: bool = False  # a rule fired, but the model finds it very unlikely an emergency

    @property
    def urgent(self) -> bool:
        """Whether it brings the emergency card: happening now, and not doubted."""
        return not self.history and not self.doubtful

    @property
    def when(self) -> str:
        """ "history", "doubtful" or "now", as the log and the audit name it."""
        return "history" if self.history else "doubtful" if self.doubtful else "now"

    @property
    def mental_health(self) -> bool:
        """Mental-health crises get different guidance (a helpline, not only an ambulance)."""
        return self.category == "mental_health"


def detect_red_flag(text: str, *, model: bool = True) -> EmergencyHit | None:
    """The red flag in `text`: one happening now, or else one only told as history, or None.

    The rules read first; when they find nothing, the statistical model (conversations/redflags/
    model.py, if built) may still raise one, and never turns a rule's "history" into "now". A
    rule's flag for now that the model finds very unlikely is kept, marked `doubtful` (the note,
    not the card). `model=False` reads with the rules alone (their own tests)."""
    hit, denied, message = _rules_hit(text)
    if not model or not text or (reader := redflag_model.load()) is None:
        return hit
    # The model reads only what the rules found nothing in, and never against the rules' own
    # denial: "I do not have chest pain" is no cardiac flag, whatever its n-grams; a denial of one
    # kind leaves the others to it ("not much blood, but I won't stop tonight").
    if hit is None:
        category = reader.flag(text)
        return (
            EmergencyHit(category, MODEL_PHRASE) if category is not None and category not in denied else None
        )
    if hit.history or hit.phrase in _UNDOUBTED_NAMES:
        return hit
    probability = reader.emergency_probability(text)
    if probability is None or probability >= DOUBTFUL_BELOW or _beyond_doubt(message):
        return hit
    return replace(hit, doubtful=True)


def _rules_hit(text: str) -> tuple[EmergencyHit | None, frozenset[str], Message | None]:
    """The rules' red flag; the categories of rules that matched only to be negated; and the
    message as the rules read it (None for an empty text)."""
    if not text or not text.strip():
        return None, frozenset(), None
    message = read(text[:MAX_CHARS])
    now: dict[str, str] = {}
    past: dict[str, str] = {}
    denied: set[str] = set()
    present = message.marks.keys()
    for rule in RULES:
        # Only rules whose every concept the message holds are tried (no generator for the rest).
        if rule.category in now or not present >= rule.needs:
            continue
        for marks in judge.matches(message, rule):
            reading = _reading(message, marks, rule)
            # "papa will never forgive me" denies no crisis: only a symptom's rule denies.
            if reading == "denied" and not rule.acts:
                denied.add(rule.category)
            elif reading == "past":
                past.setdefault(rule.category, rule.name)
            elif reading == "now":
                now[rule.category] = rule.name
                break
    for found, history in ((now, False), (past, True)):
        for category in _PREFERENCE:
            if category in found:
                return EmergencyHit(category, found[category], history), frozenset(denied), message
    return None, frozenset(denied), message


def _reading(message: Message, marks: list[Mark], rule: Rule) -> str:
    """How one match of a rule reads: "denied", "ordinary" (or a figure of speech), "past" or "now"."""
    if judge.negated(message, marks, rule.category):
        return "denied"
    if judge.ordinary(message, marks, rule.unless) or judge.figurative(message, marks, rule.category):
        return "ordinary"
    return "past" if judge.history(message, marks, acts=rule.acts) else "now"


def _beyond_doubt(message: Message) -> bool:
    """Whether a rule the model may not doubt fires for now in the message ("chest pain since an
    hour, i think it is a heart attack": the joined rule is found first, the named one counts)."""
    present = message.marks.keys()
    return any(
        _reading(message, marks, rule) == "now"
        for rule in _UNDOUBTED_RULES
        if present >= rule.needs
        for marks in judge.matches(message, rule)
    )


def detect_emergency(text: str) -> EmergencyHit | None:
    """The red flag in `text` that brings the card, or None (history or a doubtful flag is not one)."""
    hit = detect_red_flag(text)
    return hit if hit is not None and hit.urgent else None
