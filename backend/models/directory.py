"""Providers: doctors with their weekly availability and slots, pharmacies with stock, labs with
their test catalogues. Professional details are public information, stored in clear."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, enum_type


class VerificationStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


def _status_column() -> Mapped[VerificationStatus]:
    return mapped_column(
        enum_type(VerificationStatus),
        default=VerificationStatus.PENDING,
        nullable=False,
    )


doctor_specialties = Table(
    "doctor_specialties",
    Base.metadata,
    Column("doctor_id", ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True),
    Column("specialty_id", ForeignKey("specialties.id", ondelete="CASCADE"), primary_key=True),
)


class Specialty(IdMixin, Base):
    __tablename__ = "specialties"

    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)


class Doctor(IdMixin, CreatedMixin, Base):
    __tablename__ = "doctors"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    full_name: Mapped[str] = mapped_column(String(120), nullable=False)
    qualification: Mapped[str] = mapped_column(String(200), nullable=False)
    council: Mapped[str] = mapped_column(String(120), nullable=False)
    registration_number: Mapped[str] = mapped_column(String(64), nullable=False)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    fee_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), default="INR", nullable=False)
    bio: Mapped[str] = mapped_column(Text, default="", nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Kolkata", nullable=False)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=15, nullable=False)
    status: Mapped[VerificationStatus] = _status_column()
    verified_by: Mapped[str | None] = mapped_column(String(32))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    # Takes urgent consults now; requests are accepted at once instead of waiting for a tap.
    on_call: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    auto_accept: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), nullable=False)
    # Stripe Connect account ("acct_…") that receives the doctor's share of a Stripe payment.
    stripe_account_id: Mapped[str | None] = mapped_column(String(64))

    specialties: Mapped[list[Specialty]] = relationship(secondary=doctor_specialties, lazy="selectin")
    __table_args__ = (
        UniqueConstraint("council", "registration_number", name="uq_doctors_council_registration"),
    )


class AvailabilityRule(IdMixin, Base):
    """Weekly hours in the doctor's own timezone: weekday 0 = Monday. A weekday may have several
    "work" intervals; a "break" interval is cut out of them."""

    __tablename__ = "availability_rules"

    doctor_id: Mapped[str] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), index=True, nullable=False
    )
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)
    start_time: Mapped[time] = mapped_column(Time, nullable=False)
    end_time: Mapped[time] = mapped_column(Time, nullable=False)
    kind: Mapped[str] = mapped_column(String(8), default="work", server_default="work", nullable=False)


class AvailabilityException(IdMixin, Base):
    """One date that differs from the weekly hours, in the doctor's timezone: a day off ("off",
    no times) or one-off hours ("hours") that replace that weekday's hours on that date."""

    __tablename__ = "availability_exceptions"

    doctor_id: Mapped[str] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), index=True, nullable=False
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)


class ProviderDocument(IdMixin, CreatedMixin, Base):
    """A document a doctor, pharmacy or lab sent with their application (licence, ID proof). The
    bytes stay in `stored_files`, encrypted; admins read them through a short-lived link."""

    __tablename__ = "provider_documents"

    provider_kind: Mapped[str] = mapped_column(String(16), nullable=False)  # doctor | pharmacy | lab
    provider_id: Mapped[str] = mapped_column(String(32), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # licence | id_proof
    stored_file_id: Mapped[str] = mapped_column(
        ForeignKey("stored_files.id", ondelete="CASCADE"), nullable=False
    )


class Slot(IdMixin, Base):
    __tablename__ = "slots"
    __table_args__ = (UniqueConstraint("doctor_id", "starts_at", name="uq_slots_doctor_start"),)

    doctor_id: Mapped[str] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), index=True, nullable=False
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="free", nullable=False)


class Pharmacy(IdMixin, CreatedMixin, Base):
    __tablename__ = "pharmacies"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    city: Mapped[str] = mapped_column(String(80), nullable=False)
    licence_number: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[VerificationStatus] = _status_column()
    verified_by: Mapped[str | None] = mapped_column(String(32))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(String(500))


class StockItem(IdMixin, Base):
    __tablename__ = "stock_items"
    __table_args__ = (
        UniqueConstraint("pharmacy_id", "medicine", "strength", name="uq_stock_items_medicine"),
    )

    pharmacy_id: Mapped[str] = mapped_column(ForeignKey("pharmacies.id", ondelete="CASCADE"), nullable=False)
    medicine: Mapped[str] = mapped_column(String(120), nullable=False)
    strength: Mapped[str] = mapped_column(String(40), nullable=False)
    form: Mapped[str] = mapped_column(String(40), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    price_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), default="INR", nullable=False)


class Lab(IdMixin, CreatedMixin, Base):
    __tablename__ = "labs"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    city: Mapped[str] = mapped_column(String(80), nullable=False)
    accreditation: Mapped[str] = mapped_column(String(64), nullable=False)
    home_collection: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    status: Mapped[VerificationStatus] = _status_column()
    verified_by: Mapped[str | None] = mapped_column(String(32))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(String(500))


class LabTest(IdMixin, Base):
    __tablename__ = "lab_tests"
    __table_args__ = (UniqueConstraint("lab_id", "code", name="uq_lab_tests_code"),)

    lab_id: Mapped[str] = mapped_column(ForeignKey("labs.id", ondelete="CASCADE"), nullable=False)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    price_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), default="INR", nullable=False)
    turnaround_hours: Mapped[int] = mapped_column(Integer, nullable=False)
    fasting_required: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
