"""People and the chats they reach us from."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, enum_type


class Role(enum.StrEnum):
    PATIENT = "patient"
    DOCTOR = "doctor"
    PHARMACY = "pharmacy"
    LAB = "lab"
    ADMIN = "admin"


class Channel(enum.StrEnum):
    WEB = "web"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"


class User(IdMixin, CreatedMixin, Base):
    __tablename__ = "users"

    role: Mapped[Role] = mapped_column(enum_type(Role), nullable=False)
    locale: Mapped[str] = mapped_column(String(8), default="en", nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Kolkata", nullable=False)
    # Contact details are encrypted; the blind indexes find an account by them.
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_bidx: Mapped[str | None] = mapped_column(String(64), unique=True)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_bidx: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A name staff see in menus (professional names are not health data; patients' are in the profile).
    display_name: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class ChannelIdentity(IdMixin, CreatedMixin, Base):
    """One chat on one channel. Many identities may belong to one user; an identity that has not
    completed OTP belongs to nobody yet."""

    __tablename__ = "channel_identities"
    __table_args__ = (
        UniqueConstraint("channel", "address_bidx", name="uq_channel_identities_channel_address_bidx"),
    )

    channel: Mapped[Channel] = mapped_column(enum_type(Channel), nullable=False)
    # The platform's address of the chat (WhatsApp number, Telegram chat id, or for the web a hash
    # of the session token) names a person: stored only encrypted, bound to this row, and found by
    # its keyed blind index (backend/accounts/chats.py).
    address_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    address_bidx: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    muted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # The platform refuses to deliver to this chat (e.g. the user blocked the bot): stop sending.
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The user's last message to us on this chat: WhatsApp allows free-form messages only within
    # 24 hours of it (outside, approved templates only).
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The user asked the platform number to stop (WhatsApp STOP): nothing but the confirmation is
    # sent until they say START.
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Consent(IdMixin, CreatedMixin, Base):
    """Agreement to the terms and data use, with the exact version shown and when it was given."""

    __tablename__ = "consents"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[str] = mapped_column(String(32), nullable=False)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel), nullable=False)
