"""What the dispatcher hands a channel, and what it wants back. `bot/` implements `Sender` for
each channel (Telegram, WhatsApp, the web chat); the dispatcher never knows which is which."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class NoticeAction:
    label: str  # in the recipient's language
    token: str  # for a button (Telegram callback data, a web choice)
    code: str  # typed with the label on text-only channels: "retry 417"


# Templates that carry a patient's health record to their doctor (the request's summary): a chat
# history keeps only that one came, since the doctor's access ends (backend/access.py).
PRIVATE_TEMPLATES = frozenset({"appointment_request"})


@dataclass(frozen=True, slots=True)
class Notice:
    outbox_id: str
    text: str
    template: str
    variables: dict[str, str] = field(default_factory=dict)  # an approved template's {{1}}, {{2}}
    actions: tuple[NoticeAction, ...] = ()
    urgent: bool = False
    locale: str = "en"
    # For text-only channels: 'Reply "Retry 417" or "Discard 417".' (empty without actions)
    typed_hint: str = ""

    @property
    def private(self) -> bool:
        return self.template in PRIVATE_TEMPLATES


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    platform_id: str | None = None
    status: str = "sent"  # what the channel knows so far: sent | delivered | waiting
    # This chat will not take it (blocked, opted out, closed web chat): try the user's next chat.
    unreachable: bool = False
    # Unreachable now, but it can wait here for the user (a web chat shows it when it opens).
    can_wait: bool = False
    error: str | None = None

    @classmethod
    def sent(cls, platform_id: str | None = None, status: str = "sent") -> Delivery:
        return cls(ok=True, platform_id=platform_id, status=status)

    @classmethod
    def refused(cls, error: str, *, can_wait: bool = False) -> Delivery:
        return cls(ok=False, unreachable=True, can_wait=can_wait, error=error)

    @classmethod
    def failed(cls, error: str) -> Delivery:
        """Something went wrong that may pass (the platform kept failing): retry later."""
        return cls(ok=False, error=error)


class Sender(Protocol):
    channel: str
    # Seconds to leave between two messages into one chat (Telegram: about 1); 0 for none. The
    # dispatcher waits this out itself, so the sender's own per-chat limit rarely has to.
    chat_interval: float

    # Optional: `async def wait_for_chat(self, address: str) -> None` returns once what the chat
    # is busy with (the user's own updates and their paced replies, which go first) is done. The
    # dispatcher waits there before it takes a sending slot, so one busy chat holds none.

    async def deliver(self, address: str, notice: Notice) -> Delivery:
        """Send one notice to one chat, within the channel's rate limits. Never raises for the
        platform's refusals: they come back as a Delivery."""
