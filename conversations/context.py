"""Everything a step may use while handling one message, inside one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import Actor
from backend.crypto import FieldCipher
from backend.models import ChannelIdentity, Conversation, User
from backend.otp.senders import OtpSender
from backend.payments.gateway import Gateways
from backend.settings import Settings
from conversations.copy import translate
from conversations.messages import Inbound, Reply

AfterCommit = Callable[[], Awaitable[list[Reply]]]


@dataclass
class Context:
    session: AsyncSession
    cipher: FieldCipher
    settings: Settings
    otp_sender: OtpSender
    identity: ChannelIdentity
    conversation: Conversation
    data: dict  # the conversation's decrypted scratch data; saved (encrypted) after the step
    user: User | None
    inbound: Inbound
    now: datetime
    gateways: Gateways | None = None  # payment gateways (booking, refunds)
    after_commit: list[AfterCommit] = field(default_factory=list)

    @property
    def locale(self) -> str:
        return self.user.locale if self.user else self.data.get("locale", "en")

    @locale.setter
    def locale(self, value: str) -> None:
        self.data["locale"] = value
        if self.user:
            self.user.locale = value

    @property
    def actor(self) -> Actor | None:
        return Actor(self.user.id, self.user.role) if self.user else None

    @property
    def channel(self) -> str:
        return self.inbound.channel

    @property
    def form(self) -> dict:
        """Answers collected by the current flow; cleared when the flow changes."""
        return self.data.setdefault("form", {})

    def t(self, key: str, **params: object) -> str:
        return translate(self.locale, key, **params)
