"""What the chat hears when the red-flag matcher (conversations/emergency.py) fires on a text.

Every hit is kept (backend/safety/flags.py: the category, encrypted, never the words), audited
(`emergency_flag`) and logged by category; the doctor of the patient's next appointment sees it.
A mention of the past ("a heart attack in 2019, fine now, need a refill") gets no card and no
pause: the message answers the step as usual, with the gentle note above, and is kept as history
(not marked as a red-flag reason: the doctor reads it among the flags). So does a flag the model
doubts ("is phenyl safe for mopping if my baby crawls?", conversations/emergency.py), kept as one
for now. Something happening now gets
the full card with urgent guidance (a mental-health crisis and violence or abuse each their own);
a flow that halts is then paused (conversations/overlays.py). Where the words are an answer
instead, they get only a short note: the user is writing down their history ("heart attack in
2015"), or has seen this card at this step already (the card again would only loop; another kind
of emergency still gets its own card). The words then answer the step only where the step records
history or the flow pauses for red flags (a visit's reason); elsewhere the question is asked again,
so "my mother collapsed" never becomes a name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from backend.safety import flags
from conversations import overlays
from conversations.copy import translate
from conversations.messages import Reply
from conversations.textnorm import in_devanagari

if TYPE_CHECKING:
    from conversations.context import Context
    from conversations.emergency import EmergencyHit
    from conversations.engine import Engine
    from conversations.flow import Flow

log = structlog.get_logger(__name__)

# The card and the note of a category with its own guidance; every other category gets the general
# card (112 / 108). Only numbers cited in the domain reference (112, 108, Tele-MANAS 14416).
_CARDS = {"mental_health": "emergency_mental_health", "violence_abuse": "emergency_violence_abuse"}
_NOTES = {"mental_health": "emergency_note_mental_health", "violence_abuse": "emergency_note_violence_abuse"}


def words_are_an_answer(ctx: Context, flow: Flow, hit: EmergencyHit) -> bool:
    """Whether red-flag words at the current step get a note rather than the card: the step
    records history, or this card was shown here already (the same card again would only loop)."""
    step = flow.steps.get(ctx.conversation.step)
    records_history = bool(step and step.records_history and not overlays.active(ctx))
    return records_history or overlays.card_already_shown(ctx, step, card_kind(hit))


def may_take_the_words(ctx: Context, flow: Flow) -> bool:
    """Whether words about an emergency happening now may answer the current step after the note:
    only where the step records history, or takes a person's own words in a flow that pauses for
    a red flag (a reason for a visit, once the user said they are safe). Elsewhere ("your full
    name", a booking's day) they never do: the note, then the question again."""
    step = flow.steps.get(ctx.conversation.step)
    return bool(step and (step.records_history or (flow.halt_on_emergency and step.takes_words)))


def card_kind(hit: EmergencyHit) -> str:
    """The card a hit brings: its own for a mental-health crisis or violence, else the general."""
    return _CARDS.get(hit.category, "emergency_general")


async def note(ctx: Context, hit: EmergencyHit) -> list[Reply]:
    """The gentle line of what to do if it is happening now, above the step's own reply (also for
    a mention of the past: the matcher may have misread the time)."""
    await _flag(ctx, hit)
    key = _NOTES.get(hit.category, "emergency_note")
    return [Reply(text=text, calls=True) for text in _in_their_words(ctx, key)]


async def card(
    engine: Engine, ctx: Context, flow: Flow, hit: EmergencyHit, *, longest_answer: int
) -> list[Reply]:
    """The urgent guidance, then the current question (or the hold, in a flow that halts).
    Words longer than `longest_answer` cannot answer the step, so they are not kept for it."""
    await _flag(ctx, hit)
    key = card_kind(hit)
    # A flow that halts: nothing more of it (no slot, no payment link) until the user says
    # they are safe; the words are kept to answer the step then.
    typed = ctx.inbound.text if len(ctx.inbound.text) <= longest_answer else None
    step = flow.steps.get(ctx.conversation.step)
    overlays.after_card(ctx, step, halts=flow.halt_on_emergency, typed=typed, kind=key)
    cards = [Reply(text=text, urgent=True) for text in _in_their_words(ctx, key)]
    return [*cards, *await engine.ask(ctx)]


def _in_their_words(ctx: Context, key: str) -> list[str]:
    """The card or note in the chat's language; for words written in Devanagari in a chat that is
    not in Hindi (a new user has not chosen a language yet), in Hindi first, then in the chat's."""
    if ctx.locale != "hi" and in_devanagari(ctx.inbound.text):
        return [translate("hi", key), ctx.t(key)]
    return [ctx.t(key)]


async def _flag(ctx: Context, hit: EmergencyHit) -> None:
    """Every flag passes here: kept and audited. (When consultations in the chat exist, issue 17,
    this is where the doctor of an open consultation is to be alerted at once.)"""
    await flags.record(
        ctx.session,
        ctx.cipher,
        actor=ctx.actor,
        user_id=ctx.user.id if ctx.user else None,
        conversation_id=ctx.conversation.id,
        channel=ctx.channel,
        category=hit.category,
        history=hit.history,
        at=ctx.now,
        doubtful=hit.doubtful,
    )
    # "when", not "history": the log redacts fields named like health data (backend/logs.py).
    log.warning(
        "emergency_flag",
        category=hit.category,
        when=hit.when,
        channel=ctx.channel,
    )
