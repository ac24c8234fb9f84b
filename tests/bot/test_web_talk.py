"""What a new user meets in the web chat: the terms page linked from the consent question, a
language switched by typing its name, and an honest answer to a request for what is not built."""

from __future__ import annotations

import re

from tests.bot.test_web import Browser, app, client  # noqa: F401  (fixtures used by name)


def test_the_consent_links_a_terms_page_that_opens_in_either_language(client):  # noqa: F811
    tab = Browser(client)
    tab.tap("sign up")
    link = re.search(r"https?://\S+/terms\?lang=en", tab.text())
    assert link, tab.text()
    page = client.get("/terms?lang=en")
    assert page.status_code == 200
    assert "telecare terms (version " in page.text and "This service is not for emergencies" in page.text
    assert "If you do not agree" in page.text
    hindi = client.get("/terms?lang=hi")
    assert hindi.status_code == 200 and "telecare की शर्तें" in hindi.text
    assert client.get("/terms?lang=<script>").status_code == 200  # unknown: English, nothing echoed
    assert "<script>" not in client.get("/terms?lang=<script>").text
    tab.close()


def test_typing_hindi_in_the_web_chat_switches_at_once(client):  # noqa: F811
    tab = Browser(client)
    tab.tap("sign up")
    tab.tap("I agree")
    tab.send("Hindi")
    assert "आपका पूरा नाम क्या है?" in tab.text()
    tab.close()


def test_asking_to_order_medicines_gets_an_honest_answer_not_pick_an_option(client):  # noqa: F811
    tab = Browser(client)
    tab.send("I want to order medicines")
    assert "Ordering medicines is coming soon" in tab.text()
    assert "choose one of the options" not in tab.text()
    tab.close()


def test_the_welcome_says_what_works_today_and_what_is_coming(client):  # noqa: F811
    tab = Browser(client)
    assert "find a verified doctor, and book and pay for an appointment" in tab.text()
    assert "Coming soon, not here yet: consultations in the chat and by video, prescriptions" in tab.text()
    assert "get your prescription and order medicines" not in tab.text()
    tab.close()
