"""Emergency red flags the chat matcher raised, and the ones an operator saw it miss.

A red flag's category is health data about whoever raised it: encrypted, bound to this table,
column and row. The message's words are never kept here (nor in the audit entry that goes with
each flag). A miss is a message an operator writes down to feed the evaluation set
(eval/redflags/): its words are encrypted too, and it names no patient."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, IdMixin, UTCDateTime, utcnow


class RedFlag(IdMixin, Base):
    """One red flag seen in a chat: happening now (the emergency card was shown) or only a
    mention of the past (`history`: "a heart attack in 2019, fine now"; no card)."""

    __tablename__ = "red_flags"
    __table_args__ = (Index("ix_red_flags_user_id_created_at", "user_id", "created_at"),)

    # None for a chat nobody has signed in on yet: the flag still counts in the report.
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    category_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    history: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True, nullable=False)


class RedFlagMiss(IdMixin, Base):
    """A message the matcher did not flag but should have, as an operator recorded it."""

    __tablename__ = "red_flag_misses"

    text_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    language: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True, nullable=False)
