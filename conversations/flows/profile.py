"""The medical profile: view it, and add or remove items of history, allergies, medications
and conditions. Every read and change goes through backend.records (authorised, audited)."""

from __future__ import annotations

import hashlib

from babel.dates import format_date

from backend.files import service as files
from backend.models import PROFILE_LISTS
from backend.records import service as records
from backend.records.summary import shorten
from conversations.context import Context
from conversations.copy import format_locale
from conversations.flow import (
    Answer,
    Flow,
    Option,
    Outcome,
    Prompt,
    Step,
    next_step,
    prompt,
    retry,
    say,
    switch,
)
from conversations.messages import Document, Reply

MAX_LABEL = 40


def _bullets(ctx: Context, items: list[str]) -> str:
    return "\n".join(f"• {item}" for item in items) if items else ctx.t("profile_none")


async def _view(ctx: Context, purpose: str) -> records.ProfileView:
    return await records.read_profile(
        ctx.session, ctx.cipher, ctx.actor, ctx.user.id, channel=ctx.channel, purpose=purpose
    )


async def ask_overview(ctx: Context) -> Prompt:
    view = await _view(ctx, "view_profile")
    born = format_date(view.birth_date, "long", locale=format_locale(ctx.locale)) if view.birth_date else "—"
    sections = "\n\n".join(
        f"{ctx.t(f'field_{name}')}\n{_bullets(ctx, view.lists[name])}" for name in PROFILE_LISTS
    )
    summary = ctx.t(
        "profile_summary", name=view.full_name, born=born, sex=ctx.t(f"sex_{view.sex}"), sections=sections
    )
    options = [Option(name, ctx.t(f"edit_{name}")) for name in PROFILE_LISTS]
    options.append(Option("download", ctx.t("btn_download_summary")))
    options.append(Option("done", ctx.t("menu_button")))
    return prompt(summary, ctx.t("profile_pick_field"), options=options)


async def answer_overview(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "done":
        return switch("menu")
    if answer.value == "download":
        return await _summary_link(ctx)
    ctx.form["field"] = answer.value
    return next_step("field")


async def _summary_link(ctx: Context) -> Outcome:
    """A download link for the printable summary; the document is made when it is fetched."""
    token = await files.grant(
        ctx.session, user_id=ctx.user.id, kind="profile_summary", now=ctx.now, channel=ctx.channel
    )
    url = f"{ctx.settings.public_base_url.rstrip('/')}/files/{token}"
    minutes = int(files.LINK_LIFETIME.total_seconds() // 60)
    document = Document(
        filename="health-summary.html", url=url, caption=ctx.t("summary_caption", minutes=minutes)
    )
    return Outcome(say=(Reply(text=ctx.t("summary_ready"), document=document),), stay=True)


async def ask_field(ctx: Context) -> Prompt:
    field = ctx.form["field"]
    items = (await _view(ctx, f"view_{field}")).lists[field]
    options = [Option("add", ctx.t("btn_add"))]
    if items:
        options += [Option("remove", ctx.t("btn_remove")), Option("clear", ctx.t("btn_clear"))]
    options.append(Option("done", ctx.t("btn_done")))
    return prompt(
        ctx.t("field_items", field=ctx.t(f"field_{field}"), items=_bullets(ctx, items)), options=options
    )


async def answer_field(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "done":
        return Outcome(goto="overview", remember=False)
    return next_step(answer.value)


async def ask_add(ctx: Context) -> Prompt:
    field = ctx.form["field"]
    return prompt(ctx.t("ask_item", field=ctx.t(f"field_{field}").lower(), example=ctx.t(f"example_{field}")))


async def answer_add(ctx: Context, answer: Answer) -> Outcome:
    field = ctx.form["field"]
    try:
        await records.add_item(
            ctx.session, ctx.cipher, ctx.actor, ctx.user.id, field, answer.text, channel=ctx.channel
        )
    except records.ProfileError as bad:
        return retry(ctx.t(bad.reason, limit=records.MAX_ITEM_CHARS, most=records.MAX_ITEMS))
    return _back_to_field(ctx, ctx.t("saved"))


async def ask_remove(ctx: Context) -> Prompt:
    field = ctx.form["field"]
    items = (await _view(ctx, f"view_{field}")).lists[field]
    # An option names its item, not its position: a button shown before the list changed (in
    # another tab) still removes exactly the item it says, or nothing.
    options = [Option(f"item:{_item_key(item)}", shorten(item, MAX_LABEL)) for item in items]
    options.append(Option("keep", ctx.t("btn_keep_all")))
    return prompt(ctx.t("ask_remove"), options=options)


def _item_key(item: str) -> str:
    return hashlib.sha256(item.encode()).hexdigest()[:16]


async def answer_remove(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "keep":
        return _back_to_field(ctx)
    field = ctx.form["field"]
    items = (await _view(ctx, f"remove_{field}")).lists[field]
    wanted = answer.value.removeprefix("item:")
    item = next((i for i in items if _item_key(i) == wanted), None)
    if item is None:
        return _back_to_field(ctx, ctx.t("item_gone"))
    try:
        await records.remove_item(
            ctx.session, ctx.cipher, ctx.actor, ctx.user.id, field, item, channel=ctx.channel
        )
    except records.ProfileError as bad:
        return _back_to_field(ctx, ctx.t(bad.reason))
    return _back_to_field(ctx, ctx.t("removed", item=item))


async def ask_clear(ctx: Context) -> Prompt:
    field = ctx.t(f"field_{ctx.form['field']}")
    return prompt(
        ctx.t("ask_clear", field=field),
        options=[Option("yes", ctx.t("btn_yes_clear")), Option("no", ctx.t("btn_no"))],
    )


async def answer_clear(ctx: Context, answer: Answer) -> Outcome:
    if answer.value != "yes":
        return _back_to_field(ctx)
    field = ctx.form["field"]
    await records.clear_list(ctx.session, ctx.cipher, ctx.actor, ctx.user.id, field, channel=ctx.channel)
    return _back_to_field(ctx, ctx.t("cleared"))


def _back_to_field(ctx: Context, *texts: str) -> Outcome:
    return Outcome(say=say(*texts), goto="field", remember=False)


FLOW = Flow(
    name="profile",
    first="overview",
    steps={
        "overview": Step(ask_overview, answer_overview),
        "field": Step(ask_field, answer_field),
        "add": Step(ask_add, answer_add, free_text=True, records_history=True),
        "remove": Step(ask_remove, answer_remove),
        "clear": Step(ask_clear, answer_clear),
    },
)
