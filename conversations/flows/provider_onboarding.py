"""A pharmacy's or lab's application: details and licence."""

from __future__ import annotations

from conversations.context import Context
from conversations.flow import Answer, Flow, Outcome, Prompt, Step, prompt, switch


async def ask_main(ctx: Context) -> Prompt:
    return prompt(ctx.t("not_allowed"))


async def answer_main(ctx: Context, answer: Answer) -> Outcome:
    return switch("menu")


FLOW = Flow(name="provider_onboarding", first="main", steps={"main": Step(ask_main, answer_main)})
