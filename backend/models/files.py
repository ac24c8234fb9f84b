"""Short-lived download links. The token in the URL is random; only its SHA-256 is stored.

A link is bound to whom it was made for: `channel` says where it was made (a chat's channel, or
"api" for the admin API, whose links also name their `admin_token_id`); backend/files decides
who may open it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedMixin, IdMixin, UTCDateTime


class FileGrant(IdMixin, CreatedMixin, Base):
    __tablename__ = "file_grants"

    token_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # e.g. "profile_summary"
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    downloads: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # "web", "telegram", "whatsapp" (the chat it was made in) or "api"; empty for links made
    # before migration 0012 (they open only in a browser signed in as their user).
    channel: Mapped[str | None] = mapped_column(String(16))
    # The admin API token it was granted to: it dies with that token (revoked or expired).
    admin_token_id: Mapped[str | None] = mapped_column(
        ForeignKey("admin_tokens.id", ondelete="CASCADE"), index=True
    )
    # WhatsApp: when Twilio fetched the media (a link serves one media fetch).
    media_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
