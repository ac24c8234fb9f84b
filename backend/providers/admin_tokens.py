"""Bearer tokens for the admin REST API.

A token is shown once when it is created; only its SHA-256 digest is stored, so a copy of the
database cannot be used to call the API. A token acts as one admin user, for a limited time
(`TELECARE_ADMIN_TOKEN_DAYS`, 30 by default), and stops working when it expires, when it is
revoked or when that user is no longer an active admin. Download links the API hands out die
with the token they were granted to (backend/files)."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import Actor
from backend.models import AdminToken, Role, User, utcnow

TOKEN_PREFIX = "tca_"  # noqa: S105 - a public prefix that secret scanners can recognise
MAX_NAME_LENGTH = 80
DEFAULT_DAYS = 30
MAX_DAYS = 365  # a token is a standing credential: a year at most, then a new one


class TokenError(ValueError):
    """The token cannot be created: the user is not an admin, or the name or lifetime is unusable."""


class Refusal(enum.StrEnum):
    """Why a presented token does not work. Only EXPIRED is told to the caller (see admin_auth)."""

    UNKNOWN = "unknown"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_ADMIN = "not_admin"  # its user is no longer an active admin


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    id: str
    name: str
    user_id: str
    expires_at: datetime
    token: str  # the only time the secret exists outside the caller's hands


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    user_id: str
    owner: str | None  # the admin's display name
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return f"revoked {self.revoked_at.isoformat(timespec='seconds')}"
        return "expired" if now >= self.expires_at else "live"


@dataclass(frozen=True)
class Checked:
    """A presented token: the admin it acts as, or why not. `token_id` is set for a known token."""

    actor: Actor | None
    token_id: str | None
    refusal: Refusal | None


async def create(
    session: AsyncSession,
    *,
    user_id: str,
    name: str,
    now: datetime | None = None,
    days: int = DEFAULT_DAYS,
) -> IssuedToken:
    """A new token for an active admin, valid for `days`. The caller shows `token` once and never
    stores it."""
    label = " ".join(name.split())
    if not label or len(label) > MAX_NAME_LENGTH:
        raise TokenError(f"the name must be 1 to {MAX_NAME_LENGTH} characters")
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(f"a token lives 1 to {MAX_DAYS} days")
    user = await session.get(User, user_id)
    if user is None or not user.active or user.role is not Role.ADMIN:
        raise TokenError("tokens are only issued to active admins")
    now = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = AdminToken(
        name=label,
        token_digest=digest(token),
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    await session.flush()
    return IssuedToken(id=row.id, name=row.name, user_id=user.id, expires_at=row.expires_at, token=token)


def _refusal(row: AdminToken, user: User | None, now: datetime) -> Refusal | None:
    if row.revoked_at is not None:
        return Refusal.REVOKED
    if now >= row.expires_at:
        return Refusal.EXPIRED
    if user is None or not user.active or user.role is not Role.ADMIN:
        return Refusal.NOT_ADMIN
    return None


async def check(session: AsyncSession, token: str, *, now: datetime, touch: bool = True) -> Checked:
    """The admin a presented token acts as, or why it does not work. A working token's last use
    is recorded (`touch`)."""
    if not token or len(token) > 200:
        return Checked(None, None, Refusal.UNKNOWN)
    row = await session.scalar(select(AdminToken).where(AdminToken.token_digest == digest(token)))
    if row is None:
        return Checked(None, None, Refusal.UNKNOWN)
    user = await session.get(User, row.user_id)
    refusal = _refusal(row, user, now)
    if refusal is not None:
        return Checked(None, row.id, refusal)
    if touch:
        row.last_used_at = now
    return Checked(Actor(user_id=user.id, role=Role.ADMIN), row.id, None)


async def verify(
    session: AsyncSession, token: str, *, now: datetime | None = None, touch: bool = True
) -> Actor | None:
    """The admin a presented token acts as, or None for an unknown, expired, revoked or orphaned
    token."""
    return (await check(session, token, now=now or utcnow(), touch=touch)).actor


async def is_live(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Whether the token with this id still works (for the links granted to it)."""
    row = await session.get(AdminToken, token_id)
    if row is None:
        return False
    return _refusal(row, await session.get(User, row.user_id), now) is None


async def revoke(session: AsyncSession, token_id: str, *, now: datetime | None = None) -> bool:
    """Revoke by id; False when there is no such token not yet revoked (an expired one can still
    be revoked, so the list says what was done about it)."""
    result = await session.execute(
        update(AdminToken)
        .where(AdminToken.id == token_id, AdminToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return result.rowcount == 1


async def list_tokens(session: AsyncSession) -> list[TokenInfo]:
    rows = (
        await session.execute(
            select(AdminToken, User.display_name)
            .join(User, User.id == AdminToken.user_id)
            .order_by(AdminToken.created_at)
        )
    ).all()
    return [
        TokenInfo(
            id=r.id,
            name=r.name,
            user_id=r.user_id,
            owner=owner,
            created_at=r.created_at,
            expires_at=r.expires_at,
            last_used_at=r.last_used_at,
            revoked_at=r.revoked_at,
        )
        for r, owner in rows
    ]
