"""Migrations produce exactly the models' schema, and go down and up again. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from backend.db import create_engine
from backend.migrate import alembic_config, upgrade_async
from backend.models import Base

HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def schema_differences(url: str) -> list:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()


async def state(url: str) -> tuple[set[str], str | None, set[str]]:
    """(tables, alembic revision, audit triggers)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
            revision = None
            if "alembic_version" in tables:
                revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            if conn.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'"
            else:
                query = (
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                    "AND tgrelid = 'public.audit_entries'::regclass"
                    if "audit_entries" in tables
                    else "SELECT 'x' WHERE false"
                )
            triggers = set((await conn.execute(text(query))).scalars())
            return tables, revision, triggers
    finally:
        await engine.dispose()


async def downgrade(url: str, revision: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    assert await schema_differences(database_url) == []
    tables, revision, triggers = await state(database_url)
    assert revision == HEAD
    assert set(Base.metadata.tables) <= tables
    assert triggers  # the append-only trigger(s) exist


async def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    try:
        await downgrade(database_url, "0001")
        tables, revision, triggers = await state(database_url)
        assert revision == "0001"
        assert "file_grants" not in tables and "audit_entries" in tables
        assert triggers == set()

        await downgrade(database_url, "base")
        tables, revision, _ = await state(database_url)
        assert tables - {"alembic_version"} == set()
        assert revision is None
    finally:
        # PostgreSQL's schema is shared by the whole run: always come back to head.
        await upgrade_async(database_url)

    tables, revision, triggers = await state(database_url)
    assert revision == HEAD
    assert triggers
    assert await schema_differences(database_url) == []

    # The re-created trigger works.
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO audit_entries (seq, event_id, at, action, resource_type, outcome, prev_hash, hash) "
                    "VALUES (1, 'e1', CURRENT_TIMESTAMP, 'a', 'r', 'success', 'p', 'h')"
                )
            )
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM audit_entries"))
    finally:
        await engine.dispose()


async def test_upgrade_is_idempotent(database_url: str) -> None:
    await upgrade_async(database_url)
    _, revision, _ = await state(database_url)
    assert revision == HEAD
    assert await schema_differences(database_url) == []
