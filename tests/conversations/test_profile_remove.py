"""Removing a profile item from the chat: each item is a button whose label is the item, cut short
with "…" when it is long."""

from __future__ import annotations

from tests.chat import ChatDriver

# Longer than a label's 40 characters, with a space as the 39th: cut there it would end " …".
LONG_ITEM = "swelling of the lips after ibuprofen 2 tablets"


async def test_a_long_item_is_a_short_label_without_a_space_before_the_ellipsis(chat: ChatDriver):
    assert LONG_ITEM[38] == " " and len(LONG_ITEM) > 40
    await chat.sign_up()
    await chat.send("menu")
    await chat.tap("My medical profile")
    await chat.tap("Allergies")
    await chat.tap("Add")
    await chat.send(LONG_ITEM)
    await chat.tap("Remove one")

    label = next(label for label in chat.labels() if label.startswith("swelling"))
    assert label == LONG_ITEM[:38] + "…" and len(label) <= 40
    await chat.tap(label)
    assert f"Removed: {LONG_ITEM}" in chat.text()


async def test_an_emoji_only_item_is_refused_in_words_and_the_step_asked_again(chat: ChatDriver):
    """A doctor cannot read "🤧🤧": the chat says so and asks again; a worded item is then taken."""
    await chat.sign_up()
    await chat.send("menu")
    await chat.tap("My medical profile")
    await chat.tap("Allergies")
    await chat.tap("Add")
    replies = await chat.send("🤧🤧")
    assert replies[0].text.startswith("Please write it in words"), replies[0].text
    await chat.send("penicillin — rash 🤧")
    assert "penicillin — rash 🤧" in chat.text()
