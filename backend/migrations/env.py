"""Alembic environment: runs the migrations on the async engine, SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import context

from backend.db import create_engine
from backend.models import Base
from backend.settings import get_settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            _check_foreign_keys(connection)


def _check_foreign_keys(connection) -> None:
    """Migrations run with SQLite's foreign keys off (see create_engine): prove they still hold."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left {len(broken)} rows with broken foreign keys, first: {broken[0]}")


async def _run_online() -> None:
    # Foreign keys off: SQLite alters a table by copying it, and dropping the old copy must not run
    # the ON DELETE actions of the tables that reference it (it would empty them).
    engine = create_engine(_url(), foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
