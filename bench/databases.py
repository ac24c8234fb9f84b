"""Throwaway databases for the benchmarks: a migrated SQLite file in a temporary directory, or a
fresh PostgreSQL database next to the one a URL names, dropped afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from backend.migrate import upgrade_async


@contextlib.asynccontextmanager
async def fresh_database(database: str, postgres_url: str, pg_name: str | None = None):
    """A migrated, empty database: a file in a temp dir, or a throwaway PostgreSQL database."""
    if database == "sqlite":
        with tempfile.TemporaryDirectory(prefix="telecare-bench-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await upgrade_async(url)
            yield url
        return
    name = pg_name or f"telecare_bench_{secrets.token_hex(4)}"
    await pg_admin(postgres_url, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        await upgrade_async(url)
        yield url
    finally:
        await pg_admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def pg_admin(postgres_url: str, statement: str) -> None:
    engine = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 10})
    try:
        async with engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text(statement)), 60)
    finally:
        await engine.dispose()


async def postgres_problem(postgres_url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        await asyncio.wait_for(pg_admin(postgres_url, "SELECT 1"), 15)
    except Exception as failure:
        return f"{type(failure).__name__}: {failure}".strip()
    return None
