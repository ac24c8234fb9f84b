"""The engine's rules: duplicates, per-chat serialisation, global commands, stale and forged
choices, emergencies, and every kind of bad input leaving the conversation usable."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.accounts.chats import address_of, is_chat
from backend.models import AuditEntry, ChannelIdentity, Conversation, InboxMessage, User
from conversations.flow import Flow, Option, Step, next_step, prompt, retry
from conversations.flows import registry
from conversations.messages import Inbound
from tests.chat import ChatDriver
from tests.keys import run_cipher


async def _at_name_step(chat: ChatDriver) -> None:
    await chat.open()
    await chat.tap("sign up")
    await chat.tap("I agree")
    assert "full name" in chat.text()


# --- duplicates and ordering -------------------------------------------------------------------


async def test_a_replayed_platform_id_is_ignored(chat: ChatDriver, sessions):
    await _at_name_step(chat)
    first = await chat.send("Asha Verma", platform_id="dup-1")
    assert "date of birth" in first[-1].text
    again = await chat.send("Someone Else", platform_id="dup-1")
    assert again == []
    async with sessions() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(InboxMessage).where(InboxMessage.platform_id == "dup-1")
            )
            == 1
        )
    # The conversation moved on once, not twice.
    await chat.send("23-04-1990")
    assert "sex" in chat.text()


async def test_the_same_platform_id_on_another_channel_is_not_a_duplicate(engine, otp_sender):
    web = ChatDriver(engine, otp_sender, channel="web", chat_id="w")
    tg = ChatDriver(engine, otp_sender, channel="telegram", chat_id="t")
    await web.open()
    await tg.open()
    assert await web.send("help", platform_id="42")
    assert await tg.send("help", platform_id="42")


async def test_messages_of_one_chat_never_interleave(chat: ChatDriver, engine, sessions):
    await _at_name_step(chat)
    # Ten messages at once for one chat: each is handled alone, so the version counts all of them
    # and the inbox holds every id (an interleaving would lose updates or deadlock).
    inbounds = [Inbound("web", "chat-a", text="help", platform_id=f"p{i}") for i in range(10)]
    results = await asyncio.gather(*(engine.handle(i) for i in inbounds))
    assert all(r for r in results)
    async with sessions() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation.step == "name"
        assert await session.scalar(select(func.count()).select_from(InboxMessage)) >= 10
    assert len(engine.locks) == 0, "locks are released and forgotten"


# --- global commands ---------------------------------------------------------------------------


async def test_help_answers_and_keeps_the_place(chat: ChatDriver):
    await _at_name_step(chat)
    replies = await chat.send("help")
    assert "menu, back, cancel" in replies[0].text
    assert "full name" in replies[-1].text


async def test_back_returns_to_the_previous_step(chat: ChatDriver):
    await _at_name_step(chat)
    await chat.send("Asha Verma")
    await chat.send("back")
    assert "full name" in chat.text()
    await chat.send("BACK")
    assert "agree" in chat.text().lower()


async def test_back_at_the_top_of_the_medical_profile_goes_to_the_menu(chat: ChatDriver, sessions):
    await chat.sign_up()
    await chat.send("menu")
    await chat.tap("My medical profile")
    replies = await chat.send("back")
    assert "no earlier step" not in chat.text()
    assert "📋 My medical profile" in chat.labels() and "🔎 Find a doctor" in chat.labels()
    async with sessions() as session:
        assert (await session.scalar(select(Conversation))).flow == "menu"
    assert replies  # the menu is shown, not an empty answer
    await chat.send("back")  # at the menu itself there is still nothing earlier
    assert "no earlier step" in chat.text()


async def test_cancel_and_menu_go_home(chat: ChatDriver):
    await _at_name_step(chat)
    await chat.send("cancel")
    assert "Cancelled" in chat.text() and any("sign up" in label for label in chat.labels())
    await chat.tap("sign up")
    await chat.send("/menu")
    assert any("sign up" in label for label in chat.labels())


async def test_language_can_be_changed_at_any_step_without_losing_answers(chat: ChatDriver):
    await _at_name_step(chat)
    await chat.send("Asha Verma")
    await chat.send("language")
    await chat.tap("हिन्दी")
    assert any("\u0900" <= ch <= "\u097f" for ch in chat.text())
    await chat.send("भाषा")
    await chat.tap("English")
    assert "date of birth" in chat.text()
    await chat.send("23-04-1990")
    assert "sex" in chat.text()


async def test_stop_mutes_and_any_message_resumes(chat: ChatDriver, sessions):
    await _at_name_step(chat)
    replies = await chat.send("stop")
    assert "won't send you any more messages" in replies[0].text
    from backend.models import ChannelIdentity

    async with sessions() as session:
        assert (await session.scalar(select(ChannelIdentity))).muted is True
    await chat.send("Asha Verma")
    assert "date of birth" in chat.text()
    async with sessions() as session:
        assert (await session.scalar(select(ChannelIdentity))).muted is False


async def test_unknown_commands_get_a_clear_reply(chat: ChatDriver):
    await _at_name_step(chat)
    replies = await chat.send("/frobnicate")
    assert "don't know that command" in replies[0].text
    assert "full name" in replies[-1].text


# --- choices: numbers, labels, near spellings, stale and forged tokens -----------------------------


async def test_a_choice_can_be_typed_as_number_label_or_near_spelling(engine, otp_sender):
    for i, typed in enumerate(("1", "I'm new — sign up", "signup", "im new")):
        driver = ChatDriver(engine, otp_sender, chat_id=f"typed-{i}")
        await driver.open()
        await driver.send(typed)
        assert "agree" in driver.text().lower(), typed


async def test_a_stale_button_gets_the_current_prompt(chat: ChatDriver):
    await chat.open()
    old_token = chat.token("sign up")
    await chat.tap("sign up")
    replies = await chat.tap_token(old_token)
    assert "expired" in replies[0].text
    assert "agree" in replies[-1].text.lower()


async def test_a_token_from_another_chat_is_refused(engine, otp_sender):
    alice = ChatDriver(engine, otp_sender, chat_id="alice")
    mallory = ChatDriver(engine, otp_sender, chat_id="mallory")
    await alice.open()
    await mallory.open()
    replies = await mallory.tap_token(alice.token("sign up"))
    assert "expired" in replies[0].text
    await alice.tap("sign up")
    assert "agree" in alice.text().lower()


async def test_a_forged_token_is_refused(chat: ChatDriver):
    await chat.open()
    replies = await chat.tap_token("../../etc/passwd" * 10)
    assert "expired" in replies[0].text
    assert replies[-1].choices


async def test_free_text_where_an_option_is_needed_is_answered_with_the_options(chat: ChatDriver):
    await chat.open()
    replies = await chat.send("what is this?")
    assert "choose one of the options" in replies[0].text
    assert replies[-1].choices


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_empty_messages(chat: ChatDriver, text):
    await _at_name_step(chat)
    replies = await chat.send(text)
    assert "didn't get any text" in replies[0].text
    assert "full name" in replies[-1].text


async def test_a_10000_character_message(chat: ChatDriver):
    await _at_name_step(chat)
    replies = await chat.send("a" * 10_000)
    assert "too long" in replies[0].text
    await chat.send("Asha Verma")
    assert "date of birth" in chat.text()


@pytest.mark.parametrize("text", ["😀", "🙂🙂🙂", "👍🏽"])
async def test_emoji_only_names_are_refused_kindly(chat: ChatDriver, text):
    await _at_name_step(chat)
    replies = await chat.send(text)
    assert "using letters" in replies[0].text
    await chat.send("Asha Verma")
    assert "date of birth" in chat.text()


async def test_names_in_any_script_are_accepted(chat: ChatDriver):
    await _at_name_step(chat)
    await chat.send("आशा वर्मा")
    assert "date of birth" in chat.text()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("31-02-1990", "couldn't read"),
        ("tomorrow", "couldn't read"),
        ("01-01-2999", "in the future"),
        ("01-01-1850", "120 years"),
    ],
)
async def test_bad_dates_of_birth(chat: ChatDriver, typed, expected):
    await _at_name_step(chat)
    await chat.send("Asha Verma")
    replies = await chat.send(typed)
    assert expected in replies[0].text
    await chat.send("1990-04-23")
    assert "sex" in chat.text()


async def _at_contact_step(chat: ChatDriver) -> None:
    await _at_name_step(chat)
    await chat.send("Asha Verma")
    await chat.send("23-04-1990")
    await chat.tap("Female")
    assert "mobile number or email" in chat.text()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12345", "valid mobile number"),
        ("+91 00000 00000", "valid mobile number"),
        ("asha@", "valid email"),
        ("asha@@example.com", "valid email"),
        ("x" * 300 + "@example.com", "valid email"),
    ],
)
async def test_invalid_phone_numbers_and_emails(chat: ChatDriver, otp_sender, typed, expected):
    await _at_contact_step(chat)
    replies = await chat.send(typed)
    assert expected in replies[0].text
    assert otp_sender.deliveries == []
    await chat.send("98765 43210")
    assert otp_sender.deliveries[-1].destination == "+919876543210"


async def test_otp_brute_force_is_locked_after_five_wrong_codes(chat: ChatDriver, otp_sender, sessions):
    await _at_contact_step(chat)
    await chat.send("asha@example.com")
    right = otp_sender.last_code()
    wrong = "000000" if right != "000000" else "999999"
    for left in (4, 3, 2):
        replies = await chat.send(wrong)
        assert f"{left} tries left" in replies[0].text
    replies = await chat.send(wrong)
    assert "1 try left" in replies[0].text
    replies = await chat.send(wrong)
    assert "Too many wrong tries" in replies[0].text
    replies = await chat.send(right)
    assert "no active code" in replies[0].text, "the right code no longer works once locked"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
    # A new code (after the cooldown) works.
    chat.skew = timedelta(minutes=2)
    await chat.tap("new code")
    await chat.send(otp_sender.last_code())
    assert "Which language" in chat.text()


async def test_otp_format_is_checked_before_counting_a_try(chat: ChatDriver, otp_sender):
    await _at_contact_step(chat)
    await chat.send("asha@example.com")
    replies = await chat.send("12ab")
    assert "6 digits" in replies[0].text
    await chat.send(otp_sender.last_code())
    assert "Which language" in chat.text()


async def test_resend_is_limited_by_cooldown(chat: ChatDriver, otp_sender):
    await _at_contact_step(chat)
    await chat.send("asha@example.com")
    replies = await chat.tap("new code")
    assert "wait" in replies[0].text and "seconds" in replies[0].text
    assert len(otp_sender.deliveries) == 1


async def test_delivery_failure_is_reported_to_the_user(chat: ChatDriver, otp_sender):
    await _at_contact_step(chat)
    otp_sender.fail = True
    replies = await chat.send("asha@example.com")
    assert "couldn't send the code" in replies[-1].text


async def test_phone_without_an_sms_channel_asks_for_email(chat: ChatDriver, otp_sender):
    otp_sender.phone_supported = False
    await _at_contact_step(chat)
    replies = await chat.send("9876543210")
    assert "use your email" in replies[0].text


async def test_an_internal_error_rolls_back_and_answers_calmly(chat: ChatDriver, monkeypatch, sessions):
    await _at_name_step(chat)
    from conversations.flows import signup

    async def boom(ctx, answer):
        raise RuntimeError("database on fire")

    flow = registry.get("signup")
    monkeypatch.setitem(flow.steps, "name", Step(signup.ask_name, boom))
    replies = await chat.send("Asha Verma")
    assert "something went wrong" in replies[0].text
    assert "Traceback" not in replies[0].text and "fire" not in replies[0].text
    async with sessions() as session:
        assert (await session.scalar(select(Conversation))).step == "name"


# --- emergencies ---------------------------------------------------------------------------------


async def test_a_red_flag_gets_emergency_guidance_first_at_any_step(chat: ChatDriver, sessions):
    await _at_name_step(chat)
    replies = await chat.send("I have severe chest pain")
    assert replies[0].urgent and "112" in replies[0].text
    assert "full name" in replies[-1].text, "signup is not a booking: the user can carry on"
    async with sessions() as session:
        flag = await session.scalar(select(AuditEntry).where(AuditEntry.action == "emergency_flag"))
        assert flag.outcome == "flagged", "the category stays out of the audit log (encrypted in red_flags)"


async def test_mental_health_red_flags_get_the_helpline(chat: ChatDriver):
    await chat.open()
    replies = await chat.send("I want to end my life")
    assert "14416" in replies[0].text and replies[0].urgent


@pytest.fixture
def booking_like_flow():
    """A stand-in for booking: a flow that must halt on a red flag. Its reason step keeps what it
    was given (text and red-flag mark) in `flow.answers`, and asks again for anything over 40
    characters, so that a test can stay on the step after an answer."""
    answers: list[tuple[str, bool]] = []

    async def ask_reason(ctx):
        return prompt("Why do you want to see a doctor?")

    async def answer_reason(ctx, answer):
        answers.append((answer.text, answer.red_flag))
        if len(answer.text) > 40:
            return retry("Shorter, please.")
        return next_step("pay", "Noted.")

    async def ask_day(ctx):
        return prompt("Which day? Pick one or type a date.", options=[Option("mon", "Monday")])

    async def answer_day(ctx, answer):
        answers.append((answer.text, answer.red_flag))
        if answer.value != "mon" and answer.text.strip().lower() != "monday":
            return retry("I couldn't tell which day you meant.")
        return next_step("pay")

    async def ask_pay(ctx):
        return prompt("Here is your payment link.", options=[Option("paid", "I paid")])

    async def answer_pay(ctx, answer):
        return next_step("pay")

    flow = Flow(
        name="test_booking",
        first="reason",
        needs_account=False,
        halt_on_emergency=True,
        steps={
            "reason": Step(ask_reason, answer_reason, free_text=True, takes_words=True),
            "day": Step(ask_day, answer_day, free_text=True),
            "pay": Step(ask_pay, answer_pay),
        },
    )
    registry.register(flow)
    yield flow, answers
    registry.unregister(flow.name)


async def _at_test_booking_reason(chat: ChatDriver, sessions) -> None:
    await chat.open()
    async with sessions() as session, session.begin():
        conversation = await session.scalar(select(Conversation))
        conversation.flow, conversation.step = "test_booking", "reason"
    await chat.open()


async def test_a_red_flag_halts_a_booking_until_the_user_is_safe_then_its_words_answer_the_step(
    chat: ChatDriver, engine, booking_like_flow, sessions
):
    _, answers = booking_like_flow
    await _at_test_booking_reason(chat, sessions)
    replies = await chat.send("saans nahi aa rahi hai")
    assert replies[0].urgent
    assert "payment link" not in chat.text()
    assert any("I am safe" in label for label in chat.labels())
    # Anything else keeps it paused; no payment link is offered.
    await chat.send("fever")
    assert "payment link" not in chat.text()
    assert answers == []
    replies = await chat.tap("I am safe")
    assert not any(r.urgent for r in replies)
    assert "kept what you wrote" in replies[0].text
    assert "Noted." in chat.text() and "payment link" in chat.text(), "the step was not asked again"
    assert answers == [("saans nahi aa rahi hai", True)], "the words that paused it, marked"


async def test_red_flag_words_again_after_i_am_safe_are_taken_with_a_note_not_another_pause(
    chat: ChatDriver, booking_like_flow, sessions
):
    _, answers = booking_like_flow
    await _at_test_booking_reason(chat, sessions)
    first = "chest pain again since this morning after my angioplasty"  # over 40: the step asks again
    assert (await chat.send(first))[0].urgent
    await chat.tap("I am safe")
    assert "Shorter, please." in chat.text() and "Why do you want to see a doctor?" in chat.text()
    for typed in (first, "I had a heart attack and chest pain"):  # the same words, then others
        replies = await chat.send(typed)
        assert not any(r.urgent for r in replies), "no second card, no second pause"
        assert "If this is happening now, call 112" in replies[0].text
        assert not any("I am safe" in label for label in chat.labels())
    assert "payment link" in chat.text()
    assert answers == [(first, True), (first, True), ("I had a heart attack and chest pain", True)]
    async with sessions() as session:
        flags = await session.scalars(select(AuditEntry).where(AuditEntry.action == "emergency_flag"))
        assert len(flags.all()) == 3, "every red flag is still audited"


async def test_the_next_step_gets_the_full_card_again(chat: ChatDriver, booking_like_flow, sessions):
    await _at_test_booking_reason(chat, sessions)
    await chat.send("chest pain")
    await chat.tap("I am safe")
    assert "payment link" in chat.text()
    replies = await chat.send("now I cannot breathe")
    assert replies[0].urgent and any("I am safe" in label for label in chat.labels())


async def test_back_to_the_step_and_the_same_words_get_a_note_not_the_pause_again(
    chat: ChatDriver, booking_like_flow, sessions
):
    _, answers = booking_like_flow
    await _at_test_booking_reason(chat, sessions)
    await chat.send("chest pain after angioplasty")
    await chat.tap("I am safe")
    await chat.send("back")
    replies = await chat.send("chest pain after angioplasty")
    assert not replies[0].urgent and not any("I am safe" in label for label in chat.labels())
    assert "payment link" in chat.text()
    assert answers == [("chest pain after angioplasty", True)] * 2


async def test_a_choice_step_is_asked_again_after_i_am_safe(chat: ChatDriver, booking_like_flow, sessions):
    _, answers = booking_like_flow
    await _at_test_booking_reason(chat, sessions)
    await chat.send("skin rash")
    assert "payment link" in chat.text()
    assert (await chat.send("I have severe chest pain"))[0].urgent
    replies = await chat.tap("I am safe")
    assert replies[0].text == "Thank you. Let's continue." and "payment link" in chat.text()
    assert answers == [("skin rash", False)], "buttons' steps are not given the words"


async def test_a_step_that_reads_a_value_asks_again_after_i_am_safe(
    chat: ChatDriver, booking_like_flow, sessions
):
    """A day typed or picked: the words that paused the flow are no day, so after "I am safe" the
    question comes again, without "kept what you wrote" or "couldn't tell which day"."""
    _, answers = booking_like_flow
    await _at_test_booking_reason(chat, sessions)
    async with sessions() as session, session.begin():
        (await session.scalar(select(Conversation))).step = "day"
    await chat.open()
    assert "Which day?" in chat.text()
    assert (await chat.send("my chest hurts badly and I am sweating"))[0].urgent
    replies = await chat.tap("I am safe")
    assert replies[0].text == "Thank you. Let's continue."
    assert "Which day?" in chat.text() and "couldn't tell" not in chat.text()
    assert answers == [], "the day step is not given the words"
    await chat.tap("Monday")
    assert "payment link" in chat.text()


async def test_menu_from_the_hold_drops_the_kept_words(chat: ChatDriver, booking_like_flow, sessions):
    _, answers = booking_like_flow
    await _at_test_booking_reason(chat, sessions)
    await chat.send("chest pain")
    await chat.send("menu")
    assert any("sign up" in label for label in chat.labels())
    await _at_test_booking_reason(chat, sessions)
    assert (await chat.send("chest pain"))[0].urgent, "a fresh visit gets the full card first"
    assert answers == []


async def test_a_flow_that_does_not_pause_shows_the_card_once_per_step(chat: ChatDriver):
    await _at_name_step(chat)
    assert (await chat.send("I have severe chest pain"))[0].urgent
    replies = await chat.send("I have severe chest pain")
    assert not replies[0].urgent and "If this is happening now, call 112" in replies[0].text


async def test_an_emergency_after_the_card_is_never_taken_as_the_name(chat: ChatDriver):
    """Found by a new user: after one card at the name step, "my mother collapsed and is not
    breathing" got the note and became the account's name."""
    await _at_name_step(chat)
    assert (await chat.send("I want to end my life tonight"))[0].urgent
    assert (await chat.send("I want to end my life tonight"))[0].urgent is False
    replies = await chat.send("my mother collapsed and is not breathing")
    assert replies[0].urgent, "another kind of emergency gets its own card"
    replies = await chat.send("my father collapsed too, he is not breathing")
    assert not replies[0].urgent and "If this is happening now, call 112" in replies[0].text
    assert "full name" in replies[-1].text, "the name is asked again, the words are not a name"
    assert "What is your date of birth?" in (await chat.send("Asha Verma"))[-1].text


async def test_violence_after_a_mental_health_card_gets_the_violence_card(chat: ChatDriver):
    await _at_name_step(chat)
    assert (await chat.send("nobody would miss me if i was gone, i have saved up my pills"))[0].urgent
    replies = await chat.send("my husband locked me in and is hitting me")
    assert replies[0].urgent and "not your fault" in replies[0].text


# --- regressions from review ---------------------------------------------------------------------


async def test_a_verified_contact_cannot_be_swapped_for_someone_elses(engine, otp_sender, sessions):
    """Prove your own email, then put the victim's email on the form and try to skip its OTP with
    "back": the account must never be created or linked for the unproven contact."""
    victim = ChatDriver(engine, otp_sender, chat_id="victim")
    await victim.sign_up(contact="victim@example.com")
    attacker = ChatDriver(engine, otp_sender, chat_id="attacker", skew=timedelta(minutes=5))
    await _at_contact_step(attacker)
    await attacker.send("attacker@example.com")
    await attacker.send(otp_sender.last_code())
    await attacker.send("back")
    assert "What is your sex?" in attacker.text(), "after the OTP, back skips the contact and code steps"
    # However the chat reaches the contact step again, a new contact clears the proof.
    async with sessions() as session, session.begin():
        conversation = await session.scalar(
            select(Conversation).join(ChannelIdentity).where(*is_chat(run_cipher(), "web", "attacker"))
        )
        conversation.step = "contact"
    await attacker.open()
    await attacker.send("victim@example.com")
    await attacker.send("back")  # to the contact step
    await attacker.send("back")  # to the date of birth
    await attacker.send("01-01-1990")
    await attacker.tap("Male")
    assert "mobile number or email" in attacker.text(), "an unproven contact must go through the OTP"
    async with sessions() as session:
        victim_user = await session.scalar(select(User))
        linked = (
            await session.scalars(select(ChannelIdentity).where(ChannelIdentity.user_id == victim_user.id))
        ).all()
        assert [address_of(run_cipher(), i) for i in linked] == ["victim"]


async def test_back_after_the_otp_skips_the_used_code(chat: ChatDriver, otp_sender):
    await _at_contact_step(chat)
    await chat.send("asha@example.com")
    await chat.send(otp_sender.last_code())
    await chat.send("back")
    assert "What is your sex?" in chat.text()
    await chat.tap("Female")
    assert "Which language" in chat.text(), "the proven contact is kept: no second code"
    assert len(otp_sender.deliveries) == 1


async def test_the_emergency_hold_survives_back_and_language(chat: ChatDriver, booking_like_flow, sessions):
    await _at_test_booking_reason(chat, sessions)
    await chat.send("my chest pain is severe")
    await chat.send("back")
    assert any("I am safe" in label for label in chat.labels())
    await chat.send("language")
    await chat.tap("English")
    assert any("I am safe" in label for label in chat.labels()), "the hold returns after the language prompt"
    await chat.send("skin rash")
    assert "payment link" not in chat.text()
    await chat.send("menu")
    assert "payment link" not in chat.text() and any("sign up" in label for label in chat.labels())


async def test_typing_after_the_chat_was_moved_gets_the_current_question(chat: ChatDriver, sessions):
    await chat.sign_up()
    async with sessions() as session, session.begin():
        identity = await session.scalar(select(ChannelIdentity))
        identity.user_id = None  # e.g. signed out from elsewhere
    replies = await chat.send("1")
    assert any("sign up" in c.label for r in replies for c in r.choices)
    assert "agree" not in chat.text().lower(), "the old menu's option 1 must not act on the new prompt"


async def test_a_refused_read_is_answered_and_its_audit_entry_is_kept(
    chat: ChatDriver, sessions, monkeypatch
):
    await chat.sign_up()
    from backend.records import service as records

    monkeypatch.setattr(records, "can", lambda *args: False)
    replies = await chat.tap("My medical profile")
    assert "not allowed" in replies[0].text
    async with sessions() as session:
        denied = await session.scalar(select(AuditEntry).where(AuditEntry.outcome == "denied"))
        assert denied is not None and denied.resource_type == "patient_profile"


async def test_medical_history_with_red_flag_words_is_saved_with_a_gentle_note(chat: ChatDriver, sessions):
    await chat.sign_up()
    await chat.tap("My medical profile")
    await chat.tap("Medical history")
    await chat.tap("Add")
    replies = await chat.send("Heart attack in 2015")
    assert "If this is happening now, call 112" in replies[0].text and not replies[0].urgent
    assert "Heart attack in 2015" in chat.text(), "the entry was saved"
    async with sessions() as session:
        flag = await session.scalar(select(AuditEntry).where(AuditEntry.action == "emergency_flag"))
        assert flag is not None, "the red flag is still audited"


async def test_signing_out_asks_first(chat: ChatDriver):
    await chat.sign_up()
    await chat.send("8")  # Sign out is the eighth menu item
    assert "Sign this chat out" in chat.text()
    await chat.tap("No, stay")
    assert any("My medical profile" in label for label in chat.labels())
    await chat.tap("Sign out")
    await chat.tap("Yes, sign out")
    assert "signed out" in chat.text() and any("sign up" in label for label in chat.labels())


def test_a_card_mark_saved_by_an_older_version_counts_as_none():
    """Before the mark named its flow it was a [flow, step] list: such a chat must not break."""
    from types import SimpleNamespace

    from conversations import overlays

    ctx = SimpleNamespace(
        data={overlays.CARD_SHOWN_AT: ["booking", "reason"]},
        conversation=SimpleNamespace(flow="booking", step="reason"),
    )
    overlays.left_step(ctx)
    assert overlays.card_already_shown(ctx, object(), "emergency_general") is False
