"""An update that cannot be handled is answered once, in the chat's own language, without
creating a chat for it."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.models import ChannelIdentity
from tests.notifications.helpers import make_user


async def test_a_known_chat_is_told_in_its_language(engine, sessions, caplog):
    async with sessions() as session, session.begin():
        await make_user(session, locale="hi", chats=(("telegram", "777"),))
    english = await engine.apology("telegram", "999", "message_unusable")
    hindi = await engine.apology("telegram", "777", "message_unusable")
    assert english[0].text != hindi[0].text
    assert any("\u0900" <= ch <= "\u097f" for ch in hindi[0].text), "Devanagari: the user's Hindi"
    assert "apology_locale_failed" not in caplog.text


async def test_an_unknown_chat_gets_english_and_no_chat_is_created(engine, sessions):
    replies = await engine.apology("whatsapp", "whatsapp:+919800000001", "message_unusable")
    assert replies and replies[0].text
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChannelIdentity)) == 0
