"""Buttons on notifications: pressed (web, Telegram) or typed ("retry 417", WhatsApp) they reach
the engine, for their recipient only, once, and only while they apply. Also the messages signup
starts: a welcome, and a profile nudge withdrawn once the profile has something in it."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select, update

from backend.access import Actor
from backend.models import AuditEntry, NotificationAction, OutboxMessage, OutboxStatus, Role, User, utcnow
from backend.outbox import preferences, queue, service
from backend.outbox.service import ActionButton
from backend.records import service as records
from notifications.dispatcher import Dispatcher
from tests.chat import ChatDriver
from tests.notifications.helpers import RecordingSender, enqueue_nudge


async def _user(sessions) -> User:
    async with sessions() as session:
        users = (await session.scalars(select(User).order_by(User.created_at))).all()
        return users[-1]


async def _nudge(sessions, cipher, user_id: str, key: str = "test:nudge") -> None:
    async with sessions() as session, session.begin():
        await enqueue_nudge(session, cipher, key=key, user_id=user_id)


async def _dispatch(sessions, cipher) -> RecordingSender:
    web = RecordingSender("web")
    await Dispatcher(sessions, cipher, {"web": web}).drain()
    return web


def _the_nudge(web: RecordingSender):
    """The test's nudge (the welcome may go out too, depending on the hour in Kolkata)."""
    (notice,) = [n for _, n in web.sent if n.template == "profile_nudge"]
    return notice


async def test_signup_writes_a_welcome_and_a_nudge_for_tomorrow(chat: ChatDriver, sessions):
    await chat.sign_up()
    async with sessions() as session:
        rows = {row.template: row for row in (await session.scalars(select(OutboxMessage))).all()}
    assert set(rows) == {"welcome", "profile_nudge"}
    assert rows["welcome"].due_at <= utcnow() and rows["welcome"].kind == "welcome"
    delay = rows["profile_nudge"].due_at - rows["welcome"].due_at
    assert timedelta(hours=23, minutes=59) < delay <= timedelta(days=1)
    assert rows["profile_nudge"].kind == "profile" and rows["profile_nudge"].action == "profile_nudge"


async def test_the_nudge_is_withdrawn_once_the_profile_has_something(chat: ChatDriver, sessions, cipher):
    await chat.sign_up()
    user = await _user(sessions)
    async with sessions() as session, session.begin():
        await records.add_item(
            session, cipher, Actor(user.id, Role.PATIENT), user.id, "allergies", "penicillin"
        )
    async with sessions() as session:
        nudge = await session.scalar(select(OutboxMessage).where(OutboxMessage.template == "profile_nudge"))
    assert nudge.status is OutboxStatus.CANCELLED


async def test_a_pressed_button_acts_once_for_its_recipient(
    chat: ChatDriver, engine, otp_sender, sessions, cipher
):
    await chat.sign_up()
    asha = await _user(sessions)
    await _nudge(sessions, cipher, asha.id)
    web = await _dispatch(sessions, cipher)
    notice = _the_nudge(web)
    assert [a.label for a in notice.actions] == ["Complete my profile"]
    token = notice.actions[0].token

    # Someone else, in another chat, with the token (forwarded, guessed): nothing happens.
    ravi = ChatDriver(engine, otp_sender, chat_id="chat-b")
    await ravi.sign_up(name="Ravi Kumar", contact="ravi@example.com")
    replies = await ravi.tap_token(token)
    assert "no longer valid" in replies[0].text
    async with sessions() as session:
        assert (await session.get(NotificationAction, token)).used_at is None

    # Asha presses it: the profile opens. Pressing again: no longer valid.
    replies = await chat.tap_token(token)
    assert replies[0].text == "Let's add to your medical profile."
    async with sessions() as session:
        conversation_flow = (await session.get(NotificationAction, token)).used_at
    assert conversation_flow is not None
    assert "no longer valid" in (await chat.tap_token(token))[0].text
    async with sessions() as session:
        audited = (
            await session.scalars(
                select(AuditEntry.outcome).where(AuditEntry.action == "notification_action")
            )
        ).all()
    assert audited == ["open:done"]


async def test_typed_on_a_text_only_channel(chat: ChatDriver, sessions, cipher):
    await chat.sign_up()
    asha = await _user(sessions)
    await _nudge(sessions, cipher, asha.id)
    web = await _dispatch(sessions, cipher)
    notice = _the_nudge(web)
    code = notice.actions[0].code
    assert notice.typed_hint == f"Reply “Complete my profile {code}”."
    other = "100" if code != "100" else "101"
    replies = await chat.send(f"complete my profile {other}")  # no such button: an ordinary message
    assert "Let's add" not in "\n".join(r.text for r in replies)
    replies = await chat.send(f"Complete my profile {code}")
    assert replies[0].text == "Let's add to your medical profile."


async def test_an_expired_button_does_nothing(chat: ChatDriver, sessions, cipher):
    await chat.sign_up()
    asha = await _user(sessions)
    await _nudge(sessions, cipher, asha.id)
    web = await _dispatch(sessions, cipher)
    token = _the_nudge(web).actions[0].token
    async with sessions() as session, session.begin():
        await session.execute(update(NotificationAction).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert "no longer valid" in (await chat.tap_token(token))[0].text
    assert "no longer valid" in (await chat.tap_token("n.made-up-token"))[0].text


async def test_an_admin_retries_a_dead_letter_and_the_other_button_expires(
    chat: ChatDriver, engine, otp_sender, sessions, cipher
):
    await chat.sign_up()
    admin = await _user(sessions)
    async with sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == admin.id).values(role=Role.ADMIN))
        # Alerts are not urgent: with quiet hours off they go whatever the hour of the test run.
        await preferences.set_quiet_hours(session, admin.id, time(0, 0), time(0, 0))
        await service.enqueue(session, cipher, key="lost", user_id=admin.id, template="welcome")
        lost = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "lost"))
        lost.status, lost.attempts, lost.last_error = OutboxStatus.DEAD, 6, "telegram: blocked"
        await session.flush()
        assert await queue.alert_admins(session, cipher, lost.id) == 1
    await chat.send("menu")  # the admin's chat now shows the admin menu
    web = await _dispatch(sessions, cipher)
    alert = next(n for _, n in web.sent if n.template == "dead_letter")
    assert "could not be delivered after 6 attempts (telegram: blocked)" in alert.text
    retry, discard = alert.actions
    replies = await chat.tap_token(retry.token)
    assert replies[0].text == "Okay — the message will be sent again now."
    async with sessions() as session:
        row = await session.get(OutboxMessage, lost.id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert "no longer valid" in (await chat.tap_token(discard.token))[0].text


async def test_a_number_or_another_word_with_a_live_code_is_an_ordinary_answer(
    chat: ChatDriver, sessions, cipher
):
    """ "1 417" is not a label, and "fever 102" may be an answer to the current question even
    when 102 happens to be a live code: neither presses anything."""
    await chat.sign_up()
    asha = await _user(sessions)
    await _nudge(sessions, cipher, asha.id)
    code = _the_nudge(await _dispatch(sessions, cipher)).actions[0].code
    for text in (f"1 {code}", f"fever {code}"):
        replies = await chat.send(text)
        assert "Let's add" not in replies[0].text
    async with sessions() as session:
        assert (await session.scalar(select(NotificationAction))).used_at is None


async def test_a_rescheduled_reminder_gets_new_buttons_that_work(chat: ChatDriver, sessions, cipher):
    await chat.sign_up()
    asha = await _user(sessions)
    await _nudge(sessions, cipher, asha.id, key="test:again")
    first = _the_nudge(await _dispatch(sessions, cipher)).actions[0].token
    async with sessions() as session, session.begin():
        await service.schedule(
            session,
            cipher,
            key="test:again",
            user_id=asha.id,
            template="profile_nudge",
            params={"name": "Asha"},
            kind="profile",
            due_at=utcnow(),
            urgent=True,
            actions=(ActionButton("open", "btn_complete_profile"),),
            action="profile_nudge",
        )
    second = _the_nudge(await _dispatch(sessions, cipher)).actions[0].token
    assert second != first
    assert "no longer valid" in (await chat.tap_token(first))[0].text
    assert (await chat.tap_token(second))[0].text == "Let's add to your medical profile."
