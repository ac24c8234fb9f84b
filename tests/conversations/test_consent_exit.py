"""The consent question links to the terms, and "I do not agree" is never a dead end: it says
what declining means and offers to read the terms, agree after all, or leave."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.models import User
from tests.chat import ChatDriver


async def at_consent(chat: ChatDriver) -> None:
    await chat.open()
    await chat.tap("sign up")
    assert "Before we start, please read and agree" in chat.text()


async def test_the_consent_question_links_to_the_terms_page(chat: ChatDriver, settings):
    await at_consent(chat)
    assert f"The full terms, to read or keep: {settings.public_base_url}/terms?lang=en" in chat.text()


async def test_declining_says_what_it_means_and_offers_every_way_on(chat: ChatDriver, sessions):
    await at_consent(chat)
    replies = await chat.tap("I do not agree")
    assert (
        "Without your agreement we can't create an account: nothing about you is stored" in replies[-1].text
    )
    assert chat.labels() == ["📄 Read the terms", "I agree after all", "Leave"]
    await chat.tap("Read the terms")
    assert "Before we start, please read and agree" in chat.text()
    await chat.tap("I do not agree")
    await chat.tap("I agree after all")
    assert "full name" in chat.text()
    await chat.send("back")
    assert "Before we start, please read and agree" in chat.text()


async def test_leaving_after_declining_goes_back_to_the_start_and_keeps_nothing(chat: ChatDriver, sessions):
    await at_consent(chat)
    await chat.tap("I do not agree")
    replies = await chat.tap("Leave")
    assert replies[0].text.startswith("Okay. No account was created and no personal details were stored.")
    assert any("sign up" in label for label in chat.labels())
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0


async def test_a_hindi_user_declines_in_hindi(chat: ChatDriver, settings):
    await chat.open()
    await chat.send("hindi")
    await chat.send("1")  # sign up
    assert f"{settings.public_base_url}/terms?lang=hi" in chat.text()
    await chat.send("2")  # I do not agree
    assert "आपकी सहमति के बिना हम खाता नहीं बना सकते" in chat.text()
    assert "अब मैं सहमत हूँ" in chat.labels()
