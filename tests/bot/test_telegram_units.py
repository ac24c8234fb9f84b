"""Telegram rendering and update parsing: pure functions, no network."""

from __future__ import annotations

import pytest

from bot.telegram import render
from bot.telegram.updates import Unusable, parse
from bot.text import split_text, utf16_len
from conversations.messages import Choice, InboundKind, Reply, RequestKind


def test_text_is_escaped_for_html_parse_mode():
    (call,) = render.messages(7, Reply(text="<script>alert(1)</script> & <b>"))
    assert call.parse_mode == "HTML"
    assert call.text == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;"


def test_urgent_replies_are_bold_and_still_escaped():
    (call,) = render.messages(7, Reply(text="Call 112 <now>", urgent=True))
    assert call.text == "<b>Call 112 &lt;now&gt;</b>"


@pytest.mark.parametrize("line", ["a" * 50, "é" * 50, "😀" * 25])
def test_long_texts_are_split_at_line_ends_within_4096_utf16_units(line):
    text = "\n".join(f"{i} {line}" for i in range(400))
    pieces = split_text(text, render.MAX_TEXT)
    assert len(pieces) > 1
    assert all(utf16_len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == text, "nothing is lost or reordered"
    assert all(not p.startswith("\n") for p in pieces)


def test_a_single_huge_line_is_cut_hard():
    text = "😀" * 5000  # 10,000 UTF-16 units, no line breaks
    pieces = split_text(text, render.MAX_TEXT)
    assert all(utf16_len(p) <= 4096 for p in pieces) and "".join(pieces) == text


def test_only_the_last_piece_carries_the_buttons():
    reply = Reply(text="x\n" * 5000, choices=(Choice("Yes", "tok1"), Choice("No", "tok2")))
    calls = render.messages(7, reply)
    assert [c.reply_markup is not None for c in calls] == [False] * (len(calls) - 1) + [True]
    buttons = calls[-1].reply_markup.inline_keyboard
    assert [[b.callback_data for b in row] for row in buttons] == [["tok1"], ["tok2"]]


def test_callback_data_never_exceeds_64_bytes():
    with pytest.raises(ValueError):
        render.keyboard(Reply(text="x", choices=(Choice("long", "ж" * 33),)))


def test_a_contact_request_is_a_one_time_reply_keyboard():
    markup = render.keyboard(
        Reply(text="Your number?", request=RequestKind.CONTACT, request_label="📱 Share")
    )
    assert markup.one_time_keyboard and markup.keyboard[0][0].request_contact
    assert markup.keyboard[0][0].text == "📱 Share"


def _message(**fields) -> dict:
    base = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": 42, "type": "private"},
        "from": {"id": 42, "is_bot": False, "first_name": "A"},
    }
    return {"update_id": 1000, "message": {**base, **fields}}


def test_text_and_callback_updates():
    parsed = parse(_message(text="hello"))
    assert parsed.inbound.kind is InboundKind.TEXT and parsed.inbound.text == "hello"
    assert parsed.inbound.chat_id == "42" and parsed.inbound.platform_id == "u1000"
    query = {
        "update_id": 1001,
        "callback_query": {
            "id": "cq1",
            "from": {"id": 42, "is_bot": False, "first_name": "A"},
            "chat_instance": "ci",
            "data": "tok1",
            "message": {"message_id": 9, "date": 0, "chat": {"id": 42, "type": "private"}},
        },
    }
    parsed = parse(query)
    assert parsed.inbound.kind is InboundKind.CHOICE and parsed.inbound.choice_token == "tok1"
    assert parsed.callback_query_id == "cq1" and parsed.pressed_message_id == 9


def test_only_the_senders_own_contact_carries_a_phone():
    own = parse(_message(contact={"phone_number": "919876543210", "first_name": "A", "user_id": 42}))
    assert own.inbound.kind is InboundKind.CONTACT and own.inbound.contact_phone == "919876543210"
    other = parse(_message(contact={"phone_number": "919876543211", "first_name": "B", "user_id": 99}))
    assert other.inbound.kind is InboundKind.CONTACT and other.inbound.contact_phone is None
    anonymous = parse(_message(contact={"phone_number": "919876543212", "first_name": "C"}))
    assert anonymous.inbound.contact_phone is None


def test_documents_photos_and_locations():
    doc = parse(
        _message(
            document={"file_id": "F1", "file_unique_id": "u", "file_name": "licence.pdf", "file_size": 10}
        )
    )
    assert doc.inbound.kind is InboundKind.FILE and doc.file_id == "F1" and doc.file_name == "licence.pdf"
    photo = parse(
        _message(
            photo=[
                {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 100},
                {"file_id": "big", "file_unique_id": "b", "width": 900, "height": 900, "file_size": 9000},
            ]
        )
    )
    assert photo.file_id == "big"
    where = parse(_message(location={"latitude": 12.9, "longitude": 77.6}))
    assert where.inbound.kind is InboundKind.LOCATION


def test_group_chats_and_other_updates_are_not_for_the_engine():
    group = {
        "update_id": 7,
        "message": {"message_id": 1, "date": 0, "chat": {"id": -5, "type": "group"}, "text": "hi"},
    }
    assert parse(group).inbound is None
    edit = {"message_id": 2, "date": 0, "edit_date": 1, "chat": {"id": 42, "type": "private"}, "text": "hi"}
    assert parse({"update_id": 8, "edited_message": edit}).inbound is None


def test_malformed_updates_are_unusable_with_their_private_chat_when_it_can_be_told():
    with pytest.raises(Unusable) as number_text:
        parse(_message(text=5))
    assert (number_text.value.reason, number_text.value.chat_id) == ("malformed_update", 42)
    with pytest.raises(Unusable) as not_a_message:
        parse({"update_id": 2, "message": 5})
    assert not_a_message.value.chat_id is None
    group = {"message_id": 1, "date": 0, "chat": {"id": -5, "type": "group"}, "text": ["x"]}
    with pytest.raises(Unusable) as in_a_group:
        parse({"update_id": 3, "message": group})
    assert in_a_group.value.chat_id is None, "a group is never answered"


def test_salvage_reads_only_the_id_and_a_plain_private_chat_of_a_body_too_deep_to_parse():
    from bot.telegram.updates import salvage

    deep = b"[" * 5000 + b"]" * 5000
    private = (
        b'{"update_id": 41, "message": {"message_id": 1, "chat": {"id": 77, "first_name": "A", "type": "private"}, "x": '
        + deep
        + b"}}"
    )
    group = b'{"update_id":42,"message":{"chat":{"id":-100,"title":"G","type":"group"},"x":' + deep + b"}}"
    assert salvage(private) == {"update_id": 41, "message": {"chat": {"id": 77, "type": "private"}}}
    assert salvage(group) == {"update_id": 42}, "a group chat is not told"
    assert salvage(b'{"x": ' + deep + b', "update_id": 43}') is None, "no id where Telegram puts it"
    assert salvage(deep) is None
