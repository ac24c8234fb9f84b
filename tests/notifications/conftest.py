"""The dispatcher of the outbox tests: two recording channels (Telegram, WhatsApp) and a settable
clock at NOON_IST."""

from __future__ import annotations

import pytest

from notifications.dispatcher import Dispatcher, DispatchSettings
from tests.notifications.helpers import NOON_IST, Clock, RecordingSender


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON_IST)


@pytest.fixture
def telegram() -> RecordingSender:
    return RecordingSender("telegram")


@pytest.fixture
def whatsapp() -> RecordingSender:
    return RecordingSender("whatsapp")


@pytest.fixture
def dispatcher(sessions, cipher, telegram, whatsapp, clock) -> Dispatcher:
    settings = DispatchSettings(max_attempts=3, retry_base_seconds=10)
    return Dispatcher(sessions, cipher, {"telegram": telegram, "whatsapp": whatsapp}, settings, clock=clock)
