"""The web page's own words (bot/web/static/strings.js): every key the page uses exists in English
and Hindi, and the Hindi is Hindi. (In the browser: tests/e2e/test_web_browser.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.web.routes import STATIC

DEVANAGARI = re.compile(r"[\u0900-\u097F]")
# Words that are the same in both languages: the product's and a service's names, a prefix.
SAME_IN_BOTH = {"bot_says", "sos_14416"}


def strings() -> dict[str, dict[str, str]]:
    source = (STATIC / "strings.js").read_text(encoding="utf-8")
    return json.loads(source[source.index("{") : source.rindex("}") + 1])


def keys_used() -> set[str]:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    marked = set(re.findall(r'data-i18n(?:-aria-label|-title)?="([a-z0-9_]+)"', page))
    # Every whole key named in a t(...) call, those chosen by a condition included ("sos_" + a
    # number is built: the numbers are checked below).
    called = {
        key
        for args in re.findall(r"\bt\(([^()]*)\)", script)
        for key in re.findall(r'"([a-z0-9_]+)"', args)
        if not key.endswith("_")
    }
    sos = {f"sos_{number}" for number in re.findall(r'"(\d{3,5})"', _line(script, "EMERGENCY_NUMBERS ="))}
    refusals = set(re.findall(r'\d{3}: "([a-z0-9_]+)"', _line(script, "var known =")))
    return marked | called | sos | refusals


def _line(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if start in line)


def test_english_and_hindi_have_the_same_keys_and_every_key_the_page_uses():
    table = strings()
    assert set(table) == {"en", "hi"}
    assert set(table["en"]) == set(table["hi"])
    used = keys_used()
    assert {"placeholder", "send", "footer", "online", "sos_112", "file_not_asked"} <= used
    assert used <= set(table["en"]), f"missing: {sorted(used - set(table['en']))}"


def test_the_hindi_words_are_hindi_and_the_emergency_numbers_survive_translation():
    table = strings()
    for key, english in table["en"].items():
        hindi = table["hi"][key]
        assert english.strip() and hindi.strip(), key
        if key not in SAME_IN_BOTH:
            assert DEVANAGARI.search(hindi), f"{key} is not Hindi: {hindi!r}"
        assert re.findall(r"\d+|\{\w+\}", english) == re.findall(r"\d+|\{\w+\}", hindi), key


def test_the_developer_buttons_label_follows_the_page_into_hindi():
    # Its panel's inner content is for developers and stays English; the header button is the page's.
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    button = re.search(r'<button[^>]*id="dev-toggle"[^>]*>.*?</button>', page, re.S).group(0)
    assert 'data-i18n-title="dev_toggle_title"' in button
    label = re.search(r'<span class="dev-toggle-label"([^>]*)>', button).group(1)
    assert 'data-i18n="dev_toggle"' in label
    assert strings()["hi"]["dev_toggle"] == "डेवलपर"


def test_the_landing_page_promises_only_what_works_today():
    table = strings()["en"]
    page = (Path(STATIC) / "index.html").read_text(encoding="utf-8")
    assert "coming" in table["intro_text"].lower()
    assert "coming soon" in table["feature_pharmacy"] and "coming soon" in table["feature_labs"]
    assert "get your prescription" not in page and "order medicines and book lab tests" not in page
