"""Migration 0015 on SQLite and PostgreSQL: it adds `red_flags` and `red_flag_misses` and takes
them away again, leaving the rest; flags are written and read back through the field cipher, and
a user's flags go with the user."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select

from backend.migrate import upgrade_async
from backend.models import Conversation, RedFlag, User
from backend.safety import flags
from tests.backend.test_migrations import HEAD, downgrade, schema_differences, state
from tests.notifications.helpers import make_user

AT = datetime(2031, 6, 2, 6, 30, tzinfo=UTC)


async def test_0015_adds_the_two_tables_and_takes_them_away(database_url: str) -> None:
    try:
        await downgrade(database_url, "0014")
        tables, revision, _ = await state(database_url)
        assert revision == "0014"
        assert not tables & {"red_flags", "red_flag_misses"} and "appointments" in tables
    finally:
        await upgrade_async(database_url)  # PostgreSQL's schema is shared by the run
    tables, revision, _ = await state(database_url)
    assert revision == HEAD and {"red_flags", "red_flag_misses"} <= tables
    assert await schema_differences(database_url) == []


async def test_a_flag_is_sealed_read_back_and_goes_with_its_user(sessions, cipher) -> None:
    async with sessions() as session, session.begin():
        user = await make_user(session)
        for user_id in (user.id, None):
            await flags.record(
                session,
                cipher,
                actor=None,
                user_id=user_id,
                conversation_id=None,
                channel="whatsapp",
                category="stroke",
                history=user_id is None,
                at=AT,
            )
    async with sessions() as session:
        rows = (await session.scalars(select(RedFlag).order_by(RedFlag.history))).all()
        assert [(flags.category_of(cipher, r), r.history, r.user_id, r.created_at) for r in rows] == [
            ("stroke", False, user.id, AT),
            ("stroke", True, None, AT),
        ]
        assert all(b"stroke" not in r.category_enc for r in rows)
    async with sessions() as session, session.begin():
        await session.execute(delete(Conversation))
        await session.execute(delete(User).where(User.id == user.id))
    async with sessions() as session:
        assert [r.user_id for r in await session.scalars(select(RedFlag))] == [None], "erased with the user"
