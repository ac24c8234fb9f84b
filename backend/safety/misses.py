"""Messages the red-flag matcher missed, as operators record them (`telecare safety missed`), to
feed the evaluation set's development part (eval/redflags/). The words are encrypted; recording
and exporting them are audited. A miss names no patient: it is a message, not a person's record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.access import Actor
from backend.crypto import FieldCipher
from backend.models import RedFlagMiss, new_id
from backend.safety.shown import CATEGORY_NAMES

TABLE = "red_flag_misses"
CATEGORIES = tuple(CATEGORY_NAMES["en"])  # conversations.emergency.CATEGORIES (a test checks)
LANGUAGES = ("en", "hi", "hinglish")  # the evaluation set's
MAX_CHARS = 4000  # the longest message the chat takes


class MissError(ValueError):
    """A miss that cannot be recorded; the message says why, for the operator."""


@dataclass(frozen=True, slots=True)
class Miss:
    text: str
    category: str
    language: str
    at: datetime


def check(text: str, category: str, language: str) -> str:
    """The text to keep (surrounding spaces dropped), or MissError."""
    text = text.strip()
    if not text:
        raise MissError("The message is empty: give the words the matcher missed.")
    if len(text) > MAX_CHARS:
        raise MissError(f"The message is longer than {MAX_CHARS} characters, more than a chat takes.")
    if category not in CATEGORIES:
        raise MissError(f"Unknown category {category!r}; one of: {', '.join(CATEGORIES)}.")
    if language not in LANGUAGES:
        raise MissError(f"Unknown language {language!r}; one of: {', '.join(LANGUAGES)}.")
    return text


async def record(
    session: AsyncSession,
    cipher: FieldCipher,
    actor: Actor | None,
    *,
    text: str,
    category: str,
    language: str,
    at: datetime,
    channel: str | None = None,
) -> RedFlagMiss:
    """Keep one miss (MissError for bad input, before anything is written) and audit it."""
    text = check(text, category, language)
    miss = RedFlagMiss(id=new_id(), category=category, language=language, created_at=at)
    miss.text_enc = cipher.encrypt(TABLE, "text", miss.id, text)
    session.add(miss)
    await audit.record(
        session,
        actor=actor,
        action="create",
        resource_type="red_flag_miss",
        resource_id=miss.id,
        outcome=category,
        purpose="red_flag_missed",
        channel=channel,
    )
    return miss


async def all_misses(
    session: AsyncSession, cipher: FieldCipher, actor: Actor, *, channel: str | None = None
) -> list[Miss]:
    """Every miss, oldest first, with its words; the export is audited."""
    rows = await session.scalars(select(RedFlagMiss).order_by(RedFlagMiss.created_at, RedFlagMiss.id))
    misses = [
        Miss(cipher.decrypt(TABLE, "text", row.id, row.text_enc), row.category, row.language, row.created_at)
        for row in rows
    ]
    await audit.record(
        session,
        actor=actor,
        action="read",
        resource_type=TABLE,
        purpose="export_misses",
        channel=channel,
    )
    return misses
