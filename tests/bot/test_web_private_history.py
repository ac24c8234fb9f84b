"""A doctor's web chat never keeps a patient's health record or contact in its history: the
doctor may read them only while an appointment allows (backend/access.py), and a history kept for
30 days would outlive that. The card and the request are shown live; the history keeps only that
one was there (the page says so in its own words), with its buttons as words. SQLite and PostgreSQL."""

from __future__ import annotations

from backend.accounts.web_history import Shown
from backend.models import Role
from bot.web.history import bot_messages, ends_with_prompt
from bot.web.notify import kept
from conversations.messages import Choice, Reply
from notifications.sender import Notice, NoticeAction
from tests.appointments.test_doctor_sees_patient import doctor_chat, open_card, request
from tests.backend.test_web_history import open_chat, recent, record

SUMMARY = "Allergies: penicillin — rash; peanuts"


async def test_the_doctors_card_with_the_summary_is_marked_private(
    sessions, cipher, settings, gateways, engine, otp_sender
):
    _, doctor, _ = await request(sessions, cipher, settings, gateways)
    chat = doctor_chat(engine, otp_sender, doctor)
    card = await open_card(chat, "Asha Verma")
    assert SUMMARY in card
    assert [reply.private for reply in chat.last] == [True]


async def test_a_private_reply_is_kept_without_its_words_and_its_buttons_stay_words(
    sessions, cipher, database_url
):
    await open_chat(sessions, cipher, user_role=Role.DOCTOR)
    card = Reply(text=f"Asha Verma\n{SUMMARY}", choices=(Choice("Accept", "tok1"),), private=True)
    await record(
        sessions, cipher, [*bot_messages([Reply(text="Your appointments").as_dict(), card.as_dict()])]
    )
    shown = await recent(sessions, cipher)
    assert [(m.text, m.private, m.labels) for m in shown] == [
        ("Your appointments", False, ()),
        ("", True, ("Accept",)),
    ]
    assert "penicillin" not in str(shown[1].for_page())  # decrypted from the store: the words are gone


def test_the_doctors_request_notice_is_kept_without_the_summary_but_with_how_to_type_its_buttons():
    request_notice = Notice(
        "o1",
        f"New consultation request\n{SUMMARY}",
        "appointment_request",
        actions=(NoticeAction("Accept", "t1", "accept 417"),),
        typed_hint='Reply "Accept 417".',
    )
    confirmation = Notice("o2", "Confirmed: Asha Verma", "appointment_confirmed_doctor")
    first, second = kept([request_notice, confirmation])
    assert first.private and first.labels == ("Accept",)
    assert first.typed == 'Reply "Accept 417".', "how to type its live button, for after a reload"
    assert not second.private and second.typed == ""
    assert second.text == "Confirmed: Asha Verma"


def test_a_private_card_already_at_the_end_of_the_history_is_not_kept_again_on_reopening():
    """The question a chat waits on is kept on opening unless the history ends with it: a private
    card (kept without words) still counts as the same message, or every reload would add one."""
    card = Reply(text=SUMMARY, choices=(Choice("Back", "t"),), private=True).as_dict()
    assert ends_with_prompt([Shown("bot", "", labels=("Back",), private=True)], [card])
    assert not ends_with_prompt([Shown("bot", "", labels=("Other",), private=True)], [card])


async def test_the_store_itself_never_keeps_the_words_of_a_private_message(sessions, cipher, database_url):
    """Whoever builds the message: a private one handed to the store with its words keeps none."""
    await open_chat(sessions, cipher, user_role=Role.DOCTOR)
    await record(sessions, cipher, [Shown("notice", SUMMARY, private=True, typed='Reply "Accept 417".')])
    (kept_one,) = await recent(sessions, cipher)
    assert (kept_one.text, kept_one.private, kept_one.typed) == ("", True, 'Reply "Accept 417".')
