"""The append-only audit log, chained with a keyed MAC (see backend/audit.py). It never holds
health data, only who did what to which record, when, why and with what outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    # The chain position; unique, so two writers can never fork the chain.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(32))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    resource_type: Mapped[str] = mapped_column(String(48), nullable=False)
    resource_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(String(32), index=True)
    outcome: Mapped[str] = mapped_column(String(48), nullable=False)
    purpose: Mapped[str | None] = mapped_column(String(48))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # The link: HMAC-SHA256 over the entry and prev_hash, under the audit MAC key of key ring key
    # `key_id`. Every entry has a key id; the column is nullable only because migration 0011
    # added it to a table that had rows (and re-sealed them).
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    key_id: Mapped[str | None] = mapped_column(String(255))
