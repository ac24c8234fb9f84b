"""Notification settings, for every signed-in user: which chat notifications go to (when there is
more than one), which reminder kinds are muted, and the quiet hours. Reads and writes go through
backend.outbox.preferences, inside the engine's transaction."""

from __future__ import annotations

import re
from datetime import time

from sqlalchemy import select

from backend.models import Channel, ChannelIdentity
from backend.outbox import preferences
from backend.outbox.service import MUTABLE_KINDS
from conversations.context import Context
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
from conversations.messages import InboundKind

# "22:00-07:00", "22:00 – 7:00", "22:00 to 7:00", "2200 till 0700", "22:00 से 7:00 तक".
_RANGE = re.compile(
    r"^\s*(?P<start>\S+?)\s*(?:[-–—~]|\s(?:to|till|until|se|से)\s)\s*(?P<end>\S+?)\s*(?:tak|तक)?\s*$",
    re.IGNORECASE,
)
# Typed words that turn quiet hours off (besides tapping the button), in any catalogue language.
_OFF_WORDS = {"off", "none", "no quiet hours", "बंद", "band", "kabhi nahi", "कभी नहीं"}
_OFF = time(0, 0)  # off is stored as start == end


def parse_hours(text: str) -> tuple[time, time] | None:
    """ "22:00-07:00" → (22:00, 07:00); None when either half is not a time."""
    match = _RANGE.match(text or "")
    if not match:
        return None
    start, end = preferences.parse_time(match["start"]), preferences.parse_time(match["end"])
    return (start, end) if start is not None and end is not None else None


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


async def _channels(ctx: Context) -> list[str]:
    """The channels this user has a linked chat on, in a fixed order (web, telegram, whatsapp)."""
    rows = await ctx.session.scalars(
        select(ChannelIdentity.channel).where(ChannelIdentity.user_id == ctx.user.id).distinct()
    )
    have = {Channel(c).value for c in rows}
    return [c.value for c in Channel if c.value in have]


def _channel_name(ctx: Context, channel: str | None) -> str:
    return ctx.t(f"notif_channel_{channel}") if channel else ctx.t("notif_channel_auto")


def _quiet_text(ctx: Context, prefs: preferences.Preferences) -> str:
    if prefs.quiet_off:
        return ctx.t("notif_quiet_off")
    return ctx.t(
        "notif_quiet_on",
        start=_hhmm(prefs.quiet_start),
        end=_hhmm(prefs.quiet_end),
        timezone=ctx.user.timezone,
    )


def _kind_label(ctx: Context, kind: str, muted: bool) -> str:
    return ctx.t("notif_reminder_off" if muted else "notif_reminder_on", kind=ctx.t(f"notif_kind_{kind}"))


# --- overview ---------------------------------------------------------------------------------


async def ask_overview(ctx: Context) -> Prompt:
    prefs = await preferences.get(ctx.session, ctx.user.id)
    reminders = "\n".join(f"• {_kind_label(ctx, kind, kind in prefs.muted)}" for kind in MUTABLE_KINDS)
    summary = ctx.t(
        "notif_summary",
        channel=_channel_name(ctx, prefs.channel),
        reminders=reminders,
        quiet=_quiet_text(ctx, prefs),
    )
    return prompt(
        ctx.t("notif_intro"),
        summary,
        options=[
            Option("channel", ctx.t("notif_btn_channel")),
            Option("reminders", ctx.t("notif_btn_reminders")),
            Option("quiet", ctx.t("notif_btn_quiet")),
            Option("done", ctx.t("btn_done")),
        ],
    )


async def answer_overview(ctx: Context, answer: Answer) -> Outcome:
    if answer.value == "done":
        return switch("menu")
    if answer.value == "channel":
        channels = await _channels(ctx)
        if len(channels) < 2:
            only = channels[0] if channels else ctx.channel
            return retry(ctx.t("notif_channel_only_one", channel=ctx.t(f"notif_channel_{only}")))
    return next_step(answer.value)


# --- channel ----------------------------------------------------------------------------------


async def ask_channel(ctx: Context) -> Prompt:
    prefs = await preferences.get(ctx.session, ctx.user.id)
    choices: list[tuple[str, str | None]] = [("auto", None)]
    choices += [(f"channel:{c}", c) for c in await _channels(ctx)]
    options = [
        Option(value, _marked(ctx, _channel_name(ctx, channel), channel == prefs.channel))
        for value, channel in choices
    ]
    return prompt(ctx.t("notif_ask_channel", channel=_channel_name(ctx, prefs.channel)), options=options)


def _marked(ctx: Context, label: str, current: bool) -> str:
    return ctx.t("notif_current", label=label) if current else label


async def answer_channel(ctx: Context, answer: Answer) -> Outcome:
    channel = None if answer.value == "auto" else answer.value.removeprefix("channel:")
    if channel is not None and channel not in await _channels(ctx):
        # A button shown before that chat was signed out: nothing to send there any more.
        return retry(ctx.t("notif_channel_gone"))
    await preferences.set_channel(ctx.session, ctx.user.id, channel)
    return _back_to_overview(ctx.t("notif_channel_set", channel=_channel_name(ctx, channel)))


# --- reminders --------------------------------------------------------------------------------


async def ask_reminders(ctx: Context) -> Prompt:
    prefs = await preferences.get(ctx.session, ctx.user.id)
    options = [Option(f"kind:{kind}", _kind_label(ctx, kind, kind in prefs.muted)) for kind in MUTABLE_KINDS]
    options.append(Option("done", ctx.t("btn_done")))
    return prompt(ctx.t("notif_ask_reminders"), options=options)


def _deliberate(ctx: Context, answer: Answer) -> str | None:
    """The option the user surely meant: a tap, a number, or the label exactly. A near spelling
    is not enough where options differ by a word like "on" / "off": "turn on quiet hours" is
    closest to "Turn quiet hours off"."""
    if answer.inbound.kind is InboundKind.CHOICE or answer.text.isdigit():
        return answer.value
    typed = answer.text.casefold()
    for option in ctx.data.get("prompt", {}).get("options", []):
        if option["label"].casefold() == typed:
            return option["value"]
    return None


async def answer_reminders(ctx: Context, answer: Answer) -> Outcome:
    value = _deliberate(ctx, answer)
    if value is None:
        return retry(ctx.t("pick_an_option"))
    if value == "done":
        return _back_to_overview()
    kind = value.removeprefix("kind:")
    if kind not in MUTABLE_KINDS:
        return retry(ctx.t("pick_an_option"))
    muted = await preferences.toggle_kind(ctx.session, ctx.user.id, kind)
    name = ctx.t(f"notif_kind_{kind}")
    return retry(ctx.t("notif_reminder_muted" if muted else "notif_reminder_unmuted", kind=name))


# --- quiet hours ------------------------------------------------------------------------------


async def ask_quiet(ctx: Context) -> Prompt:
    prefs = await preferences.get(ctx.session, ctx.user.id)
    options = []
    if prefs.quiet_off:
        default_start, default_end = preferences.DEFAULT_QUIET
        options.append(
            Option("default", ctx.t("notif_btn_quiet_default", start=default_start, end=default_end))
        )
    else:
        options.append(Option("off", ctx.t("notif_btn_quiet_off")))
    options.append(Option("keep", ctx.t("notif_btn_keep")))
    return prompt(
        _quiet_text(ctx, prefs),
        ctx.t("notif_ask_quiet", timezone=ctx.user.timezone),
        options=options,
    )


async def answer_quiet(ctx: Context, answer: Answer) -> Outcome:
    # Typed hours and "off" first; a button only when surely meant (see _deliberate).
    hours = parse_hours(answer.text) if answer.inbound.kind is InboundKind.TEXT else None
    value = None if hours else _deliberate(ctx, answer)
    if value == "keep":
        return _back_to_overview()
    if hours:
        start, end = hours
    elif answer.text.casefold().strip(" .!।") in _OFF_WORDS or value == "off":
        start = end = _OFF
    elif value == "default":
        start, end = (preferences.parse_time(t) for t in preferences.DEFAULT_QUIET)
    else:
        return retry(ctx.t("notif_quiet_invalid"))
    await preferences.set_quiet_hours(ctx.session, ctx.user.id, start, end)
    if start == end:
        return _back_to_overview(ctx.t("notif_quiet_turned_off"))
    return _back_to_overview(
        ctx.t("notif_quiet_set", start=_hhmm(start), end=_hhmm(end), timezone=ctx.user.timezone)
    )


def _back_to_overview(*texts: str) -> Outcome:
    return Outcome(say=say(*texts), goto="overview", remember=False)


FLOW = Flow(
    name="notifications",
    first="overview",
    steps={
        "overview": Step(ask_overview, answer_overview),
        "channel": Step(ask_channel, answer_channel),
        "reminders": Step(ask_reminders, answer_reminders),
        "quiet": Step(ask_quiet, answer_quiet, free_text=True),
    },
)
