"""The notification settings flow: channel, muted reminder kinds and quiet hours, stored through
backend.outbox.preferences, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from backend.accounts.chats import new_identity
from backend.models import Channel, ChannelIdentity, Conversation, NotificationPreference, Role, User
from backend.outbox import preferences
from conversations.flows.notifications import parse_hours
from tests.chat import ChatDriver
from tests.keys import run_cipher


async def _at_settings(chat: ChatDriver, **sign_up) -> None:
    await chat.sign_up(**sign_up)
    await chat.tap("🔔")  # "🔔 Notifications", "🔔 सूचनाएँ"
    assert "Notification settings" in chat.text() or "सूचनाओं की सेटिंग" in chat.text()


async def _preference(sessions) -> NotificationPreference | None:
    async with sessions() as session:
        return await session.scalar(select(NotificationPreference))


async def _link_another_chat(sessions, channel: Channel, address: str) -> None:
    async with sessions() as session, session.begin():
        user = await session.scalar(select(User))
        session.add(new_identity(run_cipher(), channel, address, user_id=user.id))


async def _step(sessions) -> tuple[str, str]:
    async with sessions() as session:
        conversation = await session.scalar(select(Conversation))
        return conversation.flow, conversation.step


# --- the menu item and the overview ---------------------------------------------------------


async def test_the_menu_offers_notifications_before_language(chat: ChatDriver):
    await chat.sign_up()
    labels = chat.labels()
    assert labels.index("🔔 Notifications") == labels.index("🌐 Language") - 1


async def test_the_overview_shows_the_defaults_and_the_urgent_rule(chat: ChatDriver, sessions):
    await _at_settings(chat)
    text = chat.text()
    assert "Urgent messages always reach you" in text
    assert "Automatic (the chat I used last)" in text
    assert "🔔 Appointment reminders: on" in text and "🔔 Lab test reminders: on" in text
    assert "21:00–08:00 (Asia/Kolkata)" in text
    assert await _preference(sessions) is None, "looking changes nothing"


async def test_staff_get_the_same_settings(chat: ChatDriver, sessions):
    await chat.sign_up()
    async with sessions() as session, session.begin():
        (await session.scalar(select(User))).role = Role.DOCTOR
    await chat.send("menu")
    assert "Doctor menu" in chat.text()
    await chat.tap("Notifications")
    await chat.tap("Reminders")
    await chat.tap("Appointment reminders")
    assert (await _preference(sessions)).muted_kinds == "appointment"


async def test_done_returns_to_the_main_menu(chat: ChatDriver, sessions):
    await _at_settings(chat)
    await chat.tap("Done")
    assert "What would you like to do?" in chat.text()
    assert any("My medical profile" in label for label in chat.labels())
    assert await _step(sessions) == ("menu", "main")


# --- channel --------------------------------------------------------------------------------


async def test_with_one_chat_there_is_nothing_to_choose(chat: ChatDriver, sessions):
    await _at_settings(chat)
    replies = await chat.tap("Where to send")
    assert "only on Web chat" in replies[0].text
    assert "Automatic" not in " ".join(chat.labels()), "no channel choice is offered"
    assert await _step(sessions) == ("notifications", "overview")
    assert await _preference(sessions) is None


async def test_choosing_a_channel_is_stored(chat: ChatDriver, sessions):
    await _at_settings(chat)
    await _link_another_chat(sessions, Channel.TELEGRAM, "tg-1")
    await chat.tap("Where to send")
    labels = chat.labels()
    assert labels == ["✅ Automatic (the chat I used last)", "Web chat", "Telegram"], labels
    replies = await chat.tap("Telegram")
    assert "Notifications will go to: Telegram" in replies[0].text
    assert "Sent to: Telegram" in chat.text(), "back at the overview, with the new channel"
    assert (await _preference(sessions)).channel == "telegram"
    # And back to automatic, which stores None.
    await chat.tap("Where to send")
    assert "✅ Telegram" in chat.labels()
    await chat.tap("Automatic")
    pref = await _preference(sessions)
    assert pref.channel is None


async def test_a_channel_can_be_typed(chat: ChatDriver, sessions):
    await _at_settings(chat)
    await _link_another_chat(sessions, Channel.WHATSAPP, "+919876543210")
    await chat.send("1")
    await chat.send("whatsapp")
    assert (await _preference(sessions)).channel == "whatsapp"


async def test_a_channel_signed_out_meanwhile_is_not_stored(chat: ChatDriver, sessions):
    await _at_settings(chat)
    await _link_another_chat(sessions, Channel.TELEGRAM, "tg-1")
    await chat.tap("Where to send")
    async with sessions() as session, session.begin():
        tg = await session.scalar(select(ChannelIdentity).where(ChannelIdentity.channel == Channel.TELEGRAM))
        tg.user_id = None
    replies = await chat.tap("Telegram")
    assert "no longer linked" in replies[0].text
    assert await _preference(sessions) is None


# --- reminders ------------------------------------------------------------------------------


async def test_tapping_a_reminder_kind_toggles_it(chat: ChatDriver, sessions):
    await _at_settings(chat)
    await chat.tap("Mute or unmute")
    assert "🔔 Lab test reminders: on — tap to turn off" in chat.labels()
    token = chat.token("Lab test")
    replies = await chat.tap("Lab test")
    assert "Lab test reminders are off now" in replies[0].text
    assert "🔕 Lab test reminders: off — tap to turn on" in chat.labels(), "the prompt shows the new state"
    assert chat.token("Lab test") == token, "the same button stays valid on screen"
    assert (await _preference(sessions)).muted_kinds == "lab"
    async with sessions() as session:
        user = await session.scalar(select(User))
        assert (await preferences.get(session, user.id)).muted == {"lab"}

    await chat.tap("Appointment")
    assert (await _preference(sessions)).muted_kinds == "appointment,lab"
    replies = await chat.tap("Lab test")
    assert "on again" in replies[0].text
    assert "🔔 Lab test reminders: on — tap to turn off" in chat.labels()
    assert (await _preference(sessions)).muted_kinds == "appointment"

    await chat.tap("Done")
    assert "🔕 Appointment reminders: off" in chat.text(), "the overview shows the muted kind"
    assert await _step(sessions) == ("notifications", "overview")


# --- quiet hours ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("22:00-07:00", "22:00", "07:00"),
        ("22:00 to 7:00", "22:00", "07:00"),
        ("23.30 – 6.15", "23:30", "06:15"),
        ("2200 till 0630", "22:00", "06:30"),
    ],
)
async def test_quiet_hours_are_stored(chat: ChatDriver, sessions, typed, start, end):
    await _at_settings(chat)
    await chat.tap("Quiet hours")
    assert "21:00–08:00 (Asia/Kolkata)" in chat.text(), "the current hours are shown"
    replies = await chat.send(typed)
    assert f"Quiet hours are now {start}–{end}" in replies[0].text
    pref = await _preference(sessions)
    assert (pref.quiet_start, pref.quiet_end) == (start, end)
    assert f"{start}–{end}" in chat.text() and await _step(sessions) == ("notifications", "overview")


@pytest.mark.parametrize("off", ["off", "OFF", "tap"])
async def test_quiet_hours_can_be_turned_off(chat: ChatDriver, sessions, off):
    await _at_settings(chat)
    await chat.tap("Quiet hours")
    replies = await (chat.tap("Turn quiet hours off") if off == "tap" else chat.send(off))
    assert "Quiet hours are off" in replies[0].text
    pref = await _preference(sessions)
    assert pref.quiet_start == pref.quiet_end
    assert preferences.of(pref).quiet_off
    assert "Quiet hours: off" in chat.text()
    # Turned off, the step offers the default hours back.
    await chat.tap("Quiet hours")
    await chat.tap("Use 21:00–08:00")
    pref = await _preference(sessions)
    assert (pref.quiet_start, pref.quiet_end) == ("21:00", "08:00")


@pytest.mark.parametrize("typed", ["25:99", "25:99-07:00", "22:00", "tonight", "😀", "22:00-", "10pm-7am"])
async def test_bad_quiet_hours_get_a_clear_retry(chat: ChatDriver, sessions, typed):
    await _at_settings(chat)
    await chat.tap("Quiet hours")
    replies = await chat.send(typed)
    assert "couldn't read those hours" in replies[0].text
    assert "21:00–08:00" in chat.text(), "the question is asked again"
    assert await _step(sessions) == ("notifications", "quiet")
    assert await _preference(sessions) is None
    await chat.send("22:30-06:00")
    assert ((await _preference(sessions)).quiet_start, (await _preference(sessions)).quiet_end) == (
        "22:30",
        "06:00",
    )


async def test_an_empty_message_at_quiet_hours_is_asked_again(chat: ChatDriver, sessions):
    await _at_settings(chat)
    await chat.tap("Quiet hours")
    replies = await chat.send("   ")
    assert "didn't get any text" in replies[0].text
    assert "24-hour time" in replies[-1].text
    assert await _step(sessions) == ("notifications", "quiet")


async def test_keep_leaves_quiet_hours_alone(chat: ChatDriver, sessions):
    await _at_settings(chat)
    await chat.tap("Quiet hours")
    await chat.tap("Keep as it is")
    assert await _step(sessions) == ("notifications", "overview")
    assert await _preference(sessions) is None


def test_parse_hours() -> None:
    assert parse_hours("22:00-07:00") == (time(22), time(7))
    assert parse_hours("22:00 से 7:00 तक") == (time(22), time(7))
    assert parse_hours(" 9:30 — 17:45 ") == (time(9, 30), time(17, 45))
    for bad in ("", "22:00", "24:00-07:00", "22:00-07:60", "a-b", "22:00 - 07:00 - 08:00"):
        assert parse_hours(bad) is None, bad


# --- global commands ------------------------------------------------------------------------


async def test_back_cancel_and_menu(chat: ChatDriver, sessions):
    await _at_settings(chat)
    await chat.tap("Quiet hours")
    await chat.send("back")
    assert await _step(sessions) == ("notifications", "overview")
    await chat.send("back")  # the top of the settings, entered from the menu: back is the menu
    assert "no earlier step" not in chat.text() and await _step(sessions) == ("menu", "main")
    await chat.tap("Notifications")
    await chat.tap("Mute or unmute")
    await chat.send("cancel")
    assert "Cancelled" in chat.text() and await _step(sessions) == ("menu", "main")
    await chat.tap("Notifications")
    await chat.tap("Quiet hours")
    await chat.send("menu")
    assert await _step(sessions) == ("menu", "main")
    assert await _preference(sessions) is None, "nothing was changed on the way"


# --- Hindi ----------------------------------------------------------------------------------


async def test_a_hindi_user_sees_hindi(chat: ChatDriver, sessions):
    await _at_settings(chat, language="हिन्दी")
    text = chat.text()
    assert "ज़रूरी (अर्जेंट) संदेश" in text and "शांत समय: 21:00–08:00" in text
    assert "अपॉइंटमेंट के रिमाइंडर: चालू" in text
    assert "Notification" not in text and "Reminders" not in text
    await chat.tap("रिमाइंडर चालू या बंद")
    await chat.tap("लैब टेस्ट")
    assert "🔕 लैब टेस्ट के रिमाइंडर: बंद — चालू करने के लिए टैप करें" in chat.labels()
    await chat.tap("हो गया")
    await chat.tap("शांत समय")
    replies = await chat.send("25:99")
    assert "यह समय समझ नहीं आया" in replies[0].text
    await chat.send("बंद")
    assert "शांत समय बंद कर दिया गया है" in chat.text()
    pref = await _preference(sessions)
    assert pref.quiet_start == pref.quiet_end and pref.muted_kinds == "lab"
    await chat.tap("सूचनाएँ कहाँ भेजें")
    assert "सिर्फ़ वेब चैट पर" in chat.text()


async def test_typed_words_never_pick_the_opposite_switch(chat: ChatDriver, sessions):
    """Found by a tester: "turn on quiet hours" is nearest to the "Turn quiet hours off" button,
    and "appointment reminders off" to a button saying they are on."""
    await _at_settings(chat)
    await chat.tap("Quiet hours")
    replies = await chat.send("turn on quiet hours")
    assert "couldn't read those hours" in replies[0].text
    assert await _preference(sessions) is None, "nothing changed"
    await chat.send("keep as it is")  # an exact label still works
    await chat.tap("Mute or unmute")
    replies = await chat.send("appointment reminders off")
    assert await _preference(sessions) is None and "choose one of the options" in replies[0].text
    await chat.send("1")  # a number does
    assert (await _preference(sessions)).muted_kinds == "appointment"
