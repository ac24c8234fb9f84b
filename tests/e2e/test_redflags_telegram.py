"""Emergencies typed into Telegram by new users, the way issue 15 is checked: a fixed sample of the
red-flag evaluation set's development part (eval/redflags/dev.csv) goes through the real webhook,
each message from a chat the bot has never seen, with aiogram talking to the fake Bot API.

Every emergency in the sample gets the emergency card — a mental-health crisis its own card
(Tele-MANAS 14416), violence or abuse its own (112), every other category the general one
(112 / 108) — and no ordinary or
history-only message gets a card. The sample is about one emergency per category × language,
ten ordinary and five history-only messages, chosen by a hash of each text (not by its place in
the file) so that it is the same on every run. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable

import httpx
import pytest

from bot.app import create_app
from bot.telegram.render import escape
from conversations.copy import all_translations
from tests.bot.test_telegram_e2e import Harness, _telegram_settings
from tests.chat import RecordingOtpSender
from tests.fakes.telegram_api import FakeTelegram
from tests.safety.test_redflag_dev import KNOWN_WRONG
from tests.safety.test_redflag_set import harness as redflag_set

Row = redflag_set.Row
ORDINARY, HISTORY = 10, 5
_new_chat_ids = itertools.count(1_500_000)  # far from the chat ids other tests use; one per message
CARDS = {
    "mental_health": {f"<b>{escape(text)}</b>" for text in all_translations("emergency_mental_health")},
    "general": {f"<b>{escape(text)}</b>" for text in all_translations("emergency_general")},
    "violence_abuse": {f"<b>{escape(text)}</b>" for text in all_translations("emergency_violence_abuse")},
}


def _by_hash(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: hashlib.sha256(row.text.encode()).hexdigest())


def _spread(rows: list[Row], count: int) -> list[Row]:
    """`count` rows taken in turn from each language, each language's rows in hash order."""
    per_language = [
        _by_hash(row for row in rows if row.language == language) for language in redflag_set.LANGUAGES
    ]
    turns = itertools.chain.from_iterable(itertools.zip_longest(*per_language))
    return [row for row in turns if row is not None][:count]


def sample(rows: list[Row]) -> list[Row]:
    """One emergency per category × language present, then ordinary, then history-only rows."""
    emergencies: dict[tuple[str, str], Row] = {}
    for row in _by_hash(row for row in rows if row.kind == "emergency"):
        emergencies.setdefault((row.category, row.language), row)
    chosen = [emergencies[key] for key in sorted(emergencies)]
    chosen += _spread([row for row in rows if row.kind == "ordinary"], ORDINARY)
    return chosen + _spread([row for row in rows if row.kind == "history"], HISTORY)


# The development phrases the matcher is known to get wrong (tests/safety/test_redflag_dev.py
# holds them as strict expected failures) are not sent: this checks the channel, not the list.
SAMPLE = sample([row for row in redflag_set.load("dev") if row.text not in KNOWN_WRONG])


@pytest.fixture
async def fake():
    async with FakeTelegram(
        per_chat_rate=200, per_chat_burst=50, per_bot_rate=1000, per_bot_burst=200
    ) as server:
        yield server


@pytest.fixture
async def harness(settings, fake):
    app = create_app(settings, _telegram_settings(fake))
    app.state.engine.otp_sender = RecordingOtpSender()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Harness(fake, app, http, app.state.engine.otp_sender)


def card_shown(messages: list[dict]) -> str | None:
    """Which emergency card is among the messages sent ("mental_health", "general",
    "violence_abuse"), or None."""
    texts = {message.get("text") for message in messages}
    return next((kind for kind, cards in CARDS.items() if texts & cards), None)


async def as_a_new_user(harness: Harness, chat_id: int, text: str) -> list[dict]:
    """`text` as the first message ever from a new Telegram user; what the bot sent back."""
    user = harness.user(chat_id)
    response = await user.post(user._message(text=text))
    assert response.status_code == 200, (response.status_code, text)
    answer = user.new()
    assert answer, f"no answer to a new user's {text!r}"
    return answer


async def cards_for(harness: Harness, rows: list[Row]) -> list[tuple[Row, str | None]]:
    """Each row sent from a chat of its own, with the card it got."""
    seen = []
    for row in rows:
        seen.append((row, card_shown(await as_a_new_user(harness, next(_new_chat_ids), row.text))))
    assert [call for call in harness.fake.calls if not call.ok] == [], "every call valid for the Bot API"
    return seen


def _wrong(seen: list[tuple[Row, str | None]], expected: Callable[[Row], str | None]) -> str:
    lines = [
        f"  [{row.kind} {row.category}/{row.language}] got {got or 'no card'}: {row.text}"
        for row, got in seen
        if got != expected(row)
    ]
    return "\n".join(lines)


def expected_card(row: Row) -> str:
    return row.category if row.category in ("mental_health", "violence_abuse") else "general"


def test_the_sample_covers_every_category_and_language_of_the_development_part():
    rows = [row for row in redflag_set.load("dev") if row.text not in KNOWN_WRONG]
    present = {(row.category, row.language) for row in rows if row.kind == "emergency"}
    emergencies = [row for row in SAMPLE if row.kind == "emergency"]
    assert {(row.category, row.language) for row in emergencies} == present
    assert len(emergencies) == len(present)
    assert [row.kind for row in SAMPLE].count("ordinary") == ORDINARY
    assert [row.kind for row in SAMPLE].count("history") == HISTORY
    assert {row.language for row in SAMPLE if row.kind != "emergency"} == set(redflag_set.LANGUAGES)
    assert sample(list(reversed(rows))) == SAMPLE, "the choice does not depend on the file's order"


async def test_every_emergency_from_a_new_telegram_user_gets_its_card(harness):
    emergencies = [row for row in SAMPLE if row.kind == "emergency"]
    wrong = _wrong(await cards_for(harness, emergencies), expected_card)
    assert not wrong, f"emergencies without their card:\n{wrong}"


async def test_ordinary_and_history_messages_from_new_telegram_users_get_no_card(harness):
    others = [row for row in SAMPLE if row.kind != "emergency"]
    wrong = _wrong(await cards_for(harness, others), lambda row: None)
    assert not wrong, f"false alarms:\n{wrong}"
