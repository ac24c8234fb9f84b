"""Admin REST endpoints for money (under /api/admin, bearer tokens): payments, refunds, payouts.

A payout records money the platform sent a doctor outside the gateway (a bank transfer): it moves
that much of the doctor's pending payable to paid out, never more than is pending, and tells the
doctor in chat."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from backend import audit
from backend.access import Actor
from backend.api.admin_auth import require_admin
from backend.models import Doctor, Payment, PaymentStatus, Refund
from backend.outbox.service import enqueue
from backend.payments import ledger

router = APIRouter(prefix="/api/admin", tags=["admin: payments"])

AdminActor = Annotated[Actor, Depends(require_admin)]


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    appointment_id: str
    patient_id: str
    gateway: str
    status: PaymentStatus
    amount_minor: int
    currency: str
    commission_minor: int
    refunded_minor: int
    checkout_ref: str | None
    charge_ref: str | None
    destination_account: str | None
    created_at: datetime
    paid_at: datetime | None


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    payment_id: str
    amount_minor: int
    currency: str
    reason: str
    status: str
    gateway_ref: str | None
    idempotency_key: str
    created_at: datetime


class PayoutIn(BaseModel):
    amount_minor: int = Field(gt=0, le=10**12, description="In minor units (paise).")
    currency: str = Field(pattern="^[A-Z]{3}$", examples=["INR"])
    reference: str | None = Field(default=None, max_length=120, description="The bank transfer's reference.")


class PayoutOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    doctor_id: str
    amount_minor: int
    currency: str
    reference: str | None
    status: str
    created_at: datetime


class EarningsOut(BaseModel):
    currency: str
    earned_minor: int
    refunded_minor: int
    paid_out_minor: int
    pending_payout_minor: int
    owed_minor: int


@router.get("/payments", response_model=list[PaymentOut], summary="Payments, newest first")
async def list_payments(
    request: Request,
    admin: AdminActor,
    status_filter: Annotated[PaymentStatus | None, Query(alias="status")] = None,
    appointment_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Payment]:
    query = select(Payment).order_by(Payment.created_at.desc(), Payment.id).limit(limit).offset(offset)
    if status_filter is not None:
        query = query.where(Payment.status == status_filter)
    if appointment_id:
        query = query.where(Payment.appointment_id == appointment_id)
    async with request.app.state.sessions() as session:
        return list(await session.scalars(query))


@router.get("/refunds", response_model=list[RefundOut], summary="Refunds, newest first")
async def list_refunds(
    request: Request,
    admin: AdminActor,
    payment_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Refund]:
    query = select(Refund).order_by(Refund.created_at.desc(), Refund.id).limit(limit).offset(offset)
    if payment_id:
        query = query.where(Refund.payment_id == payment_id)
    async with request.app.state.sessions() as session:
        return list(await session.scalars(query))


@router.get(
    "/doctors/{doctor_id}/earnings",
    response_model=EarningsOut,
    responses={404: {"description": "no such doctor"}},
    summary="A doctor's earnings and pending payout",
)
async def doctor_earnings(doctor_id: str, request: Request, admin: AdminActor) -> EarningsOut:
    async with request.app.state.sessions() as session:
        if await session.get(Doctor, doctor_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such doctor.")
        earnings = await ledger.doctor_earnings(session, doctor_id)
    return EarningsOut(**{name: getattr(earnings, name) for name in EarningsOut.model_fields})


@router.post(
    "/doctors/{doctor_id}/payouts",
    response_model=PayoutOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        404: {"description": "no such doctor"},
        409: {"description": "more than is pending, or not the doctor's currency"},
    },
    summary="Record a payout sent to a doctor",
)
async def record_payout(
    doctor_id: str,
    body: PayoutIn,
    request: Request,
    admin: AdminActor,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Send the same key when retrying: the payout is recorded once."),
    ] = None,
) -> PayoutOut:
    state = request.app.state
    async with state.sessions() as session, session.begin():
        doctor = await session.get(Doctor, doctor_id)
        if doctor is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such doctor.")
        try:
            payout = await ledger.record_payout(
                session,
                doctor_id,
                amount_minor=body.amount_minor,
                currency=body.currency,
                reference=body.reference,
                idempotency_key=idempotency_key,
            )
        except ledger.PayoutRefused as refused:
            raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
        await audit.record(
            session,
            actor=admin,
            action="payout",
            resource_type="doctor",
            resource_id=doctor_id,
            channel="api",
        )
        await enqueue(
            session,
            state.cipher,
            key=f"payout:{payout.id}",
            user_id=doctor.user_id,
            template="payout_recorded",
            params={
                "amount_money": f"{payout.amount_minor} {payout.currency}",
                "reference": payout.reference or "—",
            },
            kind="status",
        )
        result = PayoutOut.model_validate(payout)
    wake = getattr(getattr(state, "dispatcher", None), "wake", None)
    if callable(wake):
        wake()
    return result
