"""Migration 0009 seals the chat addresses already stored in clear (SQLite and PostgreSQL): every
row keeps its address, readable with the keys and found by its blind index; nothing that refers to
an identity is lost on the way; no clear copy stays behind; and it goes back down."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from backend.accounts.chats import address_index, address_of
from backend.accounts.service import identity_for
from backend.crypto import FieldCipher, KeyRing, blind_index
from backend.db import create_engine, create_sessionmaker
from backend.migrate import alembic_config, upgrade_async
from backend.models import ChannelIdentity, OtpChallenge, OutboundMessage
from backend.models.base import UTCDateTime, new_id, utcnow
from backend.settings import get_settings
from tests.bot.test_addresses_at_rest import _forms, _leaks

REVISION = "0009"
BEFORE = ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(REVISION).down_revision
NUMBER = "+919812345678"
CHAT_ID = "8123456789"
WEB = hashlib.sha256(b"a session token").hexdigest()
CHATS = {"whatsapp": NUMBER, "telegram": CHAT_ID, "web": WEB}


def _table(name: str, *columns: str, **typed) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in columns), *(sa.column(c, t) for c, t in typed.items()))


async def _seed_clear_rows(url: str) -> dict[str, str]:
    """What an older telecare wrote: a user with a chat on each channel (each with a conversation
    and, on WhatsApp, a stored file), sent messages and an OTP challenge. {channel: identity id}."""
    now = utcnow()
    user_id = new_id()
    identities = {channel: new_id() for channel in CHATS}
    stamp = {"created_at": UTCDateTime()}
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(_table("users", "id", "role", "locale", "timezone", "active", **stamp)),
                [
                    {"id": user_id, "role": "patient", "locale": "en", "timezone": "UTC", "active": True}
                    | {"created_at": now}
                ],
            )
            await conn.execute(
                sa.insert(
                    _table("channel_identities", "id", "channel", "address", "user_id", "muted", **stamp)
                ),
                [
                    {
                        "id": identities[c],
                        "channel": c,
                        "address": a,
                        "user_id": user_id,
                        "muted": False,
                        "created_at": now,
                    }
                    for c, a in CHATS.items()
                ],
            )
            await conn.execute(
                sa.insert(
                    _table(
                        "conversations",
                        "id",
                        "identity_id",
                        "flow",
                        "step",
                        "version",
                        updated_at=UTCDateTime(),
                    )
                ),
                [
                    {
                        "id": new_id(),
                        "identity_id": i,
                        "flow": "menu",
                        "step": "home",
                        "version": 1,
                        "updated_at": now,
                    }
                    for i in identities.values()
                ],
            )
            await conn.execute(
                sa.insert(
                    _table(
                        "stored_files",
                        "id",
                        "identity_id",
                        "channel",
                        "platform_file_id",
                        "content_type",
                        "size",
                        "filename_enc",
                        "content_enc",
                        **stamp,
                    )
                ),
                [
                    {
                        "id": new_id(),
                        "identity_id": identities["whatsapp"],
                        "channel": "whatsapp",
                        "platform_file_id": "ME1",
                        "content_type": "image/png",
                        "size": 1,
                        "filename_enc": b"x",
                        "content_enc": b"x",
                        "created_at": now,
                    }
                ],
            )
            await conn.execute(
                sa.insert(
                    _table(
                        "outbound_messages",
                        "id",
                        "channel",
                        "address",
                        "sid",
                        "kind",
                        "status",
                        "status_rank",
                        "fallback_sent",
                        updated_at=UTCDateTime(),
                        created_at=UTCDateTime(),
                    )
                ),
                [
                    {
                        "id": new_id(),
                        "channel": "whatsapp",
                        "address": NUMBER,
                        "sid": f"SM{n:032d}",
                        "kind": "text",
                        "status": "delivered",
                        "status_rank": 4,
                        "fallback_sent": False,
                        "updated_at": now,
                        "created_at": now,
                    }
                    for n in range(3)
                ],
            )
            await conn.execute(
                sa.insert(
                    _table(
                        "otp_challenges",
                        "id",
                        "purpose",
                        "destination_kind",
                        "destination_bidx",
                        "chat_key",
                        "code_digest",
                        "attempts",
                        expires_at=UTCDateTime(),
                        created_at=UTCDateTime(),
                    )
                ),
                [
                    {
                        "id": new_id(),
                        "purpose": "signup",
                        "destination_kind": "email",
                        "destination_bidx": "b" * 64,
                        "chat_key": f"whatsapp:{NUMBER}",
                        "code_digest": "d" * 64,
                        "attempts": 0,
                        "expires_at": now,
                        "created_at": now,
                    }
                ],
            )
    finally:
        await engine.dispose()
    return identities


async def _downgrade(url: str, revision: str, ring: KeyRing) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url, ring), revision)


async def _count(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
    finally:
        await engine.dispose()


async def test_clear_addresses_are_sealed_indexed_and_kept(database_url: str, key_ring: KeyRing) -> None:
    cipher = FieldCipher(key_ring)
    try:
        await _downgrade(database_url, BEFORE, key_ring)
        identities = await _seed_clear_rows(database_url)
        await upgrade_async(database_url, key_ring=key_ring)

        engine = create_engine(database_url)
        sessions = create_sessionmaker(engine)
        try:
            async with sessions() as session, session.begin():
                for channel, address in CHATS.items():
                    found = await identity_for(session, cipher, channel, address)
                    assert found.id == identities[channel], "found by its index, not created again"
                    assert address_of(cipher, found) == address
                    assert found.address_bidx == address_index(key_ring, channel, address)
                outbound = (await session.scalars(sa.select(OutboundMessage))).all()
                challenge = await session.scalar(sa.select(OtpChallenge))
                assert await session.scalar(sa.select(sa.func.count()).select_from(ChannelIdentity)) == 3
            assert [address_of(cipher, row) for row in outbound] == [NUMBER] * 3
            assert challenge.chat_key == blind_index(key_ring, "otp_chat", f"whatsapp:{NUMBER}")
        finally:
            await engine.dispose()
        # SQLite rebuilds a table to drop a column: that must not empty the tables that refer to it.
        assert await _count(database_url, "conversations") == 3
        assert await _count(database_url, "stored_files") == 1
        # No clear copy left: not in a column, a free page, the write-ahead log or a dead tuple.
        assert await _leaks(database_url, [*_forms(NUMBER[3:]), *_forms(CHAT_ID)]) == []

        await _downgrade(database_url, BEFORE, key_ring)
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(sa.text("SELECT channel, address FROM channel_identities"))
                assert dict(rows.all()) == CHATS, "and back down, with the keys"
        finally:
            await engine.dispose()
    finally:
        await upgrade_async(database_url, key_ring=key_ring)  # PostgreSQL's schema is shared by the run


async def test_without_keys_clear_rows_are_refused_with_a_reason(
    database_url, key_ring, monkeypatch, tmp_path
):
    monkeypatch.delenv("TELECARE_KEYS_JSON", raising=False)
    monkeypatch.setenv("TELECARE_KEY_FILE", str(tmp_path / "missing-keys.json"))
    get_settings.cache_clear()
    try:
        await _downgrade(database_url, BEFORE, key_ring)
        await _seed_clear_rows(database_url)
        with pytest.raises(
            RuntimeError, match="encrypts the chat addresses already stored: it needs the key ring"
        ):
            await upgrade_async(database_url)
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                kept = await conn.scalar(
                    sa.text("SELECT count(*) FROM channel_identities WHERE address <> ''")
                )
        finally:
            await engine.dispose()
        assert kept == 3, "nothing changed"
    finally:
        get_settings.cache_clear()
        await upgrade_async(database_url, key_ring=key_ring)
