"""Test helpers: drive the conversation engine like a user would, and record OTP deliveries."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from backend.otp.senders import OwnCodes
from conversations.messages import Inbound, InboundKind, Reply

_ids = itertools.count(1)


@dataclass
class Delivery:
    kind: str
    destination: str
    code: str
    chat_key: str
    message: str


@dataclass
class RecordingOtpSender(OwnCodes):
    deliveries: list[Delivery] = field(default_factory=list)
    phone_supported: bool = True
    fail: bool = False

    def supports(self, kind: str) -> bool:
        return kind == "email" or self.phone_supported

    async def send(self, *, kind: str, destination: str, code: str, chat_key: str, message: str) -> None:
        from backend.otp.senders import OtpDeliveryError

        if self.fail:
            raise OtpDeliveryError("relay down")
        self.deliveries.append(Delivery(kind, destination, code, chat_key, message))

    def last_code(self) -> str:
        return self.deliveries[-1].code


@dataclass
class ChatDriver:
    engine: object
    otp: RecordingOtpSender
    channel: str = "web"
    chat_id: str = "chat-a"
    last: list[Reply] = field(default_factory=list)
    skew: timedelta = timedelta(0)  # this user's messages arrive this much later than now
    pinned: datetime | None = None  # the clock, for a test that must not depend on the wall clock

    def now(self) -> datetime:
        return (self.pinned or datetime.now(UTC)) + self.skew

    async def open(self) -> list[Reply]:
        self.last = await self.engine.current_prompt(self.channel, self.chat_id)
        return self.last

    async def send(self, text: str, *, platform_id: str | None = None) -> list[Reply]:
        inbound = Inbound(
            self.channel, self.chat_id, text=text, platform_id=platform_id or f"m{next(_ids)}", at=self.now()
        )
        return await self._deliver(inbound)

    async def tap(self, label_part: str) -> list[Reply]:
        """Tap the button of the latest prompt whose label contains `label_part`."""
        return await self.tap_token(self.token(label_part))

    async def tap_token(self, token: str, *, platform_id: str | None = None) -> list[Reply]:
        inbound = Inbound(
            self.channel,
            self.chat_id,
            InboundKind.CHOICE,
            choice_token=token,
            platform_id=platform_id or f"m{next(_ids)}",
            at=self.now(),
        )
        return await self._deliver(inbound)

    async def _deliver(self, inbound: Inbound) -> list[Reply]:
        replies = await self.engine.handle(inbound)
        if replies:
            self.last = replies
        return replies

    def token(self, label_part: str) -> str:
        wanted = label_part.casefold()
        for reply in reversed(self.last):
            for choice in reply.choices:
                if wanted in choice.label.casefold():
                    return choice.token
        raise AssertionError(f"no choice containing {label_part!r} in {self.labels()}")

    def labels(self) -> list[str]:
        return [c.label for r in self.last for c in r.choices]

    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    def link_url(self) -> str:
        """The URL of the link button (a checkout) of the latest replies; fails when there is none."""
        urls = [r.link.url for r in self.last if r.link]
        assert urls, f"no link button in {self.text()!r}"
        return urls[-1]

    async def sign_up(
        self,
        *,
        name: str = "Asha Verma",
        dob: str = "23-04-1990",
        contact: str = "asha@example.com",
        language: str = "English",
        timezone: str = "Kolkata",
    ) -> list[Reply]:
        await self.open()
        await self.tap("sign up")
        await self.tap("I agree")
        await self.send(name)
        await self.send(dob)
        await self.tap("Female")
        await self.send(contact)
        await self.send(self.otp.last_code())
        await self.tap(language)
        return await self.tap(timezone)


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)
