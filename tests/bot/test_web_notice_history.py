"""Notifications shown in the web chat are kept in its history: a reload shows them again, once,
in order with the conversation, their buttons as words (with how to type them while live)."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.app import create_app
from bot.web.relay import WebRelay
from bot.web.routes import COOKIE, chat_address
from tests.bot import test_web
from tests.bot.test_web import Browser, _nudge, _row, _worker_drain, web_client

# The Redis fixtures of the web chat's relay tests, here too.
redis_url = test_web.redis_url
relay_client = test_web.relay_client

NUDGE = "better advice"  # in the profile nudge's text


@pytest.fixture
def client(settings):
    with web_client(create_app(settings)) as client:
        yield client


def _wait_for(in_db, key: str, status: str) -> None:
    """Until the dispatcher has the web chat's answer for the notice (it keeps it before that)."""
    for _ in range(200):
        row = _row(in_db, key)
        if row is not None and row.delivery_status == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"{key} never became {status}")


def _receive_notice(tab: Browser) -> dict:
    while True:
        frame = tab.socket.receive_json()
        if frame["type"] == "notice" and NUDGE in frame["replies"][0]["text"]:
            return frame["replies"][0]


def _kept_notices(history: list[dict]) -> list[dict]:
    return [message for message in history if NUDGE in message["text"]]


def test_a_notification_pushed_to_an_open_tab_is_in_the_history_after_a_reload(client, in_db, settings):
    tab = Browser(client)
    tab.sign_up()
    _nudge(in_db, "kept:1", settings.keys_json)
    _receive_notice(tab)
    _wait_for(in_db, "kept:1", "delivered")
    tab.send("Hello again")
    tab.close()

    again = Browser(client)
    (notice,) = _kept_notices(again.history)
    assert notice["side"] == "notice"
    assert notice["labels"] == ["Complete my profile"] and "token" not in notice and "tokens" not in notice
    # Its button cannot be pressed after a reload; while live, it can be typed with its code.
    assert "Reply “Complete my profile " in notice["typed"]
    # In order with the conversation: after the signup, before what was said next.
    said = [m["text"] if m["side"] == "user" else None for m in again.history]
    assert said.index("Asha Verma") < again.history.index(notice) < said.index("Hello again")


def test_a_typed_code_from_the_kept_notification_presses_its_button(client, in_db, settings):
    tab = Browser(client)
    tab.sign_up()
    _nudge(in_db, "kept:typed", settings.keys_json)
    _receive_notice(tab)
    _wait_for(in_db, "kept:typed", "delivered")
    tab.close()

    again = Browser(client)
    (notice,) = _kept_notices(again.history)
    typed = notice["typed"].rsplit("“", 1)[1].split("”", 1)[0]  # "Complete my profile 417"
    assert again.send(typed)[0]["text"] == "Let's add to your medical profile."


def test_a_waiting_notification_flushed_on_open_is_in_the_history_once(client, in_db, settings):
    tab = Browser(client)
    tab.sign_up()
    tab.close()
    _nudge(in_db, "kept:2", settings.keys_json)
    _wait_for(in_db, "kept:2", "waiting")

    opened = Browser(client)  # shows what waited, then the question
    assert any(NUDGE in notice["text"] for notice in opened.notices)
    opened.close()
    reload = Browser(client)
    (notice,) = _kept_notices(reload.history)
    assert notice["side"] == "notice"
    # The question asked after it is the live one, not in the history after the notice.
    assert reload.history[-1] == notice
    reload.close()
    assert len(_kept_notices(Browser(client).history)) == 1, "a second reload shows it once still"


def test_two_tabs_of_one_chat_keep_a_notification_once(client, in_db, settings):
    first = Browser(client)
    first.sign_up()
    second = Browser(client)  # same cookie: the same chat
    _nudge(in_db, "kept:3", settings.keys_json)
    _receive_notice(first)
    _receive_notice(second)
    _wait_for(in_db, "kept:3", "delivered")
    first.close()
    second.close()

    assert len(_kept_notices(Browser(client).history)) == 1


def test_a_notice_a_worker_elsewhere_showed_is_kept_once_and_one_no_tab_took_is_not(
    relay_client, in_db, settings, redis_url
):
    """Through Redis: kept by the worker once a web process says a tab showed it. A publish no
    tab took (the chat still marked open as its last tab closed) is not kept: it waits, and the
    opening that shows it keeps it."""
    tab = Browser(relay_client)
    tab.sign_up()
    _nudge(in_db, "relay-kept:1", settings.keys_json)
    assert _worker_drain(settings.database_url, settings.keys_json, redis_url) >= 1
    _receive_notice(tab)
    tab.close()
    asyncio.run(_mark_open(redis_url, relay_client))
    _nudge(in_db, "relay-kept:2", settings.keys_json)
    _worker_drain(settings.database_url, settings.keys_json, redis_url)
    assert _row(in_db, "relay-kept:2").delivery_status == "waiting", "published, but no tab took it"

    again = Browser(relay_client)
    kept = [message["text"] for message in again.history if NUDGE in message["text"]]
    assert len(kept) == 1, "the notice shown once is kept once; the one no tab took is not kept"
    assert any(NUDGE in notice["text"] for notice in again.notices), "it waited and shows now"
    again.close()
    reload = Browser(relay_client)
    assert len(_kept_notices(reload.history)) == 2, "kept by the opening that showed it"
    reload.close()


async def _mark_open(url: str, client) -> None:
    """The chat's "open" mark, as a web process that still believed it held a tab would leave it."""
    relay = WebRelay(url)
    try:
        await relay.opened("web:" + chat_address(client.cookies[COOKIE]))
    finally:
        await relay.close()
