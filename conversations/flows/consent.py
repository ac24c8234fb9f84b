"""The terms, in signup: the consent step with a link to the terms page, and the way on after
"I do not agree" (read the terms again, agree after all, or leave signup), never a dead end.
Its steps are the signup flow's "consent" and "declined" (conversations/flows/signup.py)."""

from __future__ import annotations

from dataclasses import replace

from conversations.context import Context
from conversations.flow import Answer, Option, Outcome, Prompt, next_step, prompt, retry, say
from conversations.flows.signup_form import contact_is_verified, joining_as_provider


def terms_url(ctx: Context) -> str:
    """The terms as a page (bot/web/terms.py serves it), in the chat's language."""
    return f"{ctx.settings.public_base_url.rstrip('/')}/terms?lang={ctx.locale}"


async def ask_consent(ctx: Context) -> Prompt:
    # Doctors, pharmacies and labs agree to the terms of practising here, not a patient's.
    key = "consent_provider" if joining_as_provider(ctx) else "consent"
    terms = ctx.t(key, version=ctx.settings.terms_version)
    return prompt(
        f"{terms}\n\n{ctx.t('consent_terms_link', url=terms_url(ctx))}",
        options=[Option("agree", ctx.t("btn_agree")), Option("decline", ctx.t("btn_decline"))],
    )


async def answer_consent(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "decline":
        return next_step("declined")
    if answer.value != "agree":
        return retry(ctx.t("consent_needed"))
    ctx.form["consent_at"] = ctx.now.isoformat()
    ctx.form["consent_version"] = ctx.settings.terms_version
    if joining_as_provider(ctx):  # a provider's name is part of their application
        return next_step("language" if contact_is_verified(ctx) else "contact")
    return next_step("name")


async def ask_declined(ctx: Context) -> Prompt:
    """After "I do not agree": what that means, and every way on — never a dead end."""
    return prompt(
        ctx.t("consent_declined", url=terms_url(ctx)),
        options=[
            Option("terms", ctx.t("btn_read_terms")),
            Option("agree", ctx.t("btn_agree_after_all")),
            Option("leave", ctx.t("btn_leave_signup")),
        ],
    )


async def answer_declined(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "terms":
        return Outcome(goto="consent", remember=False)
    if answer.value == "agree":
        return replace(await answer_consent(ctx, answer), remember=False)
    # Leaving: forget what this signup collected (a contact verified on the way here, say).
    ctx.data.pop("form", None)
    return Outcome(say=say(ctx.t("consent_left")), goto="welcome", remember=False)
