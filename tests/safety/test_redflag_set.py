"""The red-flag evaluation set (eval/redflags/) is what docs/safety.md says it is: two parts that
share no message, every row well-formed, every category in all three languages with enough
emergencies, and enough ordinary and history-only messages that share their words. And the
evaluation counts what it says it counts."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from conversations.emergency import EmergencyHit

ROOT = Path(__file__).resolve().parents[2]
CATEGORIES = {
    "cardiac",
    "breathing",
    "stroke",
    "neuro",
    "bleeding_trauma",
    "anaphylaxis",
    "poisoning",
    "obstetric",
    "paediatric",
    "mental_health",
    "violence_abuse",
}
SOURCES = {
    "NHS-999",
    "NHS-111",
    "AHA-BEFAST",
    "WHO-ETAT",
    "WHO-IMCI",
    "WHO-pregnancy",
    "C-SSRS",
    "Tele-MANAS",
    "WHO-IPV",
    "own",
    "operator",  # a message the matcher missed, recorded with `telecare safety missed`
}


def _harness():
    spec = importlib.util.spec_from_file_location("redflags_eval", ROOT / "eval" / "redflags.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module


harness = _harness()


@pytest.mark.parametrize("part", ["dev", "test"])
def test_every_row_is_well_formed(part):
    for row in harness.load(part):
        assert row.text and row.language in harness.LANGUAGES and row.source in SOURCES, row
        if row.kind == "emergency":
            assert row.category in CATEGORIES, row
        else:
            assert row.kind in ("ordinary", "history") and row.category == "none", row


@pytest.mark.parametrize("part", ["dev", "test"])
def test_every_category_has_enough_emergencies_in_every_language(part):
    rows = harness.load(part)
    per_category = Counter(row.category for row in rows if row.kind == "emergency")
    assert set(per_category) == CATEGORIES
    assert min(per_category.values()) >= 20, per_category
    per_language = Counter((row.category, row.language) for row in rows if row.kind == "emergency")
    assert all(
        per_language[(category, language)] >= 3 for category in CATEGORIES for language in harness.LANGUAGES
    )
    ordinary = [row for row in rows if row.kind != "emergency"]
    assert len(ordinary) >= 100 and {row.kind for row in ordinary} == {"ordinary", "history"}


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def test_the_parts_share_no_message_and_hold_no_duplicates():
    dev, test = ([_key(row.text) for row in harness.load(part)] for part in ("dev", "test"))
    assert len(dev) == len(set(dev)) and len(test) == len(set(test))
    assert not set(dev) & set(test)
    assert len(dev) + len(test) >= 600


def test_the_evaluation_counts_catches_misses_and_false_alarms(monkeypatch):
    flagged = {"crushing pain in my chest": "cardiac", "my chest x-ray came": "cardiac", "fits": "stroke"}
    monkeypatch.setattr(
        harness,
        "detect_red_flag",
        lambda text, model=True: EmergencyHit(flagged[text], text) if text in flagged else None,
    )
    rows = [
        harness.Row("crushing pain in my chest", "cardiac", "en", "emergency", "NHS-999"),
        harness.Row("seene mein bahut dard", "cardiac", "hinglish", "emergency", "NHS-999"),
        harness.Row("fits", "neuro", "en", "emergency", "NHS-999"),
        harness.Row("my chest x-ray came", "none", "en", "ordinary", "own"),
        harness.Row("chest pain last year, fine now", "none", "en", "history", "own"),
    ]
    result = harness.evaluate(rows)
    recall, alarms = result["recall"], result["alarms"]
    assert (recall["cardiac"]["all"].caught, recall["cardiac"]["all"].total) == (1, 2)
    assert (recall["all"]["all"].caught, recall["all"]["all"].total) == (2, 3)
    assert (alarms["ordinary"]["en"].caught, alarms["all"]["all"].caught, alarms["all"]["all"].total) == (
        1,
        1,
        2,
    )
    assert [row.text for row in result["missed"]] == ["seene mein bahut dard"]
    assert result["named"] == Counter({"cardiac": 1})  # "fits" was caught, but named as another
