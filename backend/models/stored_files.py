"""Files users send us (licences, ID proofs, lab reports), encrypted like every other health data."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedMixin, IdMixin


class StoredFile(IdMixin, CreatedMixin, Base):
    __tablename__ = "stored_files"

    identity_id: Mapped[str] = mapped_column(
        ForeignKey("channel_identities.id", ondelete="CASCADE"), index=True, nullable=False
    )
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    platform_file_id: Mapped[str] = mapped_column(String(256), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    filename_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    content_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
