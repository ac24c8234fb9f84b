"""What the chat hears when the red-flag matcher (conversations/emergency.py) fires on a text.

Every hit is audited (`emergency_flag`) and logged by category. Most get the full card with
urgent guidance; a flow that halts is then paused (conversations/overlays.py). Where the words are
an answer instead, they are kept for the step with only a short note on top: the user is writing
down their history ("heart attack in 2015"), or has seen the card at this step already (the card
again would only loop).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from backend import audit
from conversations import overlays
from conversations.messages import Reply

if TYPE_CHECKING:
    from conversations.context import Context
    from conversations.emergency import EmergencyHit
    from conversations.engine import Engine
    from conversations.flow import Flow

log = structlog.get_logger(__name__)


def words_are_an_answer(ctx: Context, flow: Flow) -> bool:
    """Whether red-flag words at the current step answer it (with a note) rather than bring the card."""
    step = flow.steps.get(ctx.conversation.step)
    records_history = bool(step and step.records_history and not overlays.active(ctx))
    return records_history or overlays.card_already_shown(ctx, step)


async def note(ctx: Context, hit: EmergencyHit) -> list[Reply]:
    """The gentle line of what to do if it is happening now, above the step's own reply."""
    await _flag(ctx, hit)
    key = "emergency_note_mental_health" if hit.mental_health else "emergency_note"
    return [Reply(text=ctx.t(key))]


async def card(
    engine: Engine, ctx: Context, flow: Flow, hit: EmergencyHit, *, longest_answer: int
) -> list[Reply]:
    """The urgent guidance, then the current question (or the hold, in a flow that halts).
    Words longer than `longest_answer` cannot answer the step, so they are not kept for it."""
    await _flag(ctx, hit)
    key = "emergency_mental_health" if hit.mental_health else "emergency_general"
    # A flow that halts: nothing more of it (no slot, no payment link) until the user says
    # they are safe; the words are kept to answer the step then.
    typed = ctx.inbound.text if len(ctx.inbound.text) <= longest_answer else None
    step = flow.steps.get(ctx.conversation.step)
    overlays.after_card(ctx, step, halts=flow.halt_on_emergency, typed=typed)
    return [Reply(text=ctx.t(key), urgent=True), *await engine.ask(ctx)]


async def _flag(ctx: Context, hit: EmergencyHit) -> None:
    await audit.record(
        ctx.session,
        actor=ctx.actor,
        action="emergency_flag",
        resource_type="conversation",
        resource_id=ctx.conversation.id,
        patient_id=ctx.user.id if ctx.user else None,
        outcome=hit.category,
        channel=ctx.channel,
    )
    log.warning("emergency_flag", category=hit.category, channel=ctx.channel)
