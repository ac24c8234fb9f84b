"""Admin API tokens expire (pinned clock), record their last use, and say why they fail; links
granted to a token die with it; links are bound to the channel or user they were made for."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from backend.access import Actor
from backend.crypto import KeyRing
from backend.files import service as files
from backend.models import AdminToken, FileGrant, Role, User, new_id
from backend.providers import admin_tokens

T0 = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)


async def _user(session, role: Role, name: str | None = None) -> User:
    user = User(id=new_id(), role=role, display_name=name)
    session.add(user)
    await session.flush()
    return user


async def test_a_token_works_until_it_expires_and_records_its_last_use(sessions):
    async with sessions() as session, session.begin():
        admin = await _user(session, Role.ADMIN, "Admin Ravi")
        issued = await admin_tokens.create(session, user_id=admin.id, name="ops", now=T0, days=7)
        assert issued.expires_at == T0 + timedelta(days=7)
        used = T0 + timedelta(days=6, hours=23)
        checked = await admin_tokens.check(session, issued.token, now=used)
        assert checked.actor == Actor(admin.id, Role.ADMIN) and checked.refusal is None
        row = await session.get(AdminToken, issued.id)
        assert row.last_used_at == used
        expired = await admin_tokens.check(session, issued.token, now=T0 + timedelta(days=7))
        assert expired.actor is None and expired.refusal is admin_tokens.Refusal.EXPIRED
        assert expired.token_id == issued.id
        assert row.last_used_at == used, "a refused use is not a use"


async def test_the_default_lifetime_is_thirty_days_and_bad_lifetimes_are_refused(sessions):
    async with sessions() as session, session.begin():
        admin = await _user(session, Role.ADMIN)
        issued = await admin_tokens.create(session, user_id=admin.id, name="ops", now=T0)
        assert issued.expires_at == T0 + timedelta(days=30)
        for days in (0, -1, 366):
            with pytest.raises(admin_tokens.TokenError, match="1 to 365 days"):
                await admin_tokens.create(session, user_id=admin.id, name="ops", now=T0, days=days)


async def test_refusals_say_why_revoked_unknown_and_demoted(sessions):
    async with sessions() as session, session.begin():
        admin = await _user(session, Role.ADMIN)
        issued = await admin_tokens.create(session, user_id=admin.id, name="ops", now=T0)
        assert (await admin_tokens.check(session, "tca_nope", now=T0)).refusal is admin_tokens.Refusal.UNKNOWN
        assert await admin_tokens.revoke(session, issued.id, now=T0) is True
        revoked = await admin_tokens.check(session, issued.token, now=T0)
        assert revoked.refusal is admin_tokens.Refusal.REVOKED and revoked.token_id == issued.id
        other = await admin_tokens.create(session, user_id=admin.id, name="two", now=T0)
        admin.role = Role.PATIENT
        demoted = await admin_tokens.check(session, other.token, now=T0)
        assert demoted.refusal is admin_tokens.Refusal.NOT_ADMIN


async def test_the_list_shows_owner_expiry_last_use_and_state(sessions):
    async with sessions() as session, session.begin():
        admin = await _user(session, Role.ADMIN, "Admin Ravi")
        live = await admin_tokens.create(session, user_id=admin.id, name="live", now=T0, days=30)
        short = await admin_tokens.create(session, user_id=admin.id, name="short", now=T0, days=1)
        gone = await admin_tokens.create(session, user_id=admin.id, name="gone", now=T0)
        await admin_tokens.check(session, live.token, now=T0 + timedelta(hours=1))
        await admin_tokens.revoke(session, gone.id, now=T0 + timedelta(hours=2))
    async with sessions() as session:
        listed = {t.name: t for t in await admin_tokens.list_tokens(session)}
    later = T0 + timedelta(days=2)
    assert listed["live"].owner == "Admin Ravi" and listed["live"].expires_at == T0 + timedelta(days=30)
    assert listed["live"].last_used_at == T0 + timedelta(hours=1)
    assert listed["live"].state(later) == "live"
    assert listed["short"].state(later) == "expired" and listed["short"].id == short.id
    assert listed["gone"].state(later) == "revoked 2031-03-10T14:00:00+00:00"


# --- links -----------------------------------------------------------------------------------------


def _browser(user: User | None) -> files.Opener:
    actor = Actor(user.id, user.role) if user else None
    return files.Opener(files.Opening.BROWSER, "web", actor)


async def test_a_chat_link_opens_in_a_browser_signed_in_as_its_user_only(sessions):
    async with sessions() as session, session.begin():
        asha = await _user(session, Role.PATIENT)
        ravi = await _user(session, Role.PATIENT)
        token = await files.grant(session, user_id=asha.id, kind="profile_summary", now=T0, channel="web")
        for who in (None, ravi):
            refused = await files.redeem(session, token, T0, _browser(who))
            assert refused.refusal is files.Refusal.NOT_YOURS and refused.grant is not None
        assert (await files.redeem(session, token, T0, _browser(asha))).refusal is None
        expired = await files.redeem(session, token, T0 + files.LINK_LIFETIME, _browser(asha))
        assert expired.refusal is files.Refusal.EXPIRED
        unknown = await files.redeem(session, token + "x", T0, _browser(asha))
        assert unknown.refusal is files.Refusal.UNKNOWN and unknown.grant is None


async def test_in_process_rendering_opens_only_links_of_its_own_channel(sessions):
    async with sessions() as session, session.begin():
        asha = await _user(session, Role.PATIENT)
        telegram = await files.grant(
            session, user_id=asha.id, kind="profile_summary", now=T0, channel="telegram"
        )
        web = await files.grant(session, user_id=asha.id, kind="profile_summary", now=T0, channel="web")
        renderer = files.Opener(files.Opening.IN_PROCESS, "telegram")
        assert (await files.redeem(session, telegram, T0, renderer)).refusal is None
        assert (await files.redeem(session, web, T0, renderer)).refusal is files.Refusal.NOT_YOURS


async def test_a_whatsapp_media_fetch_is_signed_short_lived_and_single_use(sessions, key_ring):
    media = files.Opener(files.Opening.MEDIA, "whatsapp")
    async with sessions() as session, session.begin():
        asha = await _user(session, Role.PATIENT)
        token = await files.grant(
            session, user_id=asha.id, kind="profile_summary", now=T0, channel="whatsapp"
        )
        web = await files.grant(session, user_id=asha.id, kind="profile_summary", now=T0, channel="web")
        assert (await files.redeem(session, web, T0, media)).refusal is files.Refusal.NOT_YOURS
        assert (await files.redeem(session, token, T0, media)).refusal is None
        again = await files.redeem(session, token, T0, media)
        assert again.refusal is files.Refusal.USED_UP
        assert (await session.get(FileGrant, again.grant.id)).media_fetched_at == T0
    signed = files.media_query(key_ring, token, T0)
    assert files.media_query_valid(key_ring, token, signed, T0 + timedelta(minutes=4))
    assert not files.media_query_valid(key_ring, token, signed, T0 + files.MEDIA_LIFETIME)
    assert not files.media_query_valid(key_ring, web, signed, T0), "bound to its token"
    until, _, signature = signed.partition(".")
    assert not files.media_query_valid(key_ring, token, f"{int(until) + 3600}.{signature}", T0)
    assert not files.media_query_valid(KeyRing.generate(), token, signed, T0), "our key only"
    assert not files.media_query_valid(key_ring, token, "garbage", T0)


async def test_a_link_granted_to_an_admin_token_dies_with_it(sessions):
    async with sessions() as session, session.begin():
        admin = await _user(session, Role.ADMIN)
        short = await admin_tokens.create(
            session, user_id=admin.id, name="short", now=T0 - timedelta(days=1), days=1
        )
        issued = await admin_tokens.create(session, user_id=admin.id, name="ops", now=T0)
        links = [
            await files.grant(
                session, user_id=admin.id, kind="pdoc:x", now=T0, channel="api", admin_token_id=token.id
            )
            for token in (issued, issued, short)
        ]
        api_client = replace(_browser(None), admin_token_id=issued.id)  # a script with its token
        minute = T0 + timedelta(minutes=1)
        assert (
            await files.redeem(session, links[0], minute, _browser(None))
        ).refusal is files.Refusal.NOT_YOURS
        assert (await files.redeem(session, links[0], minute, api_client)).refusal is None
        await admin_tokens.revoke(session, issued.id, now=minute)
        assert (await files.redeem(session, links[1], minute, api_client)).refusal is files.Refusal.TOKEN_DEAD
        # `short` was made a day before T0 for one day: expired at T0, its fresh link with it.
        assert (await files.redeem(session, links[2], minute, api_client)).refusal is files.Refusal.TOKEN_DEAD


# --- the migration -------------------------------------------------------------------------------


async def test_migration_gives_existing_tokens_the_default_lifetime_from_creation(database_url):
    import asyncio

    import sqlalchemy as sa
    from alembic import command
    from alembic.script import ScriptDirectory

    from backend.db import create_engine
    from backend.migrate import alembic_config, upgrade_async
    from backend.models.base import UTCDateTime

    config = alembic_config(database_url)
    before = ScriptDirectory.from_config(config).get_revision("0012").down_revision
    tokens = sa.table(
        "admin_tokens",
        *(sa.column(name, sa.String) for name in ("id", "name", "token_digest", "user_id")),
        sa.column("created_at", UTCDateTime()),
    )
    created = T0 - timedelta(days=3)
    try:
        await asyncio.to_thread(command.downgrade, config, before)
        engine = create_engine(database_url)
        try:
            async with engine.begin() as conn:
                user_id = new_id()
                await conn.execute(
                    User.__table__.insert().values(
                        id=user_id, role=Role.ADMIN, locale="en", timezone="UTC", active=True, created_at=T0
                    )
                )
                await conn.execute(
                    tokens.insert().values(
                        id="t1", name="old", token_digest="d" * 64, user_id=user_id, created_at=created
                    )
                )
        finally:
            await engine.dispose()
    finally:
        await upgrade_async(database_url)  # PostgreSQL's schema is shared by the run: back to head
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(AdminToken.__table__.c.expires_at))).one()
    finally:
        await engine.dispose()
    assert row.expires_at == created + timedelta(days=30)
