"""The values that flow between a channel adapter and the conversation engine.

Adapters turn platform updates into `Inbound` and render `Reply` for their channel; nothing in
here knows about Telegram, WhatsApp or the browser.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime


class InboundKind(enum.StrEnum):
    TEXT = "text"
    CHOICE = "choice"  # a tapped button: `choice_token` is the opaque token we issued
    CONTACT = "contact"  # a phone number the platform vouches for (Telegram shared contact)
    LOCATION = "location"
    FILE = "file"


class RequestKind(enum.StrEnum):
    """Something a reply asks the channel to collect beyond plain text."""

    CONTACT = "contact"
    LOCATION = "location"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class Inbound:
    channel: str  # "web", "telegram", "whatsapp"
    chat_id: str  # the platform's address of the chat (opaque to the engine)
    kind: InboundKind = InboundKind.TEXT
    text: str = ""
    choice_token: str | None = None
    contact_phone: str | None = None
    file_ref: str | None = None
    platform_id: str | None = None  # the platform's message/update id, for deduplication
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The client's network address where the channel sees one (the web chat's peer IP), for the
    # OTP send limits; None on Telegram and WhatsApp, where the chat itself is the client.
    client_address: str | None = None

    @property
    def chat_key(self) -> str:
        return f"{self.channel}:{self.chat_id}"


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a prompt. `token` is short, random and only valid for this chat's prompt."""

    label: str
    token: str


@dataclass(frozen=True, slots=True)
class Document:
    filename: str
    url: str
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    """A web page the reply points to (a payment's checkout), shown as a button that opens it.

    Kept out of the text so that channels with link buttons (Telegram, the web chat) show a short
    label instead of a long bare URL; channels without them put the URL in the text."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str = ""
    choices: tuple[Choice, ...] = ()
    request: RequestKind | None = None
    request_label: str = ""  # the words on a "share my contact" style button, in the user's language
    document: Document | None = None
    urgent: bool = False  # emergency guidance: channels may style it
    # Names the emergency numbers (the gentle note): a channel that can makes them tap-to-call
    # (the web page), as it does in every urgent reply.
    calls: bool = False
    # "Reply 1, 2 or 3.", in the user's language: for channels that number the choices in the text.
    number_hint: str = ""
    link: Link | None = None
    # Holds another person's health record or contact, which the reader may see only while an
    # access rule allows (a doctor's view of a patient): shown live, never kept in a chat's history.
    private: bool = False

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "choices": [{"label": c.label, "token": c.token} for c in self.choices],
            "request": self.request.value if self.request else None,
            "request_label": self.request_label,
            "document": (
                {
                    "filename": self.document.filename,
                    "url": self.document.url,
                    "caption": self.document.caption,
                }
                if self.document
                else None
            ),
            "urgent": self.urgent,
            "calls": self.calls,
            "number_hint": self.number_hint,
            "link": {"label": self.link.label, "url": self.link.url} if self.link else None,
            "private": self.private,
        }
