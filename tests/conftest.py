"""Shared fixtures. Database tests run on SQLite and, when TELECARE_TEST_DATABASE_URL is set,
on PostgreSQL too (CI sets it). Each test starts from an empty, fully migrated schema."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from backend.crypto import FieldCipher, KeyRing
from backend.db import create_engine, create_sessionmaker
from backend.migrate import upgrade
from backend.settings import Environment, Settings
from tests.chat import ChatDriver, RecordingOtpSender
from tests.keys import TEST_RING

POSTGRES_URL = os.environ.get("TELECARE_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def key_ring() -> KeyRing:
    return TEST_RING  # two keys from the start: k1 (old) and k2 (active)


@pytest.fixture
def cipher(key_ring: KeyRing) -> FieldCipher:
    return FieldCipher(key_ring)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for every test (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    """A fresh database for this run, next to the one TELECARE_TEST_DATABASE_URL names (so that
    two runs on one server never share tables), migrated once and dropped at the end."""
    import asyncio
    import uuid

    from sqlalchemy.engine import make_url

    base = make_url(POSTGRES_URL)
    name = f"{base.database}_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        engine = create_async_engine(base, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(statement))
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=_BACKENDS)
def database_url(request, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "telecare.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    if not POSTGRES_URL:
        pytest.skip("TELECARE_TEST_DATABASE_URL is not set")
    url = request.getfixturevalue("postgres_migrated")
    _truncate_postgres(url)
    return url


def _truncate_postgres(url: str) -> None:
    import asyncio

    async def truncate() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            tables = (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            names = ", ".join(f'"{name}"' for name in tables)
            if names:
                # TRUNCATE is not a row-level UPDATE/DELETE, so the audit table's trigger allows it.
                await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(truncate())


@pytest.fixture
async def sessions(database_url: str, key_ring: KeyRing) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine, key_ring)
    finally:
        await engine.dispose()


@pytest.fixture
def in_db(database_url: str, key_ring: KeyRing):
    """Run `work(session_factory)` on a fresh event loop with its own engine, for synchronous
    tests (TestClient): pooled asyncpg connections cannot cross event loops."""
    import asyncio

    def run(work):
        async def main():
            engine = create_engine(database_url)
            try:
                return await work(create_sessionmaker(engine, key_ring))
            finally:
                await engine.dispose()

        return asyncio.run(main())

    return run


@pytest.fixture
def settings(database_url: str, key_ring: KeyRing, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        env=Environment.DEVELOPMENT,
        database_url=database_url,
        keys_json=key_ring.to_json(),
        audit_head_file=tmp_path / "audit-heads.log",
        public_base_url="http://testserver",
    )


@pytest.fixture
def otp_sender() -> RecordingOtpSender:
    return RecordingOtpSender()


@pytest.fixture
def gateways(settings, cipher):
    """The payment gateways the settings ask for (the built-in sandbox by default)."""
    from backend.payments import build_gateways

    return build_gateways(settings, cipher)


@pytest.fixture
def engine(sessions, cipher, settings, otp_sender, gateways):
    from conversations.engine import Engine

    return Engine(sessions, cipher, settings, otp_sender, gateways=gateways)


@pytest.fixture
def chat(engine, otp_sender) -> ChatDriver:
    return ChatDriver(engine, otp_sender, channel="web", chat_id="chat-a")
