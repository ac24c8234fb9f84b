"""Every phrase of the development part of the red-flag set (eval/redflags/dev.csv) is a test
case: an emergency must raise the card, an ordinary or history-only message must not. A change
that loses recall, or raises a false alarm, fails here.

The few the matcher still gets wrong are listed in KNOWN_WRONG, each as strict expected failure:
fixing one fails the suite until it is taken off the list, so the list only ever shrinks honestly.
The held-out test part is never run here: it is only reported (make eval-redflags)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.emergency import detect_red_flag
from tests.safety.test_redflag_set import harness

KNOWN_WRONG = frozenset(
    Path(__file__).with_name("redflag_dev_known_wrong.txt").read_text(encoding="utf-8").splitlines()
)
ROWS = harness.load("dev")


def _case(row):
    marks = (
        [pytest.mark.xfail(strict=True, reason="known miss or false alarm")]
        if row.text in KNOWN_WRONG
        else []
    )
    return pytest.param(row, id=f"{row.kind}-{row.category}-{row.language}", marks=marks)


@pytest.mark.parametrize("row", [_case(row) for row in ROWS])
def test_dev_phrase(row) -> None:
    hit = detect_red_flag(row.text, model=False)  # the rules alone: the model was trained on these
    if row.kind == "emergency":
        assert hit is not None and not hit.history, f"missed: {row.text}"
    else:
        assert hit is None or hit.history, f"false alarm ({hit}): {row.text}"


def test_known_wrong_are_all_in_the_development_part() -> None:
    assert {row.text for row in ROWS} >= KNOWN_WRONG
