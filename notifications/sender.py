"""The one thing notifications needs from a channel: a way to send a rendered message to a chat.
`bot/` implements it per channel; the outbox dispatcher (notifications issue) uses it."""

from __future__ import annotations

from typing import Protocol


class Sender(Protocol):
    channel: str

    async def send(self, chat_id: str, payload: dict) -> str | None:
        """Send one message; returns the platform's message id when it gives one."""
