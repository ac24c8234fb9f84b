"""Prompts that sit on top of whatever step the chat is at, without leaving it: choosing a
language, and the emergency hold. When they are answered the chat is exactly where it was."""

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
EMERGENCY = "emergency"


def language_options() -> list[Option]:
    return [Option(code, label) for code, label in LANGUAGES.items()]


def ask(ctx: Context, overlay: str) -> Prompt:
    if overlay == LANGUAGE:
        return prompt(ctx.t("language_choose"), options=language_options())
    return prompt(
        ctx.t("emergency_hold"),
        options=[Option("safe", ctx.t("emergency_safe")), Option("menu", ctx.t("menu_button"))],
    )


async def answer(engine: Engine, ctx: Context, overlay: str, value: str | None) -> list[Reply]:
    if value is None:
        return [Reply(text=ctx.t("pick_an_option")), *await engine.ask(ctx)]
    ctx.data.pop("overlay", None)
    if overlay == LANGUAGE:
        ctx.locale = value
        return [Reply(text=ctx.t("language_set")), *await engine.ask(ctx)]
    if value == "safe":
        return [Reply(text=ctx.t("emergency_resumed")), *await engine.ask(ctx)]
    return await engine.apply(ctx, Outcome(flow=registry.home(ctx.user).name))
