"""Writing to the outbox, in the caller's transaction. Nothing here sends anything: the
notifications dispatcher does, later, from the rows.

- `enqueue`: a one-off message (a confirmation, a status change, an alert). Its dedupe key makes
  it idempotent: the same key twice is one message.
- `schedule` / `cancel` / `cancel_prefix`: reminders by key (e.g. `appointment:<id>:24h`).
  Scheduling a key again replaces the reminder (new time, new parameters), even one already
  sent; cancelling removes every one not sent yet (or still waiting for the user to open a chat). `window` is how late a reminder may still go
  out: past `due_at + window` it is dropped rather than sent late.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.crypto import FieldCipher
from backend.models import NotificationAction, OutboxMessage, OutboxStatus, new_id, utcnow

# Kinds a user may mute; everything else (status changes, requests to staff, admin alerts) is not.
MUTABLE_KINDS = ("appointment", "prescription", "lab", "profile")
OPEN = (OutboxStatus.PENDING, OutboxStatus.CLAIMED)
# A message finished for the workers (SENT, never claimed again) but not yet seen: it went to a
# closed web chat (channel "web"), or the user had no chat that could take it (channel None: no
# chat yet, or every one blocked, opted out or stopped). Shown when the user next opens a chat.
WAITING = "waiting"
# A button on a sent message carries a token starting with this (a prompt's own are shorter and
# never contain a dot), so the engine knows it from the current question's options.
ACTION_TOKEN_PREFIX = "n."  # noqa: S105 (a marker, not a secret)


@dataclass(frozen=True, slots=True)
class ActionButton:
    value: str  # what the handler receives
    label: str  # a template key (rendered in the recipient's language)


def mark_written(session: AsyncSession) -> None:
    """Note on the session that it wrote to the outbox: whoever commits it may wake a dispatcher
    (the message is sent at once instead of at the next poll)."""
    session.info["outbox_written"] = True


def outbox_written(session: AsyncSession) -> bool:
    return bool(session.info.get("outbox_written"))


def seal_params(cipher: FieldCipher, row_id: str, params: dict) -> bytes:
    return cipher.encrypt("outbox", "params", row_id, json.dumps(params, ensure_ascii=False, default=str))


def open_params(cipher: FieldCipher, row: OutboxMessage) -> dict:
    if not row.params_enc:
        return {}
    return json.loads(cipher.decrypt("outbox", "params", row.id, row.params_enc))


async def enqueue(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    key: str,
    user_id: str,
    template: str,
    params: dict | None = None,
    kind: str = "status",
    due_at: datetime | None = None,
    window: timedelta | None = None,
    urgent: bool = False,
    actions: tuple[ActionButton, ...] = (),
    action: str | None = None,
    action_ref: str | None = None,
) -> OutboxMessage:
    """Write one message to send; an existing row with the same key is returned unchanged."""
    existing = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
    if existing is not None:
        return existing
    row = OutboxMessage(id=new_id(), dedupe_key=key, user_id=user_id, status=OutboxStatus.PENDING)
    _fill(cipher, row, template, params, kind, due_at, window, urgent, actions, action, action_ref)
    try:
        async with session.begin_nested():  # a concurrent enqueue of the same key must not abort ours
            session.add(row)
    except IntegrityError:
        return await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
    mark_written(session)
    return row


async def schedule(
    session: AsyncSession,
    cipher: FieldCipher,
    *,
    key: str,
    user_id: str,
    template: str,
    due_at: datetime,
    params: dict | None = None,
    kind: str,
    window: timedelta | None = timedelta(hours=1),
    urgent: bool = False,
    actions: tuple[ActionButton, ...] = (),
    action: str | None = None,
    action_ref: str | None = None,
) -> OutboxMessage:
    """Schedule the reminder `key`, replacing whatever was scheduled under it."""
    row = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key).with_for_update())
    if row is None:
        row = OutboxMessage(id=new_id(), dedupe_key=key)
        session.add(row)
    else:
        await forget_buttons(session, row.id)  # a replacement is a new message, with new buttons
    row.user_id = user_id
    row.status = OutboxStatus.PENDING
    row.attempts = 0
    row.claimed_by = row.claimed_until = None
    row.tried_channels = ""
    row.channel = row.platform_message_id = row.delivery_status = row.last_error = None
    row.sent_at = None
    _fill(cipher, row, template, params, kind, due_at, window, urgent, actions, action, action_ref)
    await session.flush()
    mark_written(session)
    return row


async def forget_buttons(session: AsyncSession, outbox_id: str) -> None:
    """Remove a message's buttons: presses of the old ones then say "no longer valid", and the
    next send of the message makes new ones."""
    await session.execute(delete(NotificationAction).where(NotificationAction.outbox_id == outbox_id))


async def cancel(session: AsyncSession, key: str) -> bool:
    """Withdraw the message `key` if it has not gone yet. True when something was withdrawn."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dedupe_key == key, _unseen())
        .values(status=OutboxStatus.CANCELLED, updated_at=utcnow())
    )
    return result.rowcount > 0


async def cancel_prefix(session: AsyncSession, prefix: str) -> int:
    """Withdraw every unsent message whose key starts with `prefix` (all of an appointment's)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dedupe_key.like(escaped + "%", escape="\\"), _unseen())
        .values(status=OutboxStatus.CANCELLED, updated_at=utcnow())
    )
    return result.rowcount


def _unseen():
    """Not yet in front of the user: still to send, or waiting for them to open a chat."""
    return or_(
        OutboxMessage.status.in_(OPEN),
        and_(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.delivery_status == WAITING),
    )


def _fill(cipher, row, template, params, kind, due_at, window, urgent, actions, action, action_ref) -> None:
    due = due_at or utcnow()
    row.template = template
    row.params_enc = seal_params(cipher, row.id, params or {})
    row.kind = kind
    row.due_at = due
    row.expires_at = due + window if window is not None else None
    row.urgent = urgent
    row.actions_json = (
        json.dumps([{"value": a.value, "label": a.label} for a in actions]) if actions else None
    )
    row.action = action if actions else None
    row.action_ref = action_ref if actions else None
    row.updated_at = utcnow()
