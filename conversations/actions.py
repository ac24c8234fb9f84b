"""Buttons that came with a message we started (a notification), not with the current question.

A press arrives as a choice whose token starts with `ACTION_TOKEN_PREFIX` (Telegram, web), or on
text-only channels as the button's label and the message's code typed back ("retry 417"). It
counts only when:
- the button was made for this chat's user (anyone else gets "no longer valid": a forwarded
  message or a guessed token reveals nothing),
- it was not used before (claimed with one conditional UPDATE, so two quick presses act once;
  pressing one button also uses up its siblings: Accept then Reject is one decision; a button
  that only shows something, like "View documents", uses up nothing),
- it has not expired, and its handler still finds it applies (e.g. the message is still dead).
Then its handler runs in the engine's transaction, is audited, and the user is back at their
current question.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from sqlalchemy import select, update

from backend import audit
from backend.models import NotificationAction, OutboxMessage, Role
from backend.outbox import queue
from backend.outbox.service import ACTION_TOKEN_PREFIX
from conversations.context import Context
from conversations.flow import Outcome, retry, switch
from conversations.recognize import match_choice

_TYPED = re.compile(r"^\s*(?P<label>\S.{0,63}?)\s+#?(?P<code>\d{3})\s*$")

Handler = Callable[[Context, str, str | None], Awaitable[Outcome | None]]


def is_action_token(token: str | None) -> bool:
    return bool(token) and token.startswith(ACTION_TOKEN_PREFIX)


def typed(text: str) -> tuple[str, str] | None:
    """("retry", "417") from "Retry 417"; None for anything else."""
    match = _TYPED.match(text or "")
    return (match.group("label"), match.group("code")) if match else None


async def find_typed(ctx: Context, label: str, code: str) -> NotificationAction | None:
    """The user's live button whose message code is `code` and whose label `label` names."""
    if ctx.user is None:
        return None
    candidates = (
        await ctx.session.scalars(
            select(NotificationAction).where(
                NotificationAction.user_id == ctx.user.id,
                NotificationAction.code == code,
                NotificationAction.used_at.is_(None),
                NotificationAction.expires_at > ctx.now,
            )
        )
    ).all()
    if not candidates or label.strip().isdigit():  # "1 417" is not a label (nor a position)
        return None
    index = match_choice(label, [c.label for c in candidates])
    return candidates[index] if index is not None else None


async def press(ctx: Context, token: str) -> Outcome:
    action = await ctx.session.get(NotificationAction, token[:32])
    return await _run(ctx, action)


async def press_typed(ctx: Context, action: NotificationAction) -> Outcome:
    return await _run(ctx, action)


async def _run(ctx: Context, action: NotificationAction | None) -> Outcome:
    if action is None or ctx.user is None or action.user_id != ctx.user.id or action.expires_at <= ctx.now:
        return retry(ctx.t("notice_action_expired"))
    message = await ctx.session.get(OutboxMessage, action.outbox_id)
    look_only = message is not None and action.value in LOOK_ONLY.get(message.action or "", ())
    if not look_only and not await _use(ctx, action):
        return retry(ctx.t("notice_action_expired"))
    handler = HANDLERS.get(message.action or "") if message else None
    outcome = await handler(ctx, action.value, message.action_ref) if handler else None
    done = ("shown" if look_only else "done") if outcome else "no longer applies"
    await audit.record(
        ctx.session,
        actor=ctx.actor,
        action="notification_action",
        resource_type="outbox",
        resource_id=action.outbox_id,
        outcome=f"{action.value}:{done}",
        channel=ctx.channel,
    )
    return outcome or retry(ctx.t("notice_action_expired"))


async def _use(ctx: Context, action: NotificationAction) -> bool:
    """Claim the button (one conditional UPDATE, so two quick presses act once); its siblings
    are used up with it: one decision per message (Accept then Reject is one decision)."""
    used = await ctx.session.execute(
        update(NotificationAction)
        .where(NotificationAction.token == action.token, NotificationAction.used_at.is_(None))
        .values(used_at=ctx.now)
    )
    if used.rowcount == 0:
        return False
    await ctx.session.execute(
        update(NotificationAction)
        .where(NotificationAction.outbox_id == action.outbox_id, NotificationAction.used_at.is_(None))
        .values(used_at=ctx.now)
    )
    return True


# --- handlers: one per kind of message that carries buttons ----------------------------------


async def _dead_letter(ctx: Context, value: str, ref: str | None) -> Outcome | None:
    """An admin's decision on a message that could not be delivered."""
    if ctx.user.role is not Role.ADMIN or ref is None:
        return None
    if value == "retry" and await queue.retry_dead(ctx.session, ref):
        return retry(ctx.t("dead_letter_retried"))
    if value == "discard" and await queue.discard_dead(ctx.session, ref):
        return retry(ctx.t("dead_letter_discarded"))
    return retry(ctx.t("dead_letter_gone"))


async def _profile_nudge(ctx: Context, value: str, ref: str | None) -> Outcome | None:
    if value != "open" or ctx.user.role is not Role.PATIENT:
        return None
    return switch("profile", ctx.t("profile_nudge_open"))


HANDLERS: dict[str, Handler] = {"dead_letter": _dead_letter, "profile_nudge": _profile_nudge}


# Per action, the button values that only show something ("View documents"): pressing one decides
# nothing, so it neither uses up the message's other buttons nor itself.
LOOK_ONLY: dict[str, frozenset[str]] = {}


def register(name: str, handler: Handler, *, look_only: frozenset[str] = frozenset()) -> None:
    """Add the handler for messages whose `action` is `name` (called by the flow modules that own
    those messages, e.g. the doctor's Accept / Reject on a booking request)."""
    HANDLERS[name] = handler
    LOOK_ONLY[name] = look_only
