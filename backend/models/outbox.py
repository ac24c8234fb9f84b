"""Messages the platform starts (confirmations, reminders, status changes, requests to staff,
admin alerts): one row each, written in the same transaction as the change that causes it, and
sent later by the notifications dispatcher. Also the buttons such a message carries, and each
user's notification preferences."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, enum_type, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its due time (or a retry, or the end of quiet hours)
    CLAIMED = "claimed"  # a worker holds it until `claimed_until`; after that anyone may take it
    SENT = "sent"  # a channel accepted it (or, on the web, it waits for the chat to open)
    DEAD = "dead"  # every attempt failed; admins see it (and are told)
    CANCELLED = "cancelled"  # the domain withdrew it (appointment cancelled, profile completed)
    DROPPED = "dropped"  # too late to be useful, muted by the user, or nobody to send it to


class OutboxMessage(IdMixin, CreatedMixin, Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due_at", "status", "due_at"),)

    # Unique: writing the same key twice is a no-op (or, for reminders, a replacement).
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    template: Mapped[str] = mapped_column(String(64), nullable=False)
    # The template's parameters (names, times): encrypted, bound to this row.
    params_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Buttons: [{"value": "retry", "label": "retry"}] with `action` naming the handler that takes
    # the press and `action_ref` the thing it acts on (e.g. an appointment id).
    actions_json: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(64))
    action_ref: Mapped[str | None] = mapped_column(String(64))
    # What it is, for preferences: mutable reminder kinds ("appointment", "profile", ...), or
    # "status" / "admin" / "welcome", which are not muted.
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus), default=OutboxStatus.PENDING, nullable=False
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # Past this, a reminder is dropped rather than sent late.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Channels that could not deliver it (comma separated): the next try goes elsewhere.
    tried_channels: Mapped[str] = mapped_column(String(64), default="", server_default="", nullable=False)
    channel: Mapped[str | None] = mapped_column(String(16))
    platform_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # What the channel later said: sent | delivered | read | failed | waiting (web chat closed).
    delivery_status: Mapped[str | None] = mapped_column(String(24))
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class NotificationAction(CreatedMixin, Base):
    """One button of one sent message. Only `user_id` may press it, once, before `expires_at`,
    and only while its handler still finds it applies."""

    __tablename__ = "notification_actions"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    outbox_id: Mapped[str] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE"), index=True, nullable=False
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    # Typed on text-only channels with the label: "retry 417".
    code: Mapped[str] = mapped_column(String(8), nullable=False)
    value: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(16))  # preferred; None: the most recent chat
    muted_kinds: Mapped[str] = mapped_column(String(200), default="", server_default="", nullable=False)
    quiet_start: Mapped[str] = mapped_column(
        String(5), default="21:00", server_default="21:00", nullable=False
    )
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00", server_default="08:00", nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
