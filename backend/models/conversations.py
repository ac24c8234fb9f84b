"""Conversation state and the inbox of platform message ids already processed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, utcnow


class Conversation(IdMixin, Base):
    __tablename__ = "conversations"

    identity_id: Mapped[str] = mapped_column(
        ForeignKey("channel_identities.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    flow: Mapped[str] = mapped_column(String(64), nullable=False)
    step: Mapped[str] = mapped_column(String(64), nullable=False)
    # The flow's scratch data (answers so far, the last prompt's choices) is encrypted: it can
    # hold a name, a date of birth or a phone number while signup is under way.
    data_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class InboxMessage(IdMixin, CreatedMixin, Base):
    """A platform message or update id we have accepted; a redelivery hits the unique key.

    Channels that must answer their platform before the work is done (Telegram webhooks) store
    the update here first, encrypted, with `processed_at` empty; the engine marks it processed in
    the same transaction as its effects, and clears the payload. Rows still unprocessed after a
    crash are picked up again on start.

    An update that cannot be handled (malformed, a file that cannot be fetched, an error in the
    engine) is finished as failed: `failed_at` and a short reason code (`backend.inbox.REASONS`,
    never the update's content) are set, `processed_at` too, and the payload is dropped, so it is
    never picked up again."""

    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("channel", "platform_id", name="uq_inbox_messages_channel_platform_id"),
    )

    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    platform_id: Mapped[str] = mapped_column(String(128), nullable=False)
    payload_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    failure: Mapped[str | None] = mapped_column(String(32))


class WebChatMessage(IdMixin, Base):
    """One message the web chat showed (the user's, the bot's, or a notification), kept so that a
    reload shows the recent conversation again. The message (text, button labels, the emergency
    mark) is health data: encrypted, bound to this table, column and row. `user_id` is the account
    the chat was linked to when it was shown: a chat signed out or linked to another account never
    shows it again (backend/accounts/web_history.py)."""

    __tablename__ = "web_chat_messages"
    __table_args__ = (Index("ix_web_chat_messages_identity_id_at", "identity_id", "at"),)

    identity_id: Mapped[str] = mapped_column(
        ForeignKey("channel_identities.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    body_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
