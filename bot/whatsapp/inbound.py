"""Twilio's inbound WhatsApp form → Inbound values. Pure functions over the posted fields.

Unknown fields are ignored (Twilio adds new ones without notice). The sender's number (`From`,
`whatsapp:+E164`) is the chat address: WhatsApp proved it, so it counts as verified."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from conversations.messages import Inbound, InboundKind

CHANNEL = "whatsapp"
_ADDRESS = re.compile(r"^whatsapp:(\+[1-9]\d{6,14})$")
_OPTION_PAYLOAD = re.compile(r"^\d{1,2}$")  # our quick-reply/list ids are the option numbers
MAX_MEDIA = 10
# SMS-style opt-out words. Twilio's set also has CANCEL, END and QUIT, which people type in a chat
# to leave a step (CANCEL is a chat command here), not to refuse every message from us.
OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe"})
OPT_IN_WORDS = frozenset({"start", "unstop"})


@dataclass(frozen=True)
class Media:
    url: str
    content_type: str


@dataclass(frozen=True)
class Parsed:
    inbound: Inbound | None  # None: nothing we can use (no sender, a status posted here by mistake)
    address: str | None  # +E164 of the sender
    media: list[Media] = field(default_factory=list)
    opt: str | None = None  # "out" | "in" for STOP / START


def address_of(value: str | None) -> str | None:
    match = _ADDRESS.match((value or "").strip())
    return match.group(1) if match else None


def parse(form: Mapping[str, str]) -> Parsed:
    address = address_of(form.get("From"))
    sid = (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "received").strip().lower()
    if address is None or not sid or status != "received":  # a status callback is not a message
        return Parsed(None, address)
    base = {"channel": CHANNEL, "chat_id": address, "platform_id": sid[:64]}
    body = form.get("Body") or ""

    payload = (form.get("ButtonPayload") or form.get("ListId") or "").strip()
    if payload:
        # Our interactive content carries the option's number as its id: the same as typing it.
        text = payload if _OPTION_PAYLOAD.match(payload) else (form.get("ButtonText") or body or payload)
        return Parsed(Inbound(kind=InboundKind.TEXT, text=text, **base), address)

    latitude, longitude = form.get("Latitude"), form.get("Longitude")
    if latitude and longitude:
        return Parsed(Inbound(kind=InboundKind.LOCATION, text=f"{latitude},{longitude}", **base), address)

    media = _media(form)
    if media:
        return Parsed(Inbound(kind=InboundKind.FILE, **base), address, media=media)

    word = body.strip().casefold()
    opt = "out" if word in OPT_OUT_WORDS else "in" if word in OPT_IN_WORDS else None
    return Parsed(Inbound(kind=InboundKind.TEXT, text=body, **base), address, opt=opt)


def _media(form: Mapping[str, str]) -> list[Media]:
    try:
        count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        return []
    found = []
    for index in range(count):
        url = form.get(f"MediaUrl{index}")
        if url and url.startswith(("https://", "http://")):
            found.append(Media(url, form.get(f"MediaContentType{index}") or "application/octet-stream"))
    return found
