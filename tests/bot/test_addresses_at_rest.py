"""No phone number or chat id in clear at rest: a WhatsApp signup and a Telegram signup through
their webhooks, each followed by a notification, leave no byte sequence of the number or chat id
in the database (SQLite: the file, its -wal and -shm, which with their folder are the owner's
only; PostgreSQL: every row of every table)."""

from __future__ import annotations

import asyncio
import os
import stat
import struct
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from backend.accounts.chats import address_of
from backend.db import SQLITE_COMPANIONS, create_engine
from backend.migrate import upgrade
from backend.models import ChannelIdentity, OutboundMessage, OutboxMessage
from bot.app import create_app
from tests.bot.test_telegram_e2e import Harness as TelegramHarness
from tests.bot.test_telegram_e2e import _telegram_settings
from tests.bot.test_whatsapp_e2e import CONTENT, Harness, _harness, _outbox_row, _sign_up, serving
from tests.chat import RecordingOtpSender
from tests.conftest import POSTGRES_URL, _truncate_postgres
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.keys import run_cipher
from tests.notifications.helpers import nudge_through_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:twilio")

NUMBER = "+919812345678"
CHAT_ID = 8_123_456_789  # Telegram ids have up to 52 bits: this one needs more than 32


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path: Path):
    """SQLite: a database created by the app itself in a new var/ folder (not a copy of the
    template), under the usual umask 022, with which files used to come out 0644."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("TELECARE_TEST_DATABASE_URL is not set")
        url = request.getfixturevalue("postgres_migrated")
        _truncate_postgres(url)
        yield url
        return
    umask = os.umask(0o022)
    try:
        url = f"sqlite+aiosqlite:///{tmp_path}/var/telecare.db"
        upgrade(url)
        yield url
    finally:
        os.umask(umask)


def _forms(value: str, *integer: int) -> list[bytes]:
    """Every spelling of `value` worth looking for: UTF-8, UTF-16 both ways, and an integer's
    big-endian 6- and 8-byte forms (how SQLite stores a 48- or 64-bit INTEGER)."""
    found = [value.encode(), value.encode("utf-16-le"), value.encode("utf-16-be")]
    for number in integer:
        found += [number.to_bytes(6, "big"), struct.pack(">q", number)]
    return found


async def _leaks(database_url: str, forms: list[bytes]) -> list[str]:
    """Where any of `forms` occurs at rest: file names (SQLite), or tables (PostgreSQL)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        files = [path, *(Path(f"{path}{suffix}") for suffix in SQLITE_COMPANIONS)]
        return [
            f"{file.name}: {form!r}"
            for file in files
            if file.exists()
            for form in forms
            if form in file.read_bytes()
        ]
    leaks = []
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            tables = (
                await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            ).scalars()
            for table in list(tables):
                # A row as text shows bytea as hex: look for both spellings. (Names from pg_tables.)
                query = f'SELECT CAST(t AS text) FROM "{table}" AS t'  # noqa: S608
                rows = (await conn.execute(text(query))).scalars()
                dump = "\n".join(rows)
                leaks += [f"{table}: {form!r}" for form in forms if form.decode("latin-1") in dump]
                leaks += [f"{table}: hex {form!r}" for form in forms if form.hex() in dump]
    finally:
        await engine.dispose()
    return leaks


def _assert_private_files(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return
    path = Path(url.database)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, "var/ is the owner's only"
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    assert wal.exists() and shm.exists(), "checked while the app has the database open"
    for file in (path, wal, shm):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, f"{file.name} is the owner's only"


@pytest.fixture
async def twilio():
    async with FakeTwilio(content=CONTENT) as server:
        yield server


async def test_a_whatsapp_signup_and_a_notification_leave_no_trace_of_the_number(
    settings, twilio, database_url
):
    app, base = await _harness(settings, twilio)
    async with serving(app, int(base.rsplit(":", 1)[1])), app.router.lifespan_context(app):
        harness = Harness(twilio, app, base, base)
        asha = harness.user(NUMBER)
        await _sign_up(asha)
        row_id = await nudge_through_app(app, "at-rest:1")
        row = await _outbox_row(harness, row_id, lambda r: r.delivery_status == "delivered")
        assert row.channel == "whatsapp"
        async with app.state.sessions() as session:
            identity = await session.scalar(select(ChannelIdentity))
            outbound = (await session.scalars(select(OutboundMessage))).all()
        # What the app needs it can still read, through the key ring.
        assert address_of(run_cipher(), identity) == NUMBER
        assert len(outbound) >= 8 and {address_of(run_cipher(), o) for o in outbound} == {NUMBER}
        forms = [*_forms(NUMBER[1:]), f"whatsapp:{NUMBER}".encode(), NUMBER.encode(), NUMBER[3:].encode()]
        forms += _forms(NUMBER[3:])
        assert await _leaks(database_url, forms) == []
        _assert_private_files(database_url)
    assert await _leaks(database_url, forms) == [], "nor once the app has closed the database"


@pytest.fixture
async def telegram():
    async with FakeTelegram(
        per_chat_rate=200, per_chat_burst=50, per_bot_rate=1000, per_bot_burst=200
    ) as server:
        yield server


async def test_a_telegram_signup_and_a_notification_leave_no_trace_of_the_chat_id(
    settings, telegram, database_url
):
    app = create_app(settings, _telegram_settings(telegram))
    otp = RecordingOtpSender()
    app.state.engine.otp_sender = otp
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            ravi = TelegramHarness(telegram, app, http, otp).user(CHAT_ID)
            await ravi.up_to_contact("Ravi Kumar", "01-02-1985", "Male")
            await ravi.say("ravi@example.com")  # an OTP challenge bound to this chat
            await ravi.say(otp.last_code())
            await ravi.press("English")
            await ravi.press("Kolkata")
            assert "You're all set" in ravi.text()
            row_id = await nudge_through_app(app, "at-rest:2")
            for _ in range(200):
                async with app.state.sessions() as session:
                    row = await session.get(OutboxMessage, row_id)
                if row.channel == "telegram":
                    break
                await app.state.telegram.idle()
                app.state.dispatcher.wake()
                await asyncio.sleep(0.02)
            assert row.channel == "telegram", "the notification went to the Telegram chat"
            assert await _leaks(database_url, _forms(str(CHAT_ID), CHAT_ID)) == []
            _assert_private_files(database_url)
