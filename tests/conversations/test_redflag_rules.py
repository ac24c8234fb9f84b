"""The red-flag rules (conversations/redflags/rules.toml) read as a truth table: every rule has a
source and examples, and each example raises a red flag happening now; history told as history is
answered without the card."""

from __future__ import annotations

import pytest

from conversations.emergency import CATEGORIES, detect_emergency, detect_red_flag
from conversations.redflags.lexicon import CONCEPTS, RULES

EXAMPLES = [
    pytest.param(rule, example, id=f"{rule.name}: {example}") for rule in RULES for example in rule.examples
]


@pytest.mark.parametrize(("rule", "example"), EXAMPLES)
def test_every_rule_example_is_a_red_flag_now(rule, example) -> None:
    hit = detect_red_flag(example)
    assert hit is not None and not hit.history, f"{rule.name}: {example}"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_every_rule_has_a_source_examples_and_known_concepts(rule) -> None:
    assert rule.category in CATEGORIES
    assert rule.source.strip() and rule.examples
    assert all(concept in CONCEPTS for concept in (*rule.concepts, *rule.unless))
    assert len(rule.concepts) == 1 or rule.within > 0


def test_every_category_has_a_rule() -> None:
    assert {rule.category for rule in RULES} == set(CATEGORIES)


@pytest.mark.parametrize(
    ("text", "history"),
    [
        ("last year i had chest pain and got a stent, now fine, need a refill", True),
        ("pichle saal heart attack hua tha, ab theek hu, dawai refill chahiye", True),
        ("had a stroke in 2019, follow up for bp meds", True),
        ("तीन साल पहले आत्महत्या की कोशिश की थी, अब ठीक हूँ", True),
        ("had eclampsia in my first pregnancy, now 12 weeks in the second", True),
        ("had a heart attack in 2019 and now crushing chest pain again", False),
        ("grandpa got a stent 2 yrs back, same pain has come back since morning", False),
        ("haath pair ek side sunn ho gaye 10 min pehle, abhi thoda theek h", False),
        ("i was raped last night", False),
        # a past time dates what is near it; a verb in the present after it speaks of now
        ("took an overdose of sleeping pills in 2015 and she has been well for years now", True),
        ("I delivered 2 weeks ago and my baby has fever and is not feeding", False),
        ("3 din pehle gire the aur ab sir se khoon beh raha hai bahut", False),
    ],
)
def test_history_is_told_apart_from_now(text: str, history: bool) -> None:
    hit = detect_red_flag(text)
    assert hit is not None
    assert hit.history is history
    assert (detect_emergency(text) is None) is history
