"""Bearer tokens for the admin REST API.

A token is shown once when it is created; only its SHA-256 digest is stored, so a copy of the
database cannot be used to call the API. A token acts as one admin user, and stops working when it
is revoked or when that user is no longer an active admin."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import Actor
from backend.models import AdminToken, Role, User, utcnow

TOKEN_PREFIX = "tca_"  # noqa: S105 - a public prefix that secret scanners can recognise
MAX_NAME_LENGTH = 80


class TokenError(ValueError):
    """The token cannot be created: the user is not an admin, or the name is unusable."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    id: str
    name: str
    user_id: str
    token: str  # the only time the secret exists outside the caller's hands


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    user_id: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


async def create(session: AsyncSession, *, user_id: str, name: str) -> IssuedToken:
    """A new token for an active admin. The caller shows `token` once and never stores it."""
    label = " ".join(name.split())
    if not label or len(label) > MAX_NAME_LENGTH:
        raise TokenError(f"the name must be 1 to {MAX_NAME_LENGTH} characters")
    user = await session.get(User, user_id)
    if user is None or not user.active or user.role is not Role.ADMIN:
        raise TokenError("tokens are only issued to active admins")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = AdminToken(name=label, token_digest=digest(token), user_id=user.id)
    session.add(row)
    await session.flush()
    return IssuedToken(id=row.id, name=row.name, user_id=user.id, token=token)


async def verify(session: AsyncSession, token: str, *, touch: bool = True) -> Actor | None:
    """The admin a presented token acts as, or None for an unknown, revoked or orphaned token."""
    if not token or len(token) > 200:
        return None
    row = await session.scalar(select(AdminToken).where(AdminToken.token_digest == digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    user = await session.get(User, row.user_id)
    if user is None or not user.active or user.role is not Role.ADMIN:
        return None
    if touch:
        row.last_used_at = utcnow()
    return Actor(user_id=user.id, role=Role.ADMIN)


async def token_id_for(session: AsyncSession, token: str) -> str | None:
    return await session.scalar(select(AdminToken.id).where(AdminToken.token_digest == digest(token)))


async def revoke(session: AsyncSession, token_id: str) -> bool:
    """Revoke by id; False when there is no such live token (unknown or already revoked)."""
    result = await session.execute(
        update(AdminToken)
        .where(AdminToken.id == token_id, AdminToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount == 1


async def list_tokens(session: AsyncSession) -> list[TokenInfo]:
    rows = (await session.scalars(select(AdminToken).order_by(AdminToken.created_at))).all()
    return [
        TokenInfo(
            id=r.id,
            name=r.name,
            user_id=r.user_id,
            created_at=r.created_at,
            last_used_at=r.last_used_at,
            revoked_at=r.revoked_at,
        )
        for r in rows
    ]
