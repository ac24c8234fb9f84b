"""Running Alembic from code (the CLI, `make run`, the tests).

Some migrations convert data that must be encrypted (0009: chat addresses). They get the key ring
from the caller (`upgrade(..., key_ring=)`, which `telecare migrate` passes), else from the
settings; only a database that actually has such rows needs one."""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from backend.crypto import FieldCipher, KeyMaterialError, KeyRing, load_key_ring
from backend.db import is_sqlite

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
KEY_RING = "key_ring"  # the Config.attributes entry a migration reads the key ring from
# Set by a migration that overwrote clear values: the tables whose old copies must be scrubbed.
SCRUB = "scrub_tables"


def alembic_config(database_url: str, key_ring: KeyRing | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if key_ring is not None:
        config.attributes[KEY_RING] = key_ring
    return config


def upgrade(database_url: str, revision: str = "head", key_ring: KeyRing | None = None) -> None:
    config = alembic_config(database_url, key_ring)
    command.upgrade(config, revision)
    if config.attributes.get(SCRUB):
        scrub(database_url, sorted(config.attributes[SCRUB]))


def scrub(database_url: str, tables: list[str]) -> None:
    """After clear values were overwritten: rewrite the database so that no old copy of them is
    left in free pages or the write-ahead log. Outside the migration's transaction, which neither
    VACUUM allows."""
    if is_sqlite(database_url):
        import sqlite3

        connection = sqlite3.connect(make_url(database_url).database, timeout=30, isolation_level=None)
        try:
            connection.execute("VACUUM")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
        return

    async def vacuum() -> None:
        engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                for table in tables:
                    await connection.exec_driver_sql(f'VACUUM FULL "{table}"')
        finally:
            await engine.dispose()

    asyncio.run(vacuum())


async def upgrade_async(database_url: str, revision: str = "head", key_ring: KeyRing | None = None) -> None:
    """env.py runs its own event loop, so from async code run it in a worker thread."""
    await asyncio.to_thread(upgrade, database_url, revision, key_ring)


def migration_key_ring(config: Config) -> KeyRing:
    """The key ring for a migration that changes stored data: the one the caller passed, else the
    one the settings name. Raises KeyMaterialError when there is none."""
    ring = config.attributes.get(KEY_RING)
    if ring is not None:
        return ring
    from backend.settings import get_settings

    settings = get_settings()
    return load_key_ring(settings.key_file, settings.keys_json)


def migration_cipher(config: Config, why: str) -> FieldCipher:
    """The cipher for a migration that encrypts existing rows. Fails with a clear message when
    there is no key ring."""
    try:
        return FieldCipher(migration_key_ring(config))
    except KeyMaterialError as exc:
        raise RuntimeError(f"{why}: it needs the key ring ({exc})") from exc


@cache
def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
