"""Signup, sign-in and linking through the conversation engine, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from backend.models import AuditEntry, ChannelIdentity, Consent, PatientProfile, Role, User
from tests.chat import ChatDriver


async def test_new_patient_signs_up_and_reaches_the_menu(chat: ChatDriver, sessions):
    replies = await chat.sign_up()
    assert "You're all set, Asha Verma" in chat.text()
    assert any("My medical profile" in label for label in chat.labels())
    assert replies[-1].choices, "the menu is a prompt with options"
    async with sessions() as session:
        user = await session.scalar(select(User))
        assert user.role is Role.PATIENT and user.locale == "en" and user.timezone == "Asia/Kolkata"
        consent = await session.scalar(select(Consent))
        assert consent.user_id == user.id and consent.version and consent.accepted_at is not None
        assert await session.get(PatientProfile, user.id) is not None
        identity = await session.scalar(select(ChannelIdentity))
        assert identity.user_id == user.id


async def test_signup_in_hindi_sets_the_locale(chat: ChatDriver, sessions):
    await chat.sign_up(language="हिन्दी")
    async with sessions() as session:
        assert (await session.scalar(select(User))).locale == "hi"
    assert any("\u0900" <= ch <= "\u097f" for ch in chat.text()), "the menu is in Hindi"


async def test_contact_is_only_linked_after_the_otp(chat: ChatDriver, engine, otp_sender, sessions):
    await chat.sign_up(contact="+91 98765 43210")
    other = ChatDriver(engine, otp_sender, channel="telegram", chat_id="tg-1", skew=timedelta(minutes=2))
    await other.open()
    await other.tap("already have an account")
    await other.send("9876543210")
    async with sessions() as session:
        tg = await session.scalar(select(ChannelIdentity).where(ChannelIdentity.channel == "telegram"))
        assert tg.user_id is None, "typing a known number must not link the chat"
    await other.send("000000" if otp_sender.last_code() != "000000" else "111111")
    async with sessions() as session:
        tg = await session.scalar(select(ChannelIdentity).where(ChannelIdentity.channel == "telegram"))
        assert tg.user_id is None, "a wrong code must not link the chat"
    await other.send(otp_sender.last_code())
    assert "Welcome back" in other.text()
    async with sessions() as session:
        users = (await session.scalars(select(User))).all()
        assert len(users) == 1, "the same account on both channels"
        linked = (await session.scalars(select(ChannelIdentity.user_id))).all()
        assert set(linked) == {users[0].id}


async def test_otp_message_is_the_same_for_known_and_unknown_contacts(chat: ChatDriver, engine, otp_sender):
    await chat.sign_up(contact="known@example.com")
    known = ChatDriver(engine, otp_sender, chat_id="b", skew=timedelta(minutes=2))
    unknown = ChatDriver(engine, otp_sender, chat_id="c", skew=timedelta(minutes=2))
    for driver, email in ((known, "known@example.com"), (unknown, "nobody@example.com")):
        await driver.open()
        await driver.tap("already have an account")
        await driver.send(email)
    normalise = lambda text: text.replace("k•••@", "X").replace("n•••@", "X")  # noqa: E731
    assert normalise(known.text()) == normalise(unknown.text())
    assert known.labels() == unknown.labels()


async def test_sign_in_with_an_unknown_contact_continues_as_signup_without_a_second_code(
    engine, otp_sender, sessions
):
    driver = ChatDriver(engine, otp_sender, chat_id="new")
    await driver.open()
    await driver.tap("already have an account")
    await driver.send("new.person@example.com")
    await driver.send(otp_sender.last_code())
    assert "don't have an account" in driver.text()
    await driver.tap("I agree")
    await driver.send("Ravi Kumar")
    await driver.send("01/02/1985")
    await driver.tap("Male")
    sends = len(otp_sender.deliveries)
    await driver.tap("English")
    await driver.tap("Kolkata")
    assert "You're all set, Ravi Kumar" in driver.text()
    assert len(otp_sender.deliveries) == sends == 1


async def test_signup_writes_audit_entries_without_health_data(chat: ChatDriver, sessions):
    await chat.sign_up()
    async with sessions() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all()
    actions = [e.action for e in entries]
    assert {"otp_send", "otp_verify", "consent", "create", "link_chat"} <= set(actions)
    # Every descriptive column. Ids and hashes are random hex and could contain "1990" by chance,
    # so the date of birth is looked for in the forms it could be written in.
    columns = (
        "actor_id",
        "actor_role",
        "channel",
        "action",
        "resource_type",
        "resource_id",
        "patient_id",
        "outcome",
        "purpose",
    )
    flattened = " ".join(str(getattr(e, c)) for e in entries for c in columns)
    assert "Asha" not in flattened and "asha@example.com" not in flattened
    assert not any(form in flattened for form in ("1990-04-23", "23-04-1990", "23/04/1990"))


async def test_a_second_account_with_the_same_contact_is_impossible(engine, otp_sender, sessions):
    first = ChatDriver(engine, otp_sender, chat_id="one")
    second = ChatDriver(engine, otp_sender, chat_id="two", skew=timedelta(minutes=2))
    await first.sign_up(contact="same@example.com")
    # The second chat signs up with the same email: after the OTP it is linked, not duplicated.
    await second.open()
    await second.tap("sign up")
    await second.tap("I agree")
    await second.send("Someone Else")
    await second.send("01-01-1970")
    await second.tap("Male")
    await second.send("same@example.com")
    await second.send(otp_sender.last_code())
    assert "already has a telecare account" in second.text()
    assert "details you just typed were not used" in second.text(), "the user is told"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
