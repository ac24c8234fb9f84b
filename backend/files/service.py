"""Download links for documents a user may fetch (their health summary today; prescriptions and
lab reports later). A link is a random token valid for a few minutes; the database keeps only
its hash, so a copy of the database gives no working links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import FileGrant

LINK_LIFETIME = timedelta(minutes=10)
MAX_DOWNLOADS = 5  # enough for a retry or two, not for a link passed around


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def grant(session: AsyncSession, *, user_id: str, kind: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        FileGrant(token_digest=_digest(token), user_id=user_id, kind=kind, expires_at=now + LINK_LIFETIME)
    )
    await session.flush()
    return token


async def redeem(session: AsyncSession, token: str, now: datetime) -> FileGrant | None:
    """The live grant for `token`, counted as one download; None when unknown or expired."""
    if not token or len(token) > 100:
        return None
    found = await session.scalar(select(FileGrant).where(FileGrant.token_digest == _digest(token)))
    if found is None or now >= found.expires_at or found.downloads >= MAX_DOWNLOADS:
        return None
    found.downloads += 1
    return found
