"""The fake Telegram Bot API rejects what Telegram rejects and accepts what it accepts.

Driven mostly through a real aiogram Bot, and with raw HTTP for inputs aiogram would never send.
"""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
    User,
    WebhookInfo,
)

from tests.fakes.telegram_api import FakeTelegram, parse_html, parse_markdown_v2

FAST = {"per_chat_rate": 50, "per_chat_burst": 50, "per_bot_rate": 1000, "per_bot_burst": 1000}


def aiogram_bot(tg: FakeTelegram, token: str | None = None) -> Bot:
    return Bot(token or tg.token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(**FAST) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = aiogram_bot(tg)
    yield bot
    await bot.session.close()


async def raw(tg: FakeTelegram, method: str, *, token: str | None = None, **kwargs: Any) -> tuple[int, dict]:
    """A request aiogram would not make: kwargs go to httpx (data=, json=, params=, files=)."""
    async with httpx.AsyncClient(base_url=tg.base_url) as client:
        response = await client.post(f"/bot{token or tg.token}/{method}", **kwargs)
    return response.status_code, response.json()


def button(text: str, **action: Any) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, **action)


# ---- sendMessage and what aiogram makes of the answer


async def test_send_message_returns_a_message_aiogram_parses(tg: FakeTelegram, bot: Bot) -> None:
    markup = InlineKeyboardMarkup(inline_keyboard=[[button("Yes", callback_data="yes")]])
    first = await bot.send_message(7, "hello", reply_markup=markup)
    second = await bot.send_message(7, "<b>again</b>", parse_mode="HTML")

    assert isinstance(first, Message)
    assert (first.chat.id, first.chat.type, first.text) == (7, "private", "hello")
    assert first.from_user is not None and first.from_user.id == 42 and first.from_user.is_bot
    assert first.reply_markup is not None and first.reply_markup.model_dump() == markup.model_dump()
    assert second.message_id == first.message_id + 1
    assert second.text == "again"  # the text as shown, tags parsed away
    assert [m["text"] for m in tg.messages_to(7)] == ["hello", "<b>again</b>"]  # what the bot sent
    assert tg.messages_to(7)[0]["reply_markup"] == {
        "inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]
    }
    assert tg.messages_to(8) == []


async def test_get_me_is_a_bot_user(bot: Bot) -> None:
    me = await bot.get_me()
    assert isinstance(me, User)
    assert (me.id, me.is_bot, me.username) == (42, True, "telecare_test_bot")


async def test_text_limit_is_4096_utf16_units_after_parsing(bot: Bot) -> None:
    await bot.send_message(1, "x" * 4096)
    await bot.send_message(1, "😀" * 2048)  # 2 UTF-16 code units each
    await bot.send_message(1, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")  # tags don't count
    for too_long, mode in [("x" * 4097, None), ("😀" * 2049, None), ("&amp;" * 4097, "HTML")]:
        with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
            await bot.send_message(1, too_long, parse_mode=mode)


async def test_empty_text(tg: FakeTelegram) -> None:
    assert await raw(tg, "sendMessage", data={"chat_id": 1, "text": ""}) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"},
    )
    status, body = await raw(tg, "sendMessage", data={"chat_id": 1, "text": "   "})
    assert (status, body["description"]) == (400, "Bad Request: text must be non-empty")
    status, body = await raw(tg, "sendMessage", data={"chat_id": 1, "text": "<b> </b>", "parse_mode": "HTML"})
    assert (status, body["description"]) == (400, "Bad Request: text must be non-empty")


async def test_caption_limit_is_1024(bot: Bot) -> None:
    document = BufferedInputFile(b"%PDF-1.4", filename="r.pdf")
    await bot.send_document(1, document, caption="c" * 1024)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_document(1, document, caption="c" * 1025)


# ---- keyboards


async def test_callback_data_is_limited_in_bytes_not_characters(bot: Bot) -> None:
    assert len(("é" * 32).encode()) == 64
    ok = InlineKeyboardMarkup(inline_keyboard=[[button("ok", callback_data="é" * 32)]])
    await bot.send_message(1, "pick", reply_markup=ok)
    over = InlineKeyboardMarkup(
        inline_keyboard=[[button("no", callback_data="é" * 32 + "a")]]
    )  # 33 chars, 65 bytes
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(1, "pick", reply_markup=over)


async def test_inline_keyboard_size_limits(bot: Bot) -> None:
    row = [button(str(i), callback_data=str(i)) for i in range(8)]
    await bot.send_message(1, "8 a row", reply_markup=InlineKeyboardMarkup(inline_keyboard=[row]))
    hundred = [row] * 12 + [row[:4]]
    await bot.send_message(1, "100", reply_markup=InlineKeyboardMarkup(inline_keyboard=hundred))
    for rows in ([[*row, button("9", callback_data="9")]], [*hundred, [button("x", callback_data="x")]]):
        with pytest.raises(TelegramBadRequest, match="BUTTONS_TOO_MUCH"):
            await bot.send_message(1, "too many", reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


async def test_inline_buttons_need_exactly_one_action(tg: FakeTelegram) -> None:
    async def send(*buttons: dict) -> tuple[int, str]:
        markup = json.dumps({"inline_keyboard": [list(buttons)]})
        status, body = await raw(tg, "sendMessage", data={"chat_id": 1, "text": "t", "reply_markup": markup})
        return status, body.get("description", "")

    unallowed = (
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
    )
    assert await send({"text": "plain"}) == (400, unallowed)
    assert await send({"text": "empty", "callback_data": ""}) == (400, unallowed)  # as the live API answers
    status, description = await send({"text": "both", "callback_data": "a", "url": "https://example.com"})
    assert status == 400 and "Exactly one of the optional fields" in description
    assert await send({"callback_data": "x"}) == (
        400,
        "Bad Request: can't parse inline keyboard button: Can't find field \"text\"",
    )
    assert await send({"text": "bad", "url": "not-a-url"}) == (
        400,
        "Bad Request: inline keyboard button URL 'not-a-url' is invalid: Wrong HTTP URL",
    )
    assert await send({"text": "pay", "pay": True}) == (400, "Bad Request: BUTTON_TYPE_INVALID")
    assert (await send({"text": "go", "url": "https://example.com/a"}))[0] == 200


async def test_reply_keyboard_with_request_contact(bot: Bot) -> None:
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Share my phone number", request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    message = await bot.send_message(5, "Please share your number", reply_markup=keyboard)
    assert message.reply_markup is None  # Telegram echoes inline keyboards only


async def test_markup_that_is_not_json(tg: FakeTelegram) -> None:
    status, body = await raw(tg, "sendMessage", data={"chat_id": 1, "text": "t", "reply_markup": "{oops"})
    assert (status, body["description"]) == (
        400,
        "Bad Request: can't parse reply keyboard markup JSON object",
    )
    markup = json.dumps({"force_reply": "yes"})
    status, body = await raw(tg, "sendMessage", data={"chat_id": 1, "text": "t", "reply_markup": markup})
    assert body["description"] == 'Bad Request: field "force_reply" must be of type Boolean'


# ---- parse modes


MALFORMED_HTML = [
    ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
    ("1 < 2", 'Unsupported start tag "" at byte offset 2'),  # a bare "<" starts a tag
    ("<b><i>test</b></i>", 'Unmatched end tag at byte offset 10, expected "</i>", found "</b>"'),
    ("</b>", "Unexpected end tag at byte offset 0"),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<a href="https://x.org>x</a>', "Unclosed start tag at byte offset 0"),
    ("Dr. Rao <3", "Unclosed start tag at byte offset 8"),
]
WELL_FORMED_HTML = [
    (html.escape("<script> & 'co' \"x\""), "<script> & 'co' \"x\""),
    (
        "<b>bold</b> <i>it</i> <u>u</u> <s>s</s> <tg-spoiler>sp</tg-spoiler> <code>c</code>",
        "bold it u s sp c",
    ),
    ('<a href="https://example.com/?a=1&amp;b=2">link</a>', "link"),
    ('<pre><code class="language-python">x = 1</code></pre><blockquote expandable>q</blockquote>', "x = 1q"),
    ("&#128512; &#x1F600; &lt;3", "😀 😀 <3"),
    # TDLib keeps whatever is not one of its entities as it is: a bare "&", "&nbsp;", a bare ">".
    ("R&D &nbsp; a > b", "R&D &nbsp; a > b"),
]


async def test_malformed_html_is_rejected(bot: Bot) -> None:
    for text, description in MALFORMED_HTML:
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(1, text, parse_mode="HTML")
        assert caught.value.message == f"Bad Request: can't parse entities: {description}", text


async def test_well_formed_html_is_accepted(bot: Bot) -> None:
    for text, shown in WELL_FORMED_HTML:
        message = await bot.send_message(1, text, parse_mode="HTML")
        assert message.text == shown, text


async def test_markdown_modes(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved and must be escaped"):
        await bot.send_message(1, "Take 2 tablets.", parse_mode="MarkdownV2")
    message = await bot.send_message(1, "*Take* 2 tablets\\.", parse_mode="MarkdownV2")
    assert message.text == "Take 2 tablets."
    with pytest.raises(TelegramBadRequest, match="Can't find end of Bold entity at byte offset 0"):
        await bot.send_message(1, "*unclosed", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="Can't find end of the entity starting at byte offset 0"):
        await bot.send_message(1, "*unclosed", parse_mode="Markdown")
    with pytest.raises(TelegramBadRequest, match="Bad Request: unsupported parse_mode"):
        await bot.send_message(1, "x", parse_mode="Textile")


def test_parsers_follow_tdlib_offsets_in_utf8_bytes() -> None:
    # Cases from TDLib's test/message_entities.cpp: offsets count UTF-8 bytes of the raw text.
    with pytest.raises(ValueError, match='Unsupported start tag "abac" at byte offset 13'):
        parse_html("🏟 🏟&lt;<abac>")
    with pytest.raises(ValueError, match="Can't find end of Italic entity at byte offset 23"):
        parse_markdown_v2("🏟 🏟__🏟 _🏟___")
    assert parse_html("&ge;&lt;&gt;&amp;&quot;&laquo;&#12345678;") == '&ge;<>&"&laquo;&#12345678;'
    assert parse_markdown_v2(">asd\n>q||e||w||\nasdad") == "asd\nqew\nasdad"


async def test_explicit_entities_must_fit_the_text(tg: FakeTelegram) -> None:
    entities = json.dumps([{"type": "bold", "offset": 0, "length": 100}])
    status, body = await raw(tg, "sendMessage", data={"chat_id": 1, "text": "hello", "entities": entities})
    assert body["description"] == (
        "Bad Request: entity beginning at UTF-16 offset 0 ends after the end of the text at UTF-16 offset 100"
    )
    entities = json.dumps([{"type": "text_link", "offset": 0, "length": 5}])
    status, body = await raw(tg, "sendMessage", data={"chat_id": 1, "text": "hello", "entities": entities})
    assert status == 400
    assert body["description"] == "Bad Request: can't parse MessageEntity: Can't find field \"url\""


# ---- the request itself


async def test_unknown_method_is_404(tg: FakeTelegram) -> None:
    assert await raw(tg, "sendTelepathy", data={"chat_id": 1}) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{tg.base_url}/nothing/here")
    assert response.status_code == 404


async def test_method_names_are_case_insensitive(tg: FakeTelegram) -> None:
    status, body = await raw(tg, "SENDMESSAGE", data={"chat_id": 3, "text": "hi"})
    assert status == 200 and body["result"]["text"] == "hi"
    assert tg.calls[-1].method == "sendMessage"


async def test_unknown_and_missing_parameters_are_400(tg: FakeTelegram) -> None:
    status, body = await raw(tg, "sendMessage", data={"chat_id": 1, "text": "t", "parse_mod": "HTML"})
    assert (status, body["description"]) == (400, 'Bad Request: unknown parameter "parse_mod"')
    status, body = await raw(tg, "sendMessage", data={"text": "t"})
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body = await raw(tg, "getFile", data={})
    assert (status, body["description"]) == (400, 'Bad Request: parameter "file_id" is required')
    status, body = await raw(tg, "sendDocument", data={"chat_id": 1})
    assert body["description"] == "Bad Request: there is no document in the request"
    status, body = await raw(tg, "getUpdates", data={"limit": "many"})
    assert (status, body["description"]) == (400, 'Bad Request: field "limit" must be of type Integer')
    status, body = await raw(tg, "sendMessage", data={"chat_id": "not_a_chat", "text": "t"})
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_unknown_parameters_pass_when_not_strict() -> None:
    async with FakeTelegram(strict_params=False, **FAST) as lenient:
        status, _ = await raw(lenient, "sendMessage", data={"chat_id": 1, "text": "t", "parse_mod": "HTML"})
        assert status == 200


async def test_query_string_json_body_and_get(tg: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    status, body = await raw(tg, "sendMessage", json={"chat_id": 2, "text": "json", "reply_markup": markup})
    assert status == 200 and body["result"]["reply_markup"] == markup
    status, body = await raw(tg, "sendMessage", params={"chat_id": "2", "text": "query"})
    assert status == 200
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{tg.base_url}/bot{tg.token}/sendMessage", params={"chat_id": 2, "text": "get"}
        )
    assert response.status_code == 200
    assert [m["text"] for m in tg.messages_to(2)] == ["json", "query", "get"]


async def test_wrong_token_is_401(tg: FakeTelegram) -> None:
    intruder = aiogram_bot(tg, token="43:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await intruder.get_me()
    finally:
        await intruder.session.close()
    assert tg.calls[-1].status == 401


# ---- flood control


async def test_per_chat_limit_and_recovery() -> None:
    async with FakeTelegram(per_chat_rate=1, per_chat_burst=3, retry_after=1) as tg:
        bot = aiogram_bot(tg)
        try:
            for i in range(3):
                await bot.send_message(10, f"burst {i}")
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_message(10, "one too many")
            assert caught.value.retry_after == 1
            assert tg.calls[-1].response == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
            await bot.send_message(11, "another chat is not limited")
            for _ in range(5):  # refused calls take no tokens
                with pytest.raises(TelegramRetryAfter):
                    await bot.send_message(10, "still too many")
            await asyncio.sleep(caught.value.retry_after)
            await bot.send_message(10, "after waiting")
        finally:
            await bot.session.close()
    assert [m["text"] for m in tg.messages_to(10)] == ["burst 0", "burst 1", "burst 2", "after waiting"]


async def test_per_bot_limit_across_chats() -> None:
    async with FakeTelegram(per_chat_rate=100, per_chat_burst=100, per_bot_rate=5, per_bot_burst=5) as tg:
        bot = aiogram_bot(tg)
        try:
            for chat_id in range(1, 6):
                await bot.send_message(chat_id, "reminder")
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(6, "reminder")
            await bot.get_me()  # calls that post nothing are not counted
        finally:
            await bot.session.close()


# ---- injected failures and blocked users


async def test_injected_failures_come_first(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", status=500, description="Internal Server Error", times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(1, "x" * 5000)  # the injected failure wins over "message is too long"
    tg.fail_next("sendMessage", status=429, description="Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(1, "hi")
    assert caught.value.retry_after == 7
    await bot.send_message(1, "hi")


async def test_blocked_user_is_403(tg: FakeTelegram, bot: Bot) -> None:
    tg.block(9)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(9, "Your appointment is tomorrow")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(9, "typing")
    await bot.send_message(8, "others still get messages")
    assert tg.messages_to(9) == []


# ---- getUpdates


def text_update(chat_id: int, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "message": {
            "message_id": 500,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Asha"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Asha"},
            "text": text,
        },
        **extra,
    }


async def test_get_updates_offset_limit_and_long_poll(tg: FakeTelegram, bot: Bot) -> None:
    for text in ("one", "two", "three"):
        tg.push_update(text_update(5, text))
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
    assert all(isinstance(u, Update) for u in updates)
    first, second, third = (u.update_id for u in updates)
    assert second == first + 1 and third == second + 1

    assert [u.update_id for u in await bot.get_updates(offset=second, limit=1)] == [second]
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second, third]  # "one" is gone
    assert await bot.get_updates(offset=third + 1, timeout=0) == []

    started = time.monotonic()
    waiting = asyncio.create_task(bot.get_updates(offset=third + 1, timeout=3))
    await asyncio.sleep(0.2)
    tg.push_update(text_update(5, "four"))
    updates = await waiting
    assert [u.message.text for u in updates if u.message] == ["four"]
    assert time.monotonic() - started < 1.5  # answered as soon as the update came

    started = time.monotonic()
    assert await bot.get_updates(offset=third + 2, timeout=1) == []
    assert time.monotonic() - started >= 0.9


async def test_a_second_poller_ends_the_first_with_409(tg: FakeTelegram) -> None:
    first = asyncio.create_task(raw(tg, "getUpdates", data={"timeout": 3}, timeout=10))
    await asyncio.sleep(0.1)
    second = await raw(tg, "getUpdates", data={"timeout": 0})
    assert second == (200, {"ok": True, "result": []})
    status, body = await first
    assert (status, body["description"]) == (
        409,
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    )


async def test_get_updates_conflicts_with_a_webhook(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook("https://telecare.example/tg/webhook")
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()


async def test_pushed_updates_must_match_the_spec(tg: FakeTelegram) -> None:
    with pytest.raises(ValueError, match='unknown field "txt" in Message'):
        tg.push_update({"message": {**text_update(1, "x")["message"], "txt": "typo"}})
    with pytest.raises(ValueError, match='can\'t find field "date"'):
        tg.push_update({"message": {"message_id": 1, "chat": {"id": 1, "type": "private"}}})


# ---- callback queries and edits


async def test_callback_query_answers(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(
        4, "Confirm?", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button("Yes", callback_data="y")]])
    )
    tg.push_update(
        {
            "callback_query": {
                "id": "q1",
                "from": {"id": 4, "is_bot": False, "first_name": "Asha"},
                "chat_instance": "ci",
                "data": "y",
                "message": sent.model_dump(mode="json", by_alias=True, exclude_none=True),
            }
        }
    )
    assert await bot.answer_callback_query("q1", text="x" * 200)
    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout expired"):
        await bot.answer_callback_query("q1")
    with pytest.raises(TelegramBadRequest, match="Bad Request: MESSAGE_TOO_LONG"):
        await bot.answer_callback_query("q2", text="x" * 201)


async def test_edits(tg: FakeTelegram, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[button("Cancel", callback_data="cancel")]])
    sent = await bot.send_message(4, "Booked for 10:00", reply_markup=keyboard)
    edited = await bot.edit_message_text(
        "Booked for 11:00", chat_id=4, message_id=sent.message_id, reply_markup=keyboard
    )
    assert isinstance(edited, Message) and edited.text == "Booked for 11:00"
    assert edited.reply_markup is not None and edited.reply_markup.model_dump() == keyboard.model_dump()
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is not modified"):
        await bot.edit_message_text(
            "Booked for 11:00", chat_id=4, message_id=sent.message_id, reply_markup=keyboard
        )
    cleared = await bot.edit_message_reply_markup(chat_id=4, message_id=sent.message_id)
    assert isinstance(cleared, Message) and cleared.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=4, message_id=999)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_reply_markup(chat_id=4, message_id=999, reply_markup=keyboard)
    assert [m.get("text") for m in tg.messages_to(4)] == ["Booked for 10:00", "Booked for 11:00", None]


async def test_messages_from_pushed_updates_are_known(tg: FakeTelegram, bot: Bot) -> None:
    tg.push_update(text_update(5, "hi doctor"))  # message 500 from the patient
    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be edited"):
        await bot.edit_message_text("changed", chat_id=5, message_id=500)
    reply = await bot.send_message(5, "Hello Asha")
    assert reply.message_id == 501 and reply.chat.first_name == "Asha"
    assert await bot.delete_message(5, reply.message_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(5, reply.message_id)


# ---- files


async def test_get_file_and_download(tg: FakeTelegram, bot: Bot) -> None:
    content = b"%PDF-1.4 lab report"
    file_id = tg.add_file(content, "documents/lab.pdf")
    file = await bot.get_file(file_id)
    assert (file.file_path, file.file_size) == ("documents/lab.pdf", len(content))
    downloaded = await bot.download(file_id)
    assert downloaded is not None and downloaded.read() == content
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{tg.base_url}/file/bot{tg.token}/documents/lab.pdf") as response,
    ):
        assert response.status == 200 and await response.read() == content
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{tg.base_url}/file/bot{tg.token}/documents/nope.pdf") as response,
    ):
        assert response.status == 404
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid file_id"):
        await bot.get_file("no-such-file")


async def test_send_document_upload(tg: FakeTelegram, bot: Bot) -> None:
    content = b"%PDF-1.4 prescription"
    message = await bot.send_document(
        3, BufferedInputFile(content, filename="prescription.pdf"), caption="Your prescription"
    )
    assert message.document is not None
    assert (message.document.file_name, message.document.file_size) == ("prescription.pdf", len(content))
    assert message.caption == "Your prescription"
    call = tg.calls_to("sendDocument")[-1]
    upload = call.params["document"]
    assert (upload.filename, upload.size, upload.data) == ("prescription.pdf", len(content), content)
    downloaded = await bot.download(message.document)
    assert downloaded is not None and downloaded.read() == content
    again = await bot.send_document(4, message.document.file_id)  # resent by file_id
    assert again.document is not None and again.document.file_id == message.document.file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_document(4, "no-such-file-id")


async def test_media_group(tg: FakeTelegram, bot: Bot) -> None:
    photos = [InputMediaPhoto(media=BufferedInputFile(b"jpeg %d" % i, filename=f"{i}.jpg")) for i in range(2)]
    messages = await bot.send_media_group(6, photos)
    assert [m.message_id for m in messages] == [1, 2] and all(m.photo for m in messages)
    assert tg.calls_to("sendMediaGroup")[-1].params["media"][0]["media"].filename == "0.jpg"
    too_long = [photos[0].model_copy(update={"caption": "c" * 1025}), photos[1]]
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_media_group(6, too_long)


# ---- webhook and commands


async def test_set_webhook_and_secret(tg: FakeTelegram, bot: Bot) -> None:
    url = "https://telecare.example/tg/webhook"
    assert await bot.set_webhook(
        url, secret_token="s3cret_-TOKEN", allowed_updates=["message", "callback_query"]
    )
    assert tg.webhook is not None
    assert (tg.webhook["url"], tg.webhook["secret_token"]) == (url, "s3cret_-TOKEN")
    assert tg.webhook["allowed_updates"] == ["message", "callback_query"]
    info = await bot.get_webhook_info()
    assert (
        isinstance(info, WebhookInfo)
        and info.url == url
        and info.allowed_updates == ["message", "callback_query"]
    )

    for secret, description in [
        ("base64+/=", "secret token contains unallowed characters"),
        ("with space", "secret token contains unallowed characters"),
        ("x" * 257, "secret token is too long"),
    ]:
        with pytest.raises(TelegramBadRequest, match=description):
            await bot.set_webhook(url, secret_token=secret)
    assert await bot.set_webhook(url, secret_token="x" * 256)
    with pytest.raises(TelegramBadRequest, match="bad webhook: An HTTPS URL must be provided"):
        await bot.set_webhook("http://telecare.example/tg/webhook")
    with pytest.raises(TelegramBadRequest, match="bad webhook: Webhook can be set up only on ports"):
        await bot.set_webhook("https://telecare.example:8080/tg/webhook")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert tg.webhook is None
    assert (await bot.get_webhook_info()).url == ""


async def test_set_my_commands(tg: FakeTelegram, bot: Bot) -> None:
    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="book_visit", description="Book"),
    ]
    assert await bot.set_my_commands(commands)
    assert tg.commands == [
        {"command": "start", "description": "Start"},
        {"command": "book_visit", "description": "Book"},
    ]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "book_visit"]
    for command, description, error in [
        ("Start", "Start", "BOT_COMMAND_INVALID"),
        ("book-visit", "Book", "BOT_COMMAND_INVALID"),
        ("x" * 33, "Long", "command length must not exceed 32"),
        ("help", " ", "command description must be non-empty"),
        ("help", "d" * 257, "command description length must not exceed 256"),
    ]:
        with pytest.raises(TelegramBadRequest, match=error):
            await bot.set_my_commands([BotCommand(command=command, description=description)])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMANDS_TOO_MUCH"):
        await bot.set_my_commands([BotCommand(command=f"c{i}", description="d") for i in range(101)])
    assert await bot.set_my_commands([BotCommand(command="x" * 32, description="d" * 256)])


# ---- the record


async def test_every_call_is_recorded(tg: FakeTelegram, bot: Bot) -> None:
    await bot.get_me()
    await bot.send_message(
        1, "hi", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button("A", callback_data="a")]])
    )
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(1, "")
    await raw(tg, "noSuchMethod")
    await raw(tg, "getMe", token="1:BAD")

    assert [(c.method, c.status) for c in tg.calls] == [
        ("getMe", 200),
        ("sendMessage", 200),
        ("sendMessage", 400),
        ("noSuchMethod", 404),
        ("getMe", 401),
    ]
    sent = tg.calls_to("sendMessage")[0]
    assert sent.params == {
        "chat_id": 1,
        "text": "hi",
        "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    }
    assert sent.response is not None and sent.response["result"]["message_id"] == 1
    assert tg.calls[0].time <= tg.calls[1].time
