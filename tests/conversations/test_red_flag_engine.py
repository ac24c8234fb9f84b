"""What a red flag does in the chat (issue 15): something happening now gets its card (the
general one, the mental-health one, or the violence one) and pauses a flow that leads to payment;
a mention of the past gets no card and no pause, only the gentle note, and answers the step.
Either way the flag is kept (category encrypted, never the words) and audited. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from backend.models import AuditEntry, Conversation, RedFlag
from backend.safety.flags import category_of
from conversations import engine as engine_module
from conversations.copy import translate
from conversations.emergency import EmergencyHit, detect_red_flag
from conversations.flow import Flow, Option, Step, next_step, prompt
from conversations.flows import registry
from tests.appointments.factories import make_patient
from tests.chat import ChatDriver

NOW = datetime(2031, 6, 2, 6, 30, tzinfo=UTC)  # the clock, pinned


@pytest.fixture
def pinned(chat: ChatDriver) -> ChatDriver:
    chat.pinned = NOW
    return chat


@pytest.fixture
def halting_flow():
    """A stand-in for booking: a reason step (keeping what it is given, and whether it was marked
    as a red flag) and then a payment link; it pauses on a red flag."""
    answers: list[tuple[str, bool]] = []

    async def ask_reason(ctx):
        return prompt("Why do you want to see a doctor?")

    async def answer_reason(ctx, answer):
        answers.append((answer.text, answer.red_flag))
        return next_step("pay", "Noted.")

    async def ask_pay(ctx):
        return prompt("Here is your payment link.", options=[Option("paid", "I paid")])

    async def answer_pay(ctx, answer):
        return next_step("pay")

    flow = Flow(
        name="test_flags_booking",
        first="reason",
        needs_account=False,
        halt_on_emergency=True,
        steps={"reason": Step(ask_reason, answer_reason, free_text=True), "pay": Step(ask_pay, answer_pay)},
    )
    registry.register(flow)
    yield answers
    registry.unregister(flow.name)


async def at_the_reason(chat: ChatDriver, sessions) -> None:
    await chat.open()
    async with sessions() as session, session.begin():
        conversation = await session.scalar(select(Conversation))
        conversation.flow, conversation.step = "test_flags_booking", "reason"
    await chat.open()


def matcher_says(monkeypatch, text: str, hit: EmergencyHit) -> None:
    """The matcher finds `hit` in `text` (and what it finds today in anything else)."""
    monkeypatch.setattr(
        engine_module, "detect_red_flag", lambda typed: hit if typed == text else detect_red_flag(typed)
    )


async def kept_flags(sessions, cipher) -> list[tuple[str, bool, str | None, str, str | None, datetime]]:
    """(category, history, user, channel, conversation, when) of every kept flag, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(select(RedFlag).order_by(RedFlag.created_at))
        return [
            (category_of(cipher, r), r.history, r.user_id, r.channel, r.conversation_id, r.created_at)
            for r in rows
        ]


async def flag_audits(sessions) -> list[tuple[str, str | None]]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEntry.outcome, AuditEntry.purpose)
            .where(AuditEntry.action == "emergency_flag")
            .order_by(AuditEntry.seq)
        )
        return [tuple(row) for row in rows]


async def answered_with_the_note(chat: ChatDriver, said: str, answers: list) -> list:
    """`said` gets the gentle note, no card and no pause, and answers the step unmarked: the doctor
    sees the kept flag instead. The replies, for more checks."""
    replies = await chat.send(said)
    assert not any(reply.urgent for reply in replies), "no emergency card"
    assert replies[0].text == translate("en", "emergency_note"), "only the gentle note, in case it is now"
    assert not any("I am safe" in label for label in chat.labels()), "no pause"
    assert "Noted." in replies[1].text and "payment link" in chat.text(), "the step answered as usual"
    assert answers == [(said, False)], "the words answer the step, not marked: the doctor sees the flag"
    return replies


async def test_a_history_hit_answers_the_step_with_no_card_and_is_kept_as_history(
    pinned: ChatDriver, halting_flow, sessions, cipher, monkeypatch
):
    said = "I had a heart attack in 2019, fine now, need a refill"
    matcher_says(monkeypatch, said, EmergencyHit("cardiac", "heart attack", history=True))
    await at_the_reason(pinned, sessions)
    await answered_with_the_note(pinned, said, halting_flow)
    async with sessions() as session:
        conversation = await session.scalar(select(Conversation))
    assert await kept_flags(sessions, cipher) == [("cardiac", True, None, "web", conversation.id, NOW)]
    assert await flag_audits(sessions) == [("flagged", "history")]


async def test_a_doubtful_hit_gets_the_note_answers_the_step_and_is_kept_as_doubtful(
    pinned: ChatDriver, halting_flow, sessions, cipher, monkeypatch
):
    said = "is phenyl safe for mopping if my 8 month old crawls on the floor?"
    matcher_says(monkeypatch, said, EmergencyHit("poisoning", "child + poison", doubtful=True))
    await at_the_reason(pinned, sessions)
    replies = await answered_with_the_note(pinned, said, halting_flow)
    assert replies[0].calls, "the note, 112 tap-to-call"
    [(category, history, *_)] = await kept_flags(sessions, cipher)
    assert (category, history) == ("poisoning", False), "kept as a flag for now: the doctor reads it"
    assert await flag_audits(sessions) == [("flagged", "doubtful")]


async def test_a_hit_happening_now_shows_the_card_pauses_and_is_kept_as_now(
    pinned: ChatDriver, halting_flow, sessions, cipher
):
    await at_the_reason(pinned, sessions)
    replies = await pinned.send("I have chest pain")
    assert replies[0].urgent and replies[0].text == translate("en", "emergency_general")
    assert any("I am safe" in label for label in pinned.labels()) and "payment link" not in pinned.text()
    assert halting_flow == []
    [(category, history, user, channel, _, at)] = await kept_flags(sessions, cipher)
    assert (category, history, user, channel, at) == ("cardiac", False, None, "web", NOW)
    assert await flag_audits(sessions) == [("flagged", "now")]


async def test_the_words_are_never_kept_with_the_flag(pinned: ChatDriver, sessions):
    await pinned.open()
    await pinned.send("crushing chest pain since an hour")
    async with sessions() as session:
        flag = await session.scalar(select(RedFlag))
        row = {column: getattr(flag, column.key) for column in RedFlag.__table__.columns}
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "emergency_flag"))
    assert not any("chest" in str(value) for value in row.values()), "no column holds the words"
    assert b"cardiac" not in flag.category_enc, "the category is encrypted"
    audited = " ".join(str(getattr(entry, c.key)) for c in AuditEntry.__table__.columns)
    assert "chest" not in audited and "cardiac" not in audited, "neither the words nor the category"


async def test_a_signed_in_patients_flag_names_them(engine, otp_sender, sessions, cipher):
    async with sessions() as session, session.begin():
        patient = await make_patient(session, cipher, chat="patient-chat")
    chat = ChatDriver(engine, otp_sender, chat_id="patient-chat", pinned=NOW)
    await chat.open()
    replies = await chat.send("i want to kill myself")
    assert replies[0].urgent and "14416" in replies[0].text
    [(category, history, user, _, _, _)] = await kept_flags(sessions, cipher)
    assert (category, history, user) == ("mental_health", False, patient.id)


@pytest.mark.parametrize("locale", ["en", "hi"])
async def test_violence_or_abuse_gets_its_own_calm_card_and_pauses(
    pinned: ChatDriver, halting_flow, sessions, cipher, monkeypatch, locale
):
    said = "my husband beats me and i am scared"
    matcher_says(monkeypatch, said, EmergencyHit("violence_abuse", "beats me"))
    await at_the_reason(pinned, sessions)
    if locale == "hi":
        await pinned.send("हिन्दी")
    replies = await pinned.send(said)
    card = replies[0]
    assert card.urgent and card.text == translate(locale, "emergency_violence_abuse")
    assert "112" in card.text and "108" not in card.text and "14416" not in card.text
    assert any(label == translate(locale, "emergency_safe") for label in pinned.labels()), "paused"
    assert "payment link" not in pinned.text()
    assert [flag[:2] for flag in await kept_flags(sessions, cipher)] == [("violence_abuse", False)]


def test_the_violence_card_is_calm_and_never_blames() -> None:
    english = translate("en", "emergency_violence_abuse")
    assert "If you or someone with you is in danger now, call 112." in english
    assert "not your fault" in english
    hindi = translate("hi", "emergency_violence_abuse")
    assert "112" in hindi and "आपकी कोई गलती नहीं" in hindi


async def test_poisoning_gets_the_general_card_without_first_aid_advice(
    pinned: ChatDriver, sessions, cipher, monkeypatch
):
    said = "she drank phenyl"
    matcher_says(monkeypatch, said, EmergencyHit("poisoning", "drank phenyl"))
    await pinned.open()
    replies = await pinned.send(said)
    assert replies[0].urgent and replies[0].text == translate("en", "emergency_general")
    assert "vomit" not in replies[0].text
    assert [flag[:2] for flag in await kept_flags(sessions, cipher)] == [("poisoning", False)]


async def test_violence_words_at_a_history_step_get_the_violence_note(
    chat: ChatDriver, sessions, cipher, monkeypatch
):
    said = "Beaten by my husband last week"
    matcher_says(monkeypatch, said, EmergencyHit("violence_abuse", "beaten"))
    await chat.sign_up()
    await chat.tap("My medical profile")
    await chat.tap("Medical history")
    await chat.tap("Add")
    replies = await chat.send(said)
    assert replies[0].text == translate("en", "emergency_note_violence_abuse") and not replies[0].urgent
    assert said in chat.text(), "the entry was saved"
    assert [flag[:2] for flag in await kept_flags(sessions, cipher)] == [("violence_abuse", False)]


async def test_the_issues_history_example_with_the_real_matcher(
    pinned: ChatDriver, halting_flow, sessions, cipher
):
    """Issue 15's own example, unpatched: answered without the card, kept as a history flag."""
    said = "last year I had chest pain, now fine, need a refill"
    await at_the_reason(pinned, sessions)
    replies = await pinned.send(said)
    assert not any(reply.urgent for reply in replies) and "payment link" in pinned.text()
    assert halting_flow == [(said, False)]
    assert [flag[:2] for flag in await kept_flags(sessions, cipher)] == [("cardiac", True)]


async def test_a_history_mention_at_a_menu_keeps_its_note_above_the_pick_prompt(pinned: ChatDriver):
    """Found by a new-user tryout: at a menu the note was lost behind "please choose an option"."""
    await pinned.open()
    replies = await pinned.send("I had a heart attack in 2019, fine now, need a refill")
    assert not any(reply.urgent for reply in replies)
    assert replies[0].text == translate("en", "emergency_note")
    assert len(replies) > 1, "the menu's own answer follows the note"


async def test_an_emergency_in_hindi_before_a_language_is_chosen_gets_the_card_in_hindi_first(
    pinned: ChatDriver,
):
    """Found by a new-user tryout: "सांस नहीं आ रही" at signup got the card in English only."""
    await pinned.open()
    replies = await pinned.send("सांस नहीं आ रही")
    assert [reply.text for reply in replies[:2]] == [
        translate("hi", "emergency_general"),
        translate("en", "emergency_general"),
    ]
    assert replies[0].urgent and replies[1].urgent
