"""One-time-password challenges and contact locks. The code itself is never stored, only its keyed
HMAC; destinations and client addresses only as keyed blind indexes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, utcnow


class OtpChallenge(IdMixin, CreatedMixin, Base):
    __tablename__ = "otp_challenges"

    # Indexed: the global hourly SMS budget counts this hour's phone challenges.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True, nullable=False)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    destination_kind: Mapped[str] = mapped_column(String(8), nullable=False)  # "phone" | "email"
    destination_bidx: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    # A keyed index of the chat (`channel:address`), never the address itself.
    chat_key: Mapped[str] = mapped_column(String(160), index=True, nullable=False)
    # Keyed hash of the client's network address (the web chat's IP, an IPv6 /64), never the
    # address itself; None where the chat is the client (Telegram, WhatsApp).
    client_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    code_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Set when the challenge can no longer be used: verified, replaced by a resend, or locked.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_reason: Mapped[str | None] = mapped_column(String(16))


class OtpContactLock(IdMixin, CreatedMixin, Base):
    """A contact that too many wrong codes were tried for: no codes to it, and none of its codes
    accepted, until `locked_until` (NIST SP 800-63B §5.2.2)."""

    __tablename__ = "otp_contact_locks"

    destination_kind: Mapped[str] = mapped_column(String(8), nullable=False)
    destination_bidx: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)  # wrong codes in the window that locked it
