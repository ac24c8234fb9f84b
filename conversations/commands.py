"""Global commands: understood in every state, typed in any supported language, with or
without a leading slash (Telegram's /start and /menu included)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from conversations import overlays
from conversations.copy import all_translations
from conversations.flow import Outcome
from conversations.flows import registry
from conversations.messages import Reply
from conversations.recognize import normalise

if TYPE_CHECKING:
    from conversations.context import Context
    from conversations.engine import Engine

COMMANDS = ("menu", "help", "back", "cancel", "language", "stop")
_TRAILING = re.compile(r"[\s.!?।]+$")


def _normalise(text: str) -> str:
    return _TRAILING.sub("", text.strip().casefold()).removeprefix("/").split("@", 1)[0].strip()


def _words() -> dict[str, str]:
    words: dict[str, str] = {}
    for command in COMMANDS:
        for alternatives in all_translations(f"cmd_{command}"):
            for word in alternatives.split("|"):
                words[word.strip().casefold()] = command
    return words


_WORDS = _words()


# A whole message that names a language switches the chat to it at any step (except where the step
# asks for a language as its answer: Step.language_answer). Compared after recognize.normalise, so
# case, spacing, punctuation, nukta and "हिन्दी"/"हिंदी" do not matter.
LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("english", "in english", "english please", "angrezi", "angrezi mein", "अंग्रेज़ी", "इंग्लिश"),
    "hi": (
        "hindi",
        "in hindi",
        "hindi please",
        "hindi mein",
        "hindi me",
        "हिंदी",
        "हिंदी में",
        "हिन्दी (hindi)",
    ),
}
_LANGUAGE_WORDS = {normalise(name): code for code, names in LANGUAGE_NAMES.items() for name in names}


def language_named(text: str) -> str | None:
    """The language a message consisting only of its name asks for ("Hindi mein" → "hi")."""
    if len(text) > 40:
        return None
    return _LANGUAGE_WORDS.get(normalise(text))


async def switch_language(engine: Engine, ctx: Context, locale: str) -> list[Reply]:
    """Switch at once and ask the current question again, now in that language."""
    overlays.close_language(ctx)
    ctx.locale = locale
    return [Reply(text=ctx.t("language_set")), *await engine.ask(ctx)]


def parse(text: str) -> str | None:
    if len(text) > 40:
        return None
    return _WORDS.get(_normalise(text))


def looks_like_command(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith("/") and len(stripped) > 1 and " " not in stripped[:40]


async def run(engine: Engine, ctx: Context, command: str) -> list[Reply]:
    conv = ctx.conversation
    if command == "help":
        return [Reply(text=ctx.t("help_signed_in" if ctx.user else "help_new")), *await engine.ask(ctx)]
    if command == "stop":
        ctx.identity.muted = True
        return [Reply(text=ctx.t("stopped"))]
    if command == "language":
        overlays.open_language(ctx)
        return await engine.ask(ctx)
    if command == "back":
        if overlays.close_language(ctx):
            return await engine.ask(ctx)
        if overlays.active(ctx) == overlays.HALTED:
            return await engine.ask(ctx)  # only "I am safe" or the menu lift an emergency hold
        history = ctx.data.get("history") or []
        if not history and (came_from := ctx.data.pop("came_from", None)):
            return await _return_to(engine, ctx, came_from)
        if not history and ctx.user is not None and conv.flow != registry.home(ctx.user).name:
            # The first step of a flow entered from the menu: back is the menu, as a user expects.
            return await _go_home(engine, ctx, said="")
        if not history:
            return [Reply(text=ctx.t("nothing_to_go_back_to")), *await engine.ask(ctx)]
        conv.step = history.pop()
        return await engine.ask(ctx)
    # menu and cancel: leave whatever was under way and go home.
    return await _go_home(engine, ctx, said=ctx.t("cancelled") if command == "cancel" else "")


async def _go_home(engine: Engine, ctx: Context, *, said: str) -> list[Reply]:
    """Leave whatever was under way (its answers too) for the home flow's first step."""
    overlays.clear_all(ctx)
    home = registry.home(ctx.user)
    ctx.data.pop("form", None)
    ctx.data.pop("came_from", None)
    ctx.data["history"] = []
    ctx.conversation.flow, ctx.conversation.step = home.name, home.first
    return await engine.apply(ctx, Outcome(say=(Reply(text=said),) if said else ()))


async def _return_to(engine: Engine, ctx: Context, came_from: dict) -> list[Reply]:
    """ "back" at the first question of a flow entered from another one (Outcome.returnable):
    the step it was entered from, with that flow's answers (the search, the doctor picked)."""
    ctx.conversation.flow, ctx.conversation.step = came_from["flow"], came_from["step"]
    ctx.data["form"] = came_from.get("form") or {}
    ctx.data["history"] = came_from.get("history") or []
    return await engine.ask(ctx)
