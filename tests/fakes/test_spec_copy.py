"""The fake validates against a copy of the Bot API spec kept in the repo; when the shared
original is beside the checkout, the copy must be identical to it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.fakes.telegram_api import DEFAULT_SPEC

SHARED = Path(__file__).resolve().parents[3] / "shared" / "telegram-bot-api" / "api.json"


def test_the_copy_is_a_complete_spec():
    spec = json.loads(DEFAULT_SPEC.read_text())
    assert "sendMessage" in spec["methods"] and "InlineKeyboardButton" in spec["types"]


@pytest.mark.skipif(not SHARED.exists(), reason="../shared is not beside this checkout")
def test_the_copy_matches_the_shared_original():
    digest = lambda path: hashlib.sha256(path.read_bytes()).hexdigest()  # noqa: E731
    assert digest(DEFAULT_SPEC) == digest(SHARED)
