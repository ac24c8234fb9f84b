"""What a chat hears when the OTP limits say no (SMS pumping, guessing), on SQLite and PostgreSQL.
Every message carries a pinned time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.models import OutboxMessage, Role, User, new_id
from backend.outbox.service import open_params
from conversations.engine import Engine
from notifications.templates import render
from tests.chat import ChatDriver

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)  # 14:30 in Kolkata
OWNER_NUMBER = "+919876543210"


@dataclass
class Clock:
    now: datetime = T0


@dataclass
class PinnedChat(ChatDriver):
    """A chat whose messages arrive at the clock's time."""

    clock: Clock = field(default_factory=Clock)

    def now(self) -> datetime:
        return self.clock.now

    async def sign_in_with(self, contact: str) -> str:
        await self.open()
        await self.tap("already have an account")
        await self.send(contact)
        return self.text()


def indian(i: int) -> str:
    return f"+91 98765 {i:05d}"


async def test_a_chat_typing_twenty_numbers_gets_codes_for_three(engine, otp_sender) -> None:
    chat = PinnedChat(engine, otp_sender, chat_id="pump")
    await chat.open()
    await chat.tap("already have an account")
    answers = []
    for i in range(20):
        chat.clock.now = T0 + timedelta(seconds=i)
        await chat.send(indian(i))
        answers.append(chat.text())
        if "code is on its way" in chat.text():
            await chat.tap("different number")  # back to the contact step
    assert len(otp_sender.deliveries) == 3
    assert [d.destination for d in otp_sender.deliveries] == [
        "+919876500000",
        "+919876500001",
        "+919876500002",
    ]
    assert all("code is on its way" in text for text in answers[:3])
    for text in answers[3:]:
        assert "Codes have already gone to 3 different numbers or emails from here today" in text
        assert "try again in about 24 hours" in text


@pytest.mark.parametrize(
    "number", ["+234 803 123 4567", "+1 202 555 0123", "+7 495 123-45-67"], ids=["NG", "US", "RU"]
)
async def test_a_number_outside_india_gets_no_sms_and_email_is_offered(engine, otp_sender, number) -> None:
    chat = PinnedChat(engine, otp_sender, chat_id="abroad")
    text = await chat.sign_in_with(number)
    assert "We can send codes by SMS only to numbers in +91 (India)" in text
    assert "Please type your email address instead" in text
    assert otp_sender.deliveries == []
    # Still at the contact step: an email gets its code.
    chat.clock.now += timedelta(seconds=5)
    await chat.send("asha@example.com")
    assert "code is on its way" in chat.text()
    assert [d.kind for d in otp_sender.deliveries] == ["email"]


async def test_the_allowed_countries_are_named_in_the_users_language(
    sessions, cipher, settings, otp_sender, gateways
) -> None:
    nepal_too = settings.model_copy(update={"sms_allowed_country_codes": ["+91", "+977"]})
    engine = Engine(sessions, cipher, nepal_too, otp_sender, gateways=gateways)
    chat = PinnedChat(engine, otp_sender, chat_id="hindi")
    await chat.open()
    await chat.tap("हिन्दी")
    await chat.tap("मेरा अकाउंट पहले से है")
    await chat.send("+234 803 123 4567")
    assert "+91 (भारत) या +977 (नेपाल)" in chat.text()
    await chat.send("+977 980 123 4567")
    assert [d.destination for d in otp_sender.deliveries] == ["+9779801234567"]


async def test_when_the_hourly_sms_budget_is_spent_chats_are_told_and_admins_alerted_once(
    sessions, cipher, settings, otp_sender, gateways
) -> None:
    async with sessions() as session, session.begin():
        admin = User(id=new_id(), role=Role.ADMIN, display_name="Admin Ravi")
        session.add(admin)
    one_an_hour = settings.model_copy(update={"sms_hourly_budget": 1})
    engine = Engine(sessions, cipher, one_an_hour, otp_sender, gateways=gateways)
    first = PinnedChat(engine, otp_sender, chat_id="first")
    assert "code is on its way" in await first.sign_in_with(indian(1))
    for n in (2, 3):
        later = PinnedChat(engine, otp_sender, chat_id=f"chat-{n}", clock=Clock(T0 + timedelta(minutes=20)))
        text = await later.sign_in_with(indian(n))
        assert "We can't send more SMS codes just now. Please type your email address instead" in text
        assert "try again in about 40 minutes" in text
    assert len(otp_sender.deliveries) == 1
    async with sessions() as session:
        alerts = (await session.scalars(select(OutboxMessage))).all()
    assert [(a.user_id, a.template) for a in alerts] == [(admin.id, "sms_budget_spent")]
    words = render("sms_budget_spent", open_params(cipher, alerts[0]), "en", "Asia/Kolkata").text
    assert "budget (1 an hour) is spent" in words and "until tue, 1 jan 2030, 3:30 pm" in words.lower()


async def test_twenty_wrong_codes_lock_the_number_for_a_day_and_its_owner_is_told_once(
    engine, otp_sender, sessions, cipher
) -> None:
    owner = PinnedChat(engine, otp_sender, chat_id="owner")
    await owner.sign_up(contact=OWNER_NUMBER)
    guesser = PinnedChat(engine, otp_sender, chat_id="guesser", clock=Clock(T0 + timedelta(minutes=1)))
    await guesser.sign_in_with(OWNER_NUMBER)
    # Three codes per 15 minutes reach one number (the owner had one at T0): four codes in all.
    for minutes in (1, 2, 16, 17):
        guesser.clock.now = T0 + timedelta(minutes=minutes)
        if minutes != 1:
            await guesser.tap("Send a new code")
        assert otp_sender.deliveries[-1].chat_key == "web:guesser"
        for _ in range(5):
            await guesser.send("000000" if otp_sender.last_code() != "000000" else "111111")
    locked = guesser.text()
    # 09:17 UTC + 24 h is 14:47 in Kolkata, the next day.
    assert "Too many wrong codes were tried for this number or email" in locked
    # An anonymous chat has no timezone of its own: the platform's is named.
    assert "can't be used to sign in until wed, 2 jan, 2:47 pm (india time)" in locked.lower()
    # Nobody can use it now, whatever the chat; asking again does not tell the owner again.
    stranger = PinnedChat(engine, otp_sender, chat_id="stranger", clock=Clock(T0 + timedelta(hours=3)))
    assert "can't be used to sign in until" in await stranger.sign_in_with(OWNER_NUMBER)
    await guesser.tap("Send a new code")
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.role == Role.PATIENT))
        notices = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.template == "otp_contact_locked"))
        ).all()
    assert [n.user_id for n in notices] == [user.id]
    words = render("otp_contact_locked", open_params(cipher, notices[0]), user.locale, user.timezone).text
    assert "Someone tried several wrong sign-in codes for your +91•••••••210" in words
    assert (
        "until wed, 2 jan 2030, 2:47 pm" in words.lower() and "If it was you, there is nothing to do" in words
    )
    # A day later the number works again.
    back = PinnedChat(engine, otp_sender, chat_id="back", clock=Clock(T0 + timedelta(hours=24, minutes=17)))
    assert "code is on its way" in await back.sign_in_with(OWNER_NUMBER)
    await back.send(otp_sender.last_code())
    assert "Welcome back" in back.text()


async def test_a_whatsapp_sender_uses_their_own_number_without_sms_from_any_country(
    engine, otp_sender
) -> None:
    chat = PinnedChat(engine, otp_sender, channel="whatsapp", chat_id="+12025550123")
    await chat.open()
    await chat.tap("sign up")
    await chat.tap("I agree")
    await chat.send("Asha Verma")
    await chat.send("23-04-1990")
    await chat.tap("Female")
    await chat.send("Use this WhatsApp number")  # WhatsApp options are typed
    assert "Confirmed" in chat.text()
    assert otp_sender.deliveries == []
