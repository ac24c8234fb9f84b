"""Read access to providers (doctors, pharmacies, labs) for their own staff and for admins."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import (
    Doctor,
    Lab,
    LabTest,
    Pharmacy,
    Specialty,
    StockItem,
    VerificationStatus,
)

LOW_STOCK = 20


async def doctor_of(session: AsyncSession, user_id: str) -> Doctor | None:
    return await session.scalar(select(Doctor).where(Doctor.user_id == user_id))


async def pharmacy_of(session: AsyncSession, user_id: str) -> Pharmacy | None:
    return await session.scalar(select(Pharmacy).where(Pharmacy.user_id == user_id))


async def stock_of(session: AsyncSession, pharmacy_id: str) -> list[StockItem]:
    return list(
        await session.scalars(
            select(StockItem).where(StockItem.pharmacy_id == pharmacy_id).order_by(StockItem.medicine)
        )
    )


async def lab_of(session: AsyncSession, user_id: str) -> Lab | None:
    return await session.scalar(select(Lab).where(Lab.user_id == user_id))


async def tests_of(session: AsyncSession, lab_id: str) -> list[LabTest]:
    return list(await session.scalars(select(LabTest).where(LabTest.lab_id == lab_id).order_by(LabTest.name)))


@dataclass(frozen=True)
class DirectorySummary:
    doctors_verified: int
    doctors_pending: int
    specialties: int
    pharmacies: int
    labs: int


async def summary(session: AsyncSession) -> DirectorySummary:
    async def count(model, *where) -> int:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return DirectorySummary(
        doctors_verified=await count(Doctor, Doctor.status == VerificationStatus.VERIFIED),
        doctors_pending=await count(Doctor, Doctor.status == VerificationStatus.PENDING),
        specialties=await count(Specialty),
        pharmacies=await count(Pharmacy),
        labs=await count(Lab),
    )
