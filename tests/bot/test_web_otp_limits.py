"""The web chat gives the OTP limits its client's address: many chats from one browser address get
codes for at most three contacts a day."""

from __future__ import annotations

import pytest

from bot.app import create_app
from tests.bot.test_web import Browser, web_client


@pytest.fixture
def client(settings):
    with web_client(create_app(settings)) as client:
        yield client


def test_many_chats_from_one_address_get_codes_for_three_contacts(client):
    answers, codes = [], 0
    for i in range(5):
        client.post("/web/signout")  # a fresh anonymous chat in the same browser, the same address
        tab = Browser(client)
        tab.tap("already have an account")
        tab.send(f"person{i}@example.com")
        answers.append(tab.text())
        codes += len(tab.dev)
        tab.close()
    assert codes == 3, "the developer panel showed three codes"
    assert all("code is on its way" in text for text in answers[:3])
    assert all("Codes have already gone to 3 different numbers or emails" in text for text in answers[3:])
