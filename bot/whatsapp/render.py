"""Reply values → WhatsApp messages (plain text, numbered options, media, interactive content).

WhatsApp has no inline buttons that carry our tokens, so options are numbered in the text
("1. Sign up") and the engine's recognizer resolves a typed "1". When the chat is inside its
24-hour window and a matching Content SID is configured, 2-3 options go as quick-reply buttons and
4-10 as a list picker, whose ids are the same numbers. Bodies are split at line ends to stay under
Twilio's 1600 characters. A reply's link (a checkout) goes in the text as its URL: WhatsApp shows
URLs as links, while a URL button needs an approved call-to-action template of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.text import split_text, utf16_len
from bot.whatsapp.settings import TwilioSettings
from conversations.messages import Reply

MAX_BODY = 1500  # under Twilio's 1600, with room for a counter some clients add
MAX_INTERACTIVE_BODY = 1024  # twilio/quick-reply and twilio/list-picker
MAX_BUTTON_TITLE = 20
MAX_LIST_ITEM = 24


@dataclass(frozen=True)
class Outgoing:
    body: str = ""
    media_url: str | None = None
    content_sid: str | None = None
    variables: dict[str, str] | None = None

    @property
    def kind(self) -> str:
        return "template" if self.content_sid else "media" if self.media_url else "text"


def messages(
    reply: Reply, settings: TwilioSettings, media_url: Callable[[str], str] | None = None
) -> list[Outgoing]:
    """`media_url` turns a document's link into the URL Twilio fetches it from (our links: a
    signed, single-use media URL; see bot/web/documents.media_url)."""
    out: list[Outgoing] = []
    text = f"*{reply.text}*" if reply.urgent and reply.text else reply.text
    if reply.link:
        # A URL button would need a Meta-approved call-to-action content template per link kind;
        # in the text the link works inside and outside the 24-hour window alike.
        text = f"{text}\n\n{reply.link.label}: {reply.link.url}".strip()
    if reply.choices and (interactive := _interactive(text, reply, settings)):
        out.append(interactive)
    else:
        if reply.choices:
            numbered = "\n".join(f"{n}. {choice.label}" for n, choice in enumerate(reply.choices, 1))
            text = f"{text}\n\n{numbered}\n{reply.number_hint}".strip()
        out.extend(Outgoing(body=piece) for piece in split_text(text or "…", MAX_BODY))
    if reply.document:
        # Twilio fetches the media once, through the signed media URL. The plain link is in the
        # caption too, for a WhatsApp that cannot show this media type: it opens in a browser
        # signed in to telecare as this user.
        caption = f"{reply.document.caption}\n{reply.document.url}".strip()
        fetched_from = media_url(reply.document.url) if media_url else reply.document.url
        out.append(Outgoing(body=split_text(caption, MAX_BODY)[0], media_url=fetched_from))
    return out


def _interactive(text: str, reply: Reply, settings: TwilioSettings) -> Outgoing | None:
    labels = [choice.label for choice in reply.choices]
    count = len(labels)
    if not text or utf16_len(text) > MAX_INTERACTIVE_BODY:
        return None
    if 2 <= count <= 3 and count in settings.quick_reply_content:
        sid, limit = settings.quick_reply_content[count], MAX_BUTTON_TITLE
    elif 4 <= count <= 10 and count in settings.list_picker_content:
        sid, limit = settings.list_picker_content[count], MAX_LIST_ITEM
    else:
        return None
    if any(len(label) > limit for label in labels):
        return None  # a cut label could mislead: number them in the text instead
    variables = {"1": text} | {str(n + 1): label for n, label in enumerate(labels, 1)}
    return Outgoing(content_sid=sid, variables=variables)
