"""One-time-password challenges. The code itself is never stored, only its keyed HMAC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedMixin, IdMixin, UTCDateTime


class OtpChallenge(IdMixin, CreatedMixin, Base):
    __tablename__ = "otp_challenges"

    purpose: Mapped[str] = mapped_column(String(32), nullable=False)
    destination_kind: Mapped[str] = mapped_column(String(8), nullable=False)  # "phone" | "email"
    destination_bidx: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    # A keyed index of the chat (`channel:address`), never the address itself.
    chat_key: Mapped[str] = mapped_column(String(160), nullable=False)
    code_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Set when the challenge can no longer be used: verified, replaced by a resend, or locked.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_reason: Mapped[str | None] = mapped_column(String(16))
