"""Prompts that sit on top of whatever step the chat is at, without leaving it.

- The language prompt: opened by the `language` command or menu item; answering it (or `back`)
  returns to exactly where the chat was.
- The emergency hold: set when a red flag is seen in a flow that leads to booking or payment.
  Nothing of that flow happens until the user says they are safe, or goes to the menu; `back`
  and `language` do not lift it (the language prompt opens above it and the hold returns after).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conversations.copy import LANGUAGES
from conversations.flow import Option, Outcome, Prompt, prompt
from conversations.flows import registry
from conversations.messages import Reply

if TYPE_CHECKING:
    from conversations.context import Context
    from conversations.engine import Engine

LANGUAGE = "language"
HALTED = "halted"


def active(ctx: Context) -> str | None:
    if ctx.data.get("overlay") == LANGUAGE:
        return LANGUAGE
    return HALTED if ctx.data.get(HALTED) else None


def open_language(ctx: Context) -> None:
    ctx.data["overlay"] = LANGUAGE


def close_language(ctx: Context) -> bool:
    return ctx.data.pop("overlay", None) is not None


def halt(ctx: Context) -> None:
    ctx.data[HALTED] = True


def clear_all(ctx: Context) -> None:
    """Going home (menu, cancel) leaves every overlay behind: home never books or charges."""
    ctx.data.pop("overlay", None)
    ctx.data.pop(HALTED, None)


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
    clear_all(ctx)
    if value == "safe":
        return [Reply(text=ctx.t("emergency_resumed")), *await engine.ask(ctx)]
    return await engine.apply(ctx, Outcome(flow=registry.home(ctx.user).name))
