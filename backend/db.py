"""Async engine and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from backend.crypto import KeyRing

KEY_RING = "key_ring"  # the session.info entry that holds the key ring


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_sqlite_file(database: str) -> None:
    """The database file (contact details, health data, even if encrypted) is the owner's only.

    Created here, empty, with mode 0600 and in a folder made 0700 (`os.open`'s mode: no window in
    which it is readable by others, and no process-wide umask to change under other threads);
    SQLite then gives its -wal, -shm and -journal files the database file's own mode. A file
    or companion left wider by an older version is narrowed."""
    path = Path(database)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # an empty file is an empty database
    for existing in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_COMPANIONS)):
        try:
            if stat.S_IMODE(existing.stat().st_mode) & 0o077:
                existing.chmod(0o600)
        except OSError:  # gone meanwhile, or not ours to change: creation above is the guarantee
            continue


def create_engine(url: str, *, foreign_keys: bool = True) -> AsyncEngine:
    """`foreign_keys=False` only for migrations: SQLite alters a table by copying it, and dropping
    the old copy would otherwise run the ON DELETE actions of the tables that reference it."""
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True)

    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        private_sqlite_file(database)
    # One connection: SQLite has one writer anyway, and every transaction begins IMMEDIATE. With
    # more connections the waiters sleep in SQLite's busy handler (1, 2, 5 … 100 ms naps, not first
    # come first served) while the lock sits free; with one they queue in the pool, in order.
    # Measured: webhook p99 with 5 Telegram users 654 → 49 ms. The price: code must never open a
    # second session while it holds one (it would wait for itself; pool_timeout turns that into
    # an error rather than a hang).
    engine = create_async_engine(
        url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=30
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take over transaction control from the driver so that we can BEGIN IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        # SQLite has one writer. Taking the write lock at BEGIN makes concurrent transactions
        # queue (busy_timeout) instead of failing half-way with "database is locked", and keeps
        # read-then-write sequences such as the audit hash chain consistent.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_sessionmaker(
    engine: AsyncEngine, key_ring: KeyRing | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions that carry the key ring (in `session.info`) can append to the audit chain and
    check it; without one, `backend.audit` refuses to."""
    info = {KEY_RING: key_ring} if key_ring is not None else {}
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits on success, rolls back on any exception."""
    async with sessions() as session, session.begin():
        yield session
