"""Messages we handed to a platform, and what the platform later said about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, utcnow

# Twilio's message statuses in the order a message moves through them. A callback never moves a
# message backwards (callbacks can arrive out of order: "read" before "delivered"); the failures
# are final and outrank everything but themselves.
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "read": 5,
    "partially_delivered": 4,
    "undelivered": 6,
    "failed": 7,
    "canceled": 7,
}


class OutboundMessage(IdMixin, CreatedMixin, Base):
    """One message sent through a platform that reports delivery (WhatsApp through Twilio).

    When a business-initiated text fails because the chat's 24-hour window had closed (63016),
    the approved template named here is sent instead; its variables are encrypted (they can hold
    a name or an appointment time)."""

    __tablename__ = "outbound_messages"

    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    # The number it went to: encrypted and blind-indexed like a chat's (backend/accounts/chats.py).
    address_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    address_bidx: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # text | media | template
    status: Mapped[str] = mapped_column(String(24), nullable=False, default="queued")
    status_rank: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    error_code: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[str | None] = mapped_column(String(64))
    variables_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The outbox message this carried, when it was one (its delivery status follows this row's).
    outbox_id: Mapped[str | None] = mapped_column(String(32), index=True)
    fallback_sent: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
