"""Migration 0011 re-seals the entries written before the chain was keyed (plain SHA-256 links)
with the key ring, lifting the append-only trigger for that only; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from backend import audit
from backend.crypto import KeyRing
from backend.db import create_engine, create_sessionmaker
from backend.migrate import alembic_config, upgrade_async
from backend.models import AuditEntry
from backend.models.base import UTCDateTime
from backend.settings import get_settings

POSTGRES_URL = os.environ.get("TELECARE_TEST_DATABASE_URL")
KEYED = "0011"
BEFORE = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(KEYED).down_revision
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
_LEGACY = sa.table(
    "audit_entries",
    *(
        sa.column(name)
        for name in ("event_id", "actor_id", "actor_role", "channel", "action", "resource_type")
    ),
    *(sa.column(name) for name in ("resource_id", "patient_id", "outcome", "purpose", "prev_hash", "hash")),
    sa.column("seq", sa.Integer()),
    sa.column("at", UTCDateTime()),
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_url(request, tmp_path) -> AsyncIterator[str]:
    """A database of its own, to be migrated by the test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("TELECARE_TEST_DATABASE_URL is not set")
    base = make_url(POSTGRES_URL)
    name = f"{base.database}_up_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
def keys_in_env(monkeypatch, tmp_path):
    """Point the settings the migration reads at a key ring of the test's own."""

    def use(ring: KeyRing | None) -> None:
        monkeypatch.delenv("TELECARE_KEYS_JSON", raising=False)
        monkeypatch.setenv("TELECARE_KEY_FILE", str(tmp_path / "no-keys-here.json"))
        if ring is not None:
            monkeypatch.setenv("TELECARE_KEYS_JSON", ring.to_json())
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def _legacy_rows(n: int, broken_at: int | None = None) -> list[dict]:
    """Entries as the code before 0011 wrote them: plain SHA-256 links."""
    rows, previous = [], audit.GENESIS
    for seq in range(1, n + 1):
        row = {
            "seq": seq, "event_id": uuid.uuid4().hex, "actor_id": f"u{seq}", "actor_role": "patient",
            "channel": "web", "action": "read", "resource_type": "patient_profile", "resource_id": None,
            "patient_id": f"u{seq}", "outcome": "success", "purpose": "view_profile", "prev_hash": previous,
        }  # fmt: skip
        fields = dict(row, at=(T0 + timedelta(seconds=seq)).isoformat())
        row["hash"] = hashlib.sha256(
            json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        row["at"] = T0 + timedelta(seconds=seq)
        previous = row["hash"]
        if seq == broken_at:
            row["outcome"] = "denied"  # changed after it was sealed
        rows.append(row)
    return rows


async def _old_database(url: str, rows: list[dict]) -> None:
    await upgrade_async(url, BEFORE)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            if rows:
                await conn.execute(_LEGACY.insert(), rows)
    finally:
        await engine.dispose()


async def _revision(url: str) -> str:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()


async def test_entries_from_before_are_resealed_with_the_active_key(empty_url, keys_in_env) -> None:
    ring = KeyRing.generate()
    ring.add_key()
    legacy = _legacy_rows(7)
    await _old_database(empty_url, legacy)
    keys_in_env(ring)
    await upgrade_async(empty_url, KEYED)

    engine = create_engine(empty_url)
    sessions = create_sessionmaker(engine, ring)
    try:
        async with sessions() as session:
            report = await audit.verify_chain(session, batch=3)
            assert report.ok and report.entries == 7
            entries = (await session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq))).all()
        assert {e.key_id for e in entries} == {"k2"}
        assert [(e.event_id, e.actor_id, e.at) for e in entries] == [
            (r["event_id"], r["actor_id"], r["at"]) for r in legacy
        ]  # only the links changed
        async with sessions() as session, session.begin():  # and the chain goes on from there
            entry = await audit.record(session, actor=None, action="read", resource_type="x")
        assert entry.seq == 8 and entry.prev_hash == entries[-1].hash
        with pytest.raises(DBAPIError, match="append-only"):  # the trigger is back
            async with sessions() as session, session.begin():
                await session.execute(sa.text("UPDATE audit_entries SET outcome = 'denied' WHERE seq = 2"))
    finally:
        await engine.dispose()


async def test_a_broken_chain_is_not_resealed_and_nothing_changes(empty_url, keys_in_env) -> None:
    await _old_database(empty_url, _legacy_rows(5, broken_at=3))
    keys_in_env(KeyRing.generate())
    with pytest.raises(
        audit.AuditSealError,
        match=r"already broken at entry 3 \(its contents were changed\).*nothing was changed",
    ):
        await upgrade_async(empty_url, KEYED)
    assert await _revision(empty_url) == BEFORE


async def test_resealing_without_the_keys_stops_the_migration(empty_url, keys_in_env) -> None:
    await _old_database(empty_url, _legacy_rows(2))
    keys_in_env(None)
    with pytest.raises(audit.AuditSealError, match="key ring, which is not available"):
        await upgrade_async(empty_url, KEYED)
    assert await _revision(empty_url) == BEFORE


async def test_an_empty_audit_table_needs_no_keys(empty_url, keys_in_env) -> None:
    await _old_database(empty_url, [])
    keys_in_env(None)
    await upgrade_async(empty_url, KEYED)
    assert await _revision(empty_url) == KEYED


async def test_a_key_ring_given_by_the_caller_is_used(empty_url, keys_in_env) -> None:
    """`telecare migrate` may hand Alembic the key ring it loaded (config attribute `key_ring`)."""
    import asyncio

    from alembic import command

    await _old_database(empty_url, _legacy_rows(3))
    keys_in_env(None)
    ring = KeyRing.generate()
    config = alembic_config(empty_url)
    config.attributes["key_ring"] = ring
    await asyncio.to_thread(command.upgrade, config, KEYED)
    engine = create_engine(empty_url)
    try:
        async with create_sessionmaker(engine, ring)() as session:
            report = await audit.verify_chain(session)
        assert report.ok and report.entries == 3
    finally:
        await engine.dispose()
