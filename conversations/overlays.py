"""Prompts that sit on top of whatever step the chat is at, without leaving it.

- The language prompt: opened by the `language` command or menu item; answering it (or `back`)
  returns to exactly where the chat was.
- The emergency hold: set when a red flag is seen in a flow that leads to booking or payment.
  Nothing of that flow happens until the user says they are safe, or goes to the menu; `back`
  and `language` do not lift it (the language prompt opens above it and the hold returns after).

The emergency card never loops on a step that takes typed text (a reason, a specialty): the words
that paused the flow are kept (in the conversation data, encrypted at rest) and, after "I am
safe — continue", answer the step as if typed again, marked as a red flag. From then on, until
the chat leaves that flow, red-flag words at that step (also after `back` and typing the reason
again) get a short note instead of the card and are taken as the answer, marked too. A flow that
does not pause (signup, say) shows the card once per step the same way. A step answered by
buttons, or one that reads a value out of the text (a day, a fee: Step.takes_words is False), is
asked again after "I am safe": "my chest hurts" is no day.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from conversations.copy import LANGUAGES
from conversations.flow import Answer, Option, Outcome, Prompt, Step, prompt
from conversations.flows import registry
from conversations.messages import InboundKind, Reply

if TYPE_CHECKING:
    from conversations.context import Context
    from conversations.engine import Engine

LANGUAGE = "language"
HALTED = "halted"
HELD_TEXT = "halted_text"  # {"at": [flow, step], "text": the words that paused the flow}
# {"flow": name, "steps": [...]}: the steps of this flow where further red flags get only a note
CARD_SHOWN_AT = "emergency_card_at"


def active(ctx: Context) -> str | None:
    if ctx.data.get("overlay") == LANGUAGE:
        return LANGUAGE
    return HALTED if ctx.data.get(HALTED) else None


def open_language(ctx: Context) -> None:
    ctx.data["overlay"] = LANGUAGE


def close_language(ctx: Context) -> bool:
    return ctx.data.pop("overlay", None) is not None


def here(ctx: Context) -> list[str]:
    return [ctx.conversation.flow, ctx.conversation.step]


def takes_text(ctx: Context, step: Step) -> bool:
    """Whether typed words answer this step (a reason, a name), rather than a pick of buttons.
    Only while no overlay is open and the chat's last question was this step's own."""
    if active(ctx) or InboundKind.TEXT not in step.accepts:
        return False
    last = ctx.data.get("prompt") or {}
    return last.get("at") == here(ctx) and (step.free_text or not last.get("options"))


def after_card(ctx: Context, step: Step | None, *, halts: bool, typed: str | None, kind: str) -> None:
    """Called once the emergency card was shown at `step` for the words `typed` (None when they
    cannot be an answer, e.g. too long). A flow that halts is paused, keeping the words when
    they answer the step; any other flow lets the next red flag at this step through."""
    answers = step is not None and typed is not None and takes_text(ctx, step)
    _card_kind_seen(ctx, kind)
    if halts:
        if answers and step.takes_words:
            ctx.data[HELD_TEXT] = {"at": here(ctx), "text": typed}
        ctx.data[HALTED] = True
    elif answers:
        _card_seen_here(ctx)


def card_already_shown(ctx: Context, step: Step | None, kind: str) -> bool:
    """The user has seen this card (`kind`: general, mental health, violence) at this step (and, if
    the flow paused, said they are safe): more red-flag words of its kind here get a note, not a
    reason to halt again. Another kind of emergency gets its own card: its guidance differs."""
    seen = _seen(ctx)
    step_name = ctx.conversation.step
    at_this_step = seen.get("flow") == ctx.conversation.flow and step_name in seen.get("steps", ())
    # A mark saved before the kinds were kept counts for every kind.
    kinds = seen.get("kinds", {}).get(step_name, [kind])
    return step is not None and at_this_step and kind in kinds and takes_text(ctx, step)


def _seen(ctx: Context) -> dict:
    """Where the card was shown in this flow; a value saved by an older version (a [flow, step]
    list) counts as nothing, so that chat simply gets the full card once more."""
    seen = ctx.data.get(CARD_SHOWN_AT)
    return seen if isinstance(seen, dict) else {}


def _card_kind_seen(ctx: Context, kind: str) -> None:
    seen = _seen(ctx)
    if seen.get("flow") != ctx.conversation.flow:
        seen = {"flow": ctx.conversation.flow, "steps": []}
    kinds = seen.setdefault("kinds", {}).setdefault(ctx.conversation.step, [])
    if kind not in kinds:
        kinds.append(kind)
    ctx.data[CARD_SHOWN_AT] = seen


def _card_seen_here(ctx: Context) -> None:
    seen = _seen(ctx)
    if seen.get("flow") != ctx.conversation.flow:
        seen = {"flow": ctx.conversation.flow, "steps": []}
    if ctx.conversation.step not in seen["steps"]:
        seen["steps"].append(ctx.conversation.step)
    ctx.data[CARD_SHOWN_AT] = seen


def left_step(ctx: Context) -> None:
    """The chat moved to another question: once it is in another flow, the next red flag gets the
    full card again (within one flow, `back` and the same words must not bring the pause back)."""
    seen = _seen(ctx)
    if seen and seen.get("flow") != ctx.conversation.flow:
        ctx.data.pop(CARD_SHOWN_AT, None)


def clear_all(ctx: Context) -> None:
    """Going home (menu, cancel) leaves every overlay behind: home never books or charges."""
    ctx.data.pop("overlay", None)
    ctx.data.pop(HALTED, None)
    ctx.data.pop(HELD_TEXT, None)
    left_step(ctx)


def ask(ctx: Context, overlay: str) -> Prompt:
    if overlay == LANGUAGE:
        return prompt(ctx.t("language_choose"), options=[Option(c, label) for c, label in LANGUAGES.items()])
    return prompt(
        ctx.t("emergency_hold"),
        options=[Option("safe", ctx.t("emergency_safe")), Option("menu", ctx.t("menu_button"))],
    )


async def answer(engine: Engine, ctx: Context, overlay: str, value: str | None) -> list[Reply]:
    if value is None:
        return [Reply(text=ctx.t("pick_an_option")), *await engine.ask(ctx)]
    if overlay == LANGUAGE:
        close_language(ctx)
        ctx.locale = value
        return [Reply(text=ctx.t("language_set")), *await engine.ask(ctx)]
    held = ctx.data.get(HELD_TEXT)
    clear_all(ctx)
    if value != "safe":
        return await engine.apply(ctx, Outcome(flow=registry.home(ctx.user).name))
    _card_seen_here(ctx)
    if not held or held.get("at") != here(ctx):
        return [Reply(text=ctx.t("emergency_resumed")), *await engine.ask(ctx)]
    # The words that paused the flow answer the step now, without the matcher: asking for them
    # again would only bring the same words, and the same pause, back.
    typed = replace(ctx.inbound, kind=InboundKind.TEXT, text=held["text"], choice_token=None)
    replies = await engine.answer_step(ctx, Answer(inbound=typed, value=None, red_flag=True))
    return [Reply(text=ctx.t("emergency_resumed_with_words")), *replies]
