"""The patient's medical profile. Every field is an encrypted envelope (see backend.crypto)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, UTCDateTime, utcnow

# The list fields a patient edits item by item.
PROFILE_LISTS = ("history", "allergies", "medications", "conditions")


class PatientProfile(Base):
    __tablename__ = "patient_profiles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    full_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    birth_date_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    sex_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    history_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    allergies_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    medications_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    conditions_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_by: Mapped[str | None] = mapped_column(String(32))
