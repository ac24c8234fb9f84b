"""Appointments: a patient's booking of a doctor's slot, from the unpaid hold to its end.

A slot can have at most one live appointment: `slot_lock` holds the slot id while the appointment
is held, requested or confirmed, and is cleared when it ends; a unique constraint on it makes a
double booking impossible whatever the application does. An urgent consult has no slot and no
doctor until a doctor on call accepts it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, enum_type, utcnow


class AppointmentStatus(enum.StrEnum):
    HELD = "held"  # slot held for the patient while they pay
    REQUESTED = "requested"  # paid; waiting for the doctor (or, urgent, for any doctor on call)
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"  # by the patient or the doctor
    REJECTED = "rejected"  # by the doctor, or not answered before the deadline
    EXPIRED = "expired"  # the hold lapsed unpaid


LIVE_STATUSES = (AppointmentStatus.HELD, AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED)


class AppointmentKind(enum.StrEnum):
    SCHEDULED = "scheduled"
    URGENT = "urgent"


class Appointment(IdMixin, CreatedMixin, Base):
    __tablename__ = "appointments"

    patient_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    doctor_id: Mapped[str | None] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[str | None] = mapped_column(ForeignKey("slots.id", ondelete="SET NULL"))
    # The slot id while the appointment is live, else NULL: unique, so one live booking per slot.
    slot_lock: Mapped[str | None] = mapped_column(String(32), unique=True)
    kind: Mapped[AppointmentKind] = mapped_column(
        enum_type(AppointmentKind), default=AppointmentKind.SCHEDULED, nullable=False
    )
    specialty: Mapped[str | None] = mapped_column(String(80))  # urgent consults: what is needed
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_type(AppointmentStatus), default=AppointmentStatus.HELD, index=True, nullable=False
    )
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # the reason for the visit: health data
    # The reason has emergency red-flag words; the patient saw the emergency guidance and said they
    # were safe to go on. Shown to the doctor with the reason. (The words themselves stay
    # encrypted; the audit log's "emergency_flag" entries say only that a flag was raised.)
    reason_red_flag: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    fee_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Past this a paid request nobody accepted is refunded (the doctor's answer, or an urgent offer).
    decision_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(String(16))  # patient | doctor | system | admin
    end_reason: Mapped[str | None] = mapped_column(String(200))
    rescheduled_from_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
