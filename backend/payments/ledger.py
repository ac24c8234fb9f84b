"""The double-entry ledger: every movement of money is a transaction of lines that sum to zero.

Signs: a debit is positive, a credit negative. Accounts (one currency per line):

- ``gateway``: cash held at the payment gateway (debit when a patient pays, credit on a refund);
- ``patient:<user>``: the patient's account. A charge debits it with the fee and credits it with
  the cash that paid it, so it is zero unless something is owed either way;
- ``platform:commission``: the platform's share (commission_bps of each fee);
- ``platform:unassigned``: a paid urgent consult's doctor share before any doctor accepted it;
- ``doctor:<doctor>:payable``: what the platform owes the doctor (a credit balance);
- ``doctor:<doctor>:paid_out``: what has left for the doctor, by a payout or a Stripe Connect
  transfer (a credit balance);
- ``doctor:<doctor>:receivable``: what a doctor owes back because a refund came after their share
  was paid out; it is netted against the next payout.

Transaction kinds: ``charge`` (a payment received, split into commission and the doctor's share),
``transfer`` (a Connect split sent the share straight to the doctor), ``assign`` (an urgent
consult's share moved to the doctor who took it), ``refund`` (the proportional reversal),
``payout`` (payable → paid out)."""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from backend.models import Doctor, LedgerEntry, Payout

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

GATEWAY = "gateway"
COMMISSION = "platform:commission"
UNASSIGNED = "platform:unassigned"


def patient(user_id: str) -> str:
    return f"patient:{user_id}"


def payable(doctor_id: str) -> str:
    return f"doctor:{doctor_id}:payable"


def paid_out(doctor_id: str) -> str:
    return f"doctor:{doctor_id}:paid_out"


def refund_owed(patient_id: str) -> str:
    """Money we owe a patient whose refund the gateway could not make (returned by hand)."""
    return f"patient:{patient_id}:refund_owed"


def receivable(doctor_id: str) -> str:
    return f"doctor:{doctor_id}:receivable"


class UnbalancedTransaction(ValueError):
    """Lines that do not sum to zero (or no lines at all): nothing is written."""


class PayoutRefused(ValueError):
    """A payout of nothing, of more than is pending, or in another currency."""


@dataclass(frozen=True, slots=True)
class Earnings:
    currency: str
    earned_minor: int  # the doctor's share of every payment, less the part refunded to patients
    refunded_minor: int  # the doctor's share given back to patients (already taken off `earned_minor`)
    paid_out_minor: int  # sent to the doctor (payouts and Connect transfers, net of reversals)
    pending_payout_minor: int  # still owed to the doctor
    owed_minor: int = 0  # owed by the doctor: refunds of shares already paid out, beyond what is pending


@dataclass(frozen=True, slots=True)
class Movement:
    """One line of the doctor's ledger history, for the earnings screen."""

    kind: str
    amount_minor: int  # > 0: owed to the doctor grew (earned); < 0: it shrank
    currency: str
    appointment_id: str | None
    created_at: object


async def post(
    session: AsyncSession,
    *,
    kind: str,
    lines: list[tuple[str, int]],
    currency: str,
    appointment_id: str | None = None,
    payment_id: str | None = None,
    txn_id: str | None = None,
) -> str:
    """Write one transaction and return its id (`txn_id` when given: a refund's lines carry the
    refund's id, so a refund that fails later can be reversed exactly). Zero lines are left out;
    the rest must sum to zero."""
    kept = [(account, amount) for account, amount in lines if amount != 0]
    if not kept:
        raise UnbalancedTransaction(f"{kind}: no lines")
    if sum(amount for _, amount in kept) != 0:
        raise UnbalancedTransaction(f"{kind}: lines sum to {sum(a for _, a in kept)}, not zero")
    txn_id = txn_id or secrets.token_hex(16)
    session.add_all(
        LedgerEntry(
            txn_id=txn_id,
            kind=kind,
            account=account,
            amount_minor=amount,
            currency=currency,
            appointment_id=appointment_id,
            payment_id=payment_id,
        )
        for account, amount in kept
    )
    await session.flush()
    return txn_id


async def balance(session: AsyncSession, account: str, currency: str) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
            LedgerEntry.account == account, LedgerEntry.currency == currency
        )
    )
    return int(total or 0)


async def payment_balances(session: AsyncSession, payment_id: str) -> dict[str, int]:
    """Each account's balance over one payment's own lines (payouts are not tied to a payment)."""
    rows = await session.execute(
        select(LedgerEntry.account, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.payment_id == payment_id)
        .group_by(LedgerEntry.account)
    )
    return {account: int(total) for account, total in rows}


def _doctor_accounts(doctor_id: str) -> tuple[str, str, str]:
    return payable(doctor_id), paid_out(doctor_id), receivable(doctor_id)


async def doctor_earnings(session: AsyncSession, doctor_id: str) -> Earnings:
    """The doctor's money in their own currency, from the ledger lines alone:
    earned − paid out = pending − owed, where earned is what the charges and assignments gave the
    doctor less what the refund lines took back (a refunded fee was never earned)."""
    doctor = await session.get(Doctor, doctor_id)
    currency = doctor.currency if doctor else "INR"
    pay, out, owe = _doctor_accounts(doctor_id)
    rows = await session.execute(
        select(LedgerEntry.kind, LedgerEntry.account, LedgerEntry.amount_minor).where(
            LedgerEntry.account.in_((pay, out, owe)), LedgerEntry.currency == currency
        )
    )
    shares = refunded = 0
    totals: dict[str, int] = defaultdict(int)
    for kind, account, amount in rows:
        totals[account] += amount
        if account == pay and amount < 0 and kind in ("charge", "assign"):
            shares += -amount
        elif kind == "refund" and amount > 0:
            refunded += amount
    net = -totals[pay] - totals[owe]
    return Earnings(
        currency=currency,
        earned_minor=shares - refunded,
        refunded_minor=refunded,
        paid_out_minor=-totals[out],
        pending_payout_minor=max(net, 0),
        owed_minor=max(-net, 0),
    )


async def doctor_movements(session: AsyncSession, doctor_id: str, *, limit: int = 5) -> list[Movement]:
    """The last few changes to what the doctor is owed or was paid, newest first, one per
    transaction. Signs as the doctor sees them: a charge or assignment adds (+), a refund takes
    back (−); a payout or Connect transfer is the amount that reached them (+)."""
    accounts = _doctor_accounts(doctor_id)
    out = paid_out(doctor_id)
    latest = (
        select(LedgerEntry.txn_id, func.max(LedgerEntry.created_at).label("at"))
        .where(LedgerEntry.account.in_(accounts))
        .group_by(LedgerEntry.txn_id)
        .order_by(func.max(LedgerEntry.created_at).desc(), LedgerEntry.txn_id)
        .limit(limit)
    ).subquery()
    rows = await session.execute(
        select(LedgerEntry, latest.c.at)
        .join(latest, latest.c.txn_id == LedgerEntry.txn_id)
        .where(LedgerEntry.account.in_(accounts))
        .order_by(latest.c.at.desc(), LedgerEntry.txn_id)
    )
    by_txn: dict[str, Movement] = {}
    for line, at in rows:
        if line.kind in ("payout", "transfer"):
            amount = -line.amount_minor if line.account == out else 0
        else:
            amount = -line.amount_minor
        seen = by_txn.get(line.txn_id)
        total = (seen.amount_minor if seen else 0) + amount
        by_txn[line.txn_id] = Movement(line.kind, total, line.currency, line.appointment_id, at)
    return list(by_txn.values())


async def record_payout(
    session: AsyncSession,
    doctor_id: str,
    *,
    amount_minor: int,
    currency: str,
    reference: str | None,
    idempotency_key: str | None = None,
) -> Payout:
    """Pay the doctor part or all of what is pending (what they owe back is netted first). The
    same `idempotency_key` again returns the payout it recorded (a retried request), or is
    refused if it came with other amounts."""
    doctor = await session.get(Doctor, doctor_id, with_for_update=True)  # one payout at a time
    if doctor is None:
        raise LookupError(f"no doctor {doctor_id}")
    if idempotency_key:
        done = await session.scalar(select(Payout).where(Payout.idempotency_key == idempotency_key))
        if done is not None:
            if (done.doctor_id, done.amount_minor, done.currency) != (doctor_id, amount_minor, currency):
                raise PayoutRefused("this Idempotency-Key was used for another payout")
            return done
    earnings = await doctor_earnings(session, doctor_id)
    if currency != earnings.currency:
        raise PayoutRefused(f"the doctor is paid in {earnings.currency}, not {currency}")
    if amount_minor <= 0:
        raise PayoutRefused("a payout must be more than zero")
    if amount_minor > earnings.pending_payout_minor:
        raise PayoutRefused(f"only {earnings.pending_payout_minor} {currency} is pending")
    owed = await balance(session, receivable(doctor_id), currency)  # a debit: the doctor owes it
    await post(
        session,
        kind="payout",
        lines=[
            (payable(doctor_id), amount_minor + owed),
            (paid_out(doctor_id), -amount_minor),
            (receivable(doctor_id), -owed),
        ],
        currency=currency,
    )
    payout = Payout(
        doctor_id=doctor_id,
        amount_minor=amount_minor,
        currency=currency,
        reference=reference,
        idempotency_key=idempotency_key,
    )
    session.add(payout)
    await session.flush()
    return payout
