"""Requests for what telecare does not do yet — ordering medicines, lab tests, video calls,
prescriptions — typed where they cannot be an ordinary answer (a menu, any step that offers
buttons and got no match, the search's specialty question). They get an honest answer: what is
coming, and what can be done today, instead of "Please choose one of the options". When one of
these flows is built, its entry here goes and its request is routed to the flow. Phrases that ask
for a doctor though they hold such a word ("eye test", "internal medicine") are listed in
DOCTOR_PHRASES and are never such a request.

The phrases are data: each is compared, after recognize.normalise, as whole words anywhere in the
message ("I want to order medicines please"). The first feature in this order that matches wins,
so "a prescription for my medicines" is about the prescription."""

from __future__ import annotations

from conversations.recognize import normalise

# The longest message still read as such a request (a paragraph is an answer to something else).
MAX_CHARS = 200

FEATURE_PHRASES: dict[str, tuple[str, ...]] = {
    "prescription": (
        "prescription",
        "prescriptions",
        "e prescription",
        "parchi",
        "parcha",
        "nuskha",
        "पर्ची",
        "पर्चा",
        "नुस्खा",
        "प्रिस्क्रिप्शन",
    ),
    "medicines": (
        "medicine",
        "medicines",
        "medication delivery",
        "pharmacy",
        "chemist",
        "dawai",
        "dawaai",
        "davai",
        "dawa",
        "dawaiyan",
        "दवा",
        "दवाई",
        "दवाइयाँ",
        "दवाइयां",
    ),
    "lab_tests": (
        "blood test",
        "blood tests",
        "lab test",
        "lab tests",
        "lab",
        "test",
        "tests",
        "pathology",
        "sample collection",
        "khoon ki jaanch",
        "khoon ki janch",
        "khoon jaanch",
        "jaanch",
        "janch",
        "खून की जांच",
        "जांच",
        "जाँच",
        "टेस्ट",
        "लैब",
    ),
    "video": (
        "video",
        "video call",
        "video consultation",
        "videocall",
        "वीडियो",
        "वीडियो कॉल",
    ),
}
# Asking for a doctor, though they hold a word of the table above ("test", "medicine", "jaanch"):
# an eye test is an ophthalmologist's, internal medicine a specialty's name.
DOCTOR_PHRASES = (
    "eye test",
    "eye tests",
    "eye checkup",
    "eye check up",
    "aankh ki jaanch",
    "aankhon ki jaanch",
    "आँख की जाँच",
    "आँखों की जाँच",
    "आंखों की जांच",
    "hearing test",
    "internal medicine",
    "general medicine",
    "family medicine",
    "medicine specialist",
)
_DOCTOR_PHRASES = [f" {normalise(p)} " for p in DOCTOR_PHRASES]
_PHRASES = [(feature, f" {normalise(p)} ") for feature, phrases in FEATURE_PHRASES.items() for p in phrases]


def requested(text: str) -> str | None:
    """The feature not built yet that a message asks for ("dawai mangwani hai" → "medicines")."""
    if not text or len(text) > MAX_CHARS:
        return None
    padded = f" {normalise(text)} "
    if any(phrase in padded for phrase in _DOCTOR_PHRASES):
        return None
    return next((feature for feature, phrase in _PHRASES if phrase in padded), None)


def answer_key(text: str) -> str | None:
    """The copy key of the honest answer to such a request, or None."""
    feature = requested(text)
    return f"unbuilt_{feature}" if feature else None
