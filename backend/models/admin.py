"""Bearer tokens for the admin REST API (`/api/admin/`). Only the token's SHA-256 is stored; every
token expires."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedMixin, IdMixin, UTCDateTime


class AdminToken(IdMixin, CreatedMixin, Base):
    __tablename__ = "admin_tokens"

    name: Mapped[str] = mapped_column(String(80), nullable=False)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # The admin the token acts as: decisions through the API are audited under this user.
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    # Set at creation (TELECARE_ADMIN_TOKEN_DAYS, or `--days`); tokens older than migration 0012
    # got created_at + 30 days.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
