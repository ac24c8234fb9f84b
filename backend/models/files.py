"""Short-lived download links. The token in the URL is random; only its SHA-256 is stored."""

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
