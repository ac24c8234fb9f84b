"""What a web chat showed, kept so that reloading the page shows the recent conversation again.

A browser tab forgets everything on reload; Telegram and WhatsApp keep their own history. So the
web chat stores each message it showed (the user's, the bot's, a notification), encrypted and
bound to table, column and row, in `web_chat_messages`, and sends the recent ones to a tab that
opens. Buttons are kept as plain labels only: an old message's buttons are never pressable.

Who may see it: only the holder of the chat's address (the browser's session cookie; the chat is
found by the address's blind index, never by comparing addresses), and only messages shown while
the chat belonged to the account it belongs to now. A chat signed out (idle, or a new cookie from
"sign out" or a persona switch) or linked to another account shows none of the earlier messages,
which are deleted; "stop" deletes the chat's history too (a shared phone: the next person sees
nothing). Messages an anonymous chat showed before signing in are adopted by the account it signs
in to. A linked chat's read is asked of `access.can` and audited (`read` of `web_chat_history`),
once per tab that opens with a history to show.

Kept: the newest MAX_MESSAGES, none older than MAX_AGE; pruned whenever the chat writes or opens.
An OTP code the user typed is never stored: six digits standing alone are masked, as the logs
mask what looks like a secret."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.access import AccessDenied, Action, Actor, Resource, can
from backend.accounts import chats
from backend.crypto import FieldCipher
from backend.models import ChannelIdentity, Conversation, Role, User, WebChatMessage, new_id
from backend.otp.service import CODE_DIGITS

MAX_MESSAGES = 50
MAX_AGE = timedelta(days=30)
# The longest message the chat answers; a longer paste is kept cut to it. A bot's text is never longer.
MAX_TEXT_CHARS = 4000
TABLE, COLUMN = "web_chat_messages", "body"
RESOURCE = "web_chat_history"
CHANNEL = "web"
PRESS_LOOKBACK = 12  # the messages searched for a pressed button (a notification's may be older)
CODE_MASK = "•" * CODE_DIGITS
_CODE = re.compile(rf"(?<![\w-])\d(?:[\s-]?\d){{{CODE_DIGITS - 1}}}(?![\w-])")


@dataclass(frozen=True, slots=True)
class Shown:
    """One message as the chat showed it. `side`: "user", "bot" or "notice"."""

    side: str
    text: str
    labels: tuple[str, ...] = field(default_factory=tuple)  # its buttons, as words only
    urgent: bool = False  # emergency guidance
    calls: bool = False  # names the emergency numbers: tap-to-call on the page
    document: str | None = None  # a file's name: its link was short-lived and is not kept
    # The buttons' tokens, kept (encrypted) only to name the button a later tap pressed; never
    # sent back to a page, so an old message's buttons cannot be pressed.
    tokens: tuple[str, ...] = field(default_factory=tuple, compare=False)
    # Another person's health record or contact (a doctor's view of a patient): its words are never
    # kept (the doctor's access ends, the history would not); the page says one was here.
    private: bool = False
    typed: str = ""  # how to type its live buttons ('Reply "Accept 417".'), kept even when private

    def as_dict(self) -> dict:
        return {**asdict(self), "labels": list(self.labels), "tokens": list(self.tokens)}

    def for_page(self) -> dict:
        return {key: value for key, value in self.as_dict().items() if key != "tokens"}


def redact_codes(text: str) -> str:
    """`text` with anything that could be an OTP code (six digits standing alone, spaces or
    dashes between them allowed, as signup accepts them) masked."""
    return _CODE.sub(CODE_MASK, text)


def _sealed(cipher: FieldCipher, row_id: str, shown: Shown) -> bytes:
    body = Shown(
        side=shown.side,
        text=""
        if shown.private
        else redact_codes(shown.text[:MAX_TEXT_CHARS])
        if shown.side == "user"
        else shown.text,
        labels=tuple(label[:200] for label in shown.labels),
        urgent=shown.urgent,
        calls=shown.calls,
        document=shown.document[:200] if shown.document else None,
        tokens=shown.tokens,
        private=shown.private,
        typed=shown.typed,
    )
    return cipher.encrypt(TABLE, COLUMN, row_id, json.dumps(body.as_dict(), ensure_ascii=False))


def _opened(cipher: FieldCipher, row: WebChatMessage) -> Shown:
    body = json.loads(cipher.decrypt(TABLE, COLUMN, row.id, row.body_enc))
    return Shown(
        side=body["side"],
        text=body["text"],
        labels=tuple(body.get("labels") or ()),
        urgent=bool(body.get("urgent")),
        calls=bool(body.get("calls")),
        document=body.get("document"),
        tokens=tuple(body.get("tokens") or ()),
        private=bool(body.get("private")),
        typed=body.get("typed") or "",
    )


async def _identity(session: AsyncSession, cipher: FieldCipher, address: str) -> ChannelIdentity | None:
    return await session.scalar(select(ChannelIdentity).where(*chats.is_chat(cipher, CHANNEL, address)))


async def _settle_owner(session: AsyncSession, identity: ChannelIdentity) -> None:
    """Drop what another account (or, for a signed-out chat, any account) was shown; a chat that
    signed in adopts what it showed before."""
    mine = WebChatMessage.identity_id == identity.id
    if identity.user_id is None:
        await session.execute(delete(WebChatMessage).where(mine, WebChatMessage.user_id.is_not(None)))
        return
    await session.execute(
        delete(WebChatMessage).where(
            mine, WebChatMessage.user_id.is_not(None), WebChatMessage.user_id != identity.user_id
        )
    )
    await session.execute(
        update(WebChatMessage).where(mine, WebChatMessage.user_id.is_(None)).values(user_id=identity.user_id)
    )


async def _prune(session: AsyncSession, identity_id: str, now: datetime) -> None:
    mine = WebChatMessage.identity_id == identity_id
    await session.execute(delete(WebChatMessage).where(mine, WebChatMessage.at < now - MAX_AGE))
    kept = select(WebChatMessage.id).where(mine).order_by(WebChatMessage.at.desc()).limit(MAX_MESSAGES)
    await session.execute(delete(WebChatMessage).where(mine, WebChatMessage.id.not_in(kept)))


async def forget(session: AsyncSession, cipher: FieldCipher, address: str) -> None:
    """Delete everything the chat at `address` showed (sign-out, a persona switch, stop)."""
    identity = await _identity(session, cipher, address)
    if identity is not None:
        await session.execute(delete(WebChatMessage).where(WebChatMessage.identity_id == identity.id))


async def pressed_label(
    session: AsyncSession, cipher: FieldCipher, identity_id: str, token: str
) -> str | None:
    """The words of the button `token` among the chat's latest messages (None: not one we showed)."""
    rows = await session.scalars(
        select(WebChatMessage)
        .where(WebChatMessage.identity_id == identity_id)
        .order_by(WebChatMessage.at.desc())
        .limit(PRESS_LOOKBACK)
    )
    for row in rows:
        shown = _opened(cipher, row)
        if token in shown.tokens:
            return shown.labels[shown.tokens.index(token)]
    return None


async def record(
    session: AsyncSession,
    cipher: FieldCipher,
    address: str,
    shown: list[Shown],
    now: datetime,
    *,
    pressed: str | None = None,
) -> ChannelIdentity | None:
    """Keep `shown` (in order) for the chat at `address`, and prune. `pressed`: the token of the
    button the first message answered, whose label it then shows (a token we never showed keeps
    the message's text). A chat that said "stop" keeps nothing. Returns the chat's identity
    (None for a chat that never wrote)."""
    identity = await _identity(session, cipher, address)
    if identity is None:
        return None
    if identity.muted:
        await forget(session, cipher, address)
        return identity
    await _settle_owner(session, identity)
    if pressed and shown and (label := await pressed_label(session, cipher, identity.id, pressed)):
        shown = [replace(shown[0], text=label), *shown[1:]]
    last = await session.scalar(
        select(WebChatMessage.at)
        .where(WebChatMessage.identity_id == identity.id)
        .order_by(WebChatMessage.at.desc())
        .limit(1)
    )
    # Strictly after the last message, so the order survives two writes within one clock tick.
    at = max(now, last + timedelta(microseconds=1)) if last is not None else now
    for index, message in enumerate(shown):
        row_id = new_id()
        session.add(
            WebChatMessage(
                id=row_id,
                identity_id=identity.id,
                user_id=identity.user_id,
                at=at + timedelta(microseconds=index),
                body_enc=_sealed(cipher, row_id, message),
            )
        )
    await session.flush()
    await _prune(session, identity.id, now)
    return identity


async def _authorise(session: AsyncSession, identity: ChannelIdentity) -> User | None:
    """The chat's account, allowed to read its own chat's history (raises AccessDenied else)."""
    user = await session.get(User, identity.user_id) if identity.user_id else None
    if user is None:
        return None  # an anonymous chat: only its own words before signing in, nothing from records
    # The real guard is upstream: the chat was found by the address only its own browser holds
    # (the cookie). Asking the one policy anyway keeps every read of health data in one place,
    # where a later rule (e.g. a suspended account) takes effect here too.
    actor = Actor(user.id, user.role)
    resource = Resource(RESOURCE, patient_id=user.id)
    if not can(actor, Action.READ, resource):
        raise AccessDenied(actor, Action.READ, resource)
    return user


async def recent(session: AsyncSession, cipher: FieldCipher, address: str, now: datetime) -> list[Shown]:
    """What the chat at `address` showed lately, oldest first, for a tab that just opened it.
    Audited when there is something to show."""
    identity = await _identity(session, cipher, address)
    if identity is None:
        return []
    if identity.muted:
        await forget(session, cipher, address)
        return []
    await _settle_owner(session, identity)
    await _prune(session, identity.id, now)
    rows = (
        await session.scalars(
            select(WebChatMessage)
            .where(WebChatMessage.identity_id == identity.id)
            .order_by(WebChatMessage.at, WebChatMessage.id)
        )
    ).all()
    if not rows:
        return []
    user = await _authorise(session, identity)
    await audit.record(
        session,
        actor=Actor(user.id, user.role) if user else None,
        action=Action.READ.value,
        resource_type=RESOURCE,
        resource_id=identity.id,
        patient_id=user.id if user and user.role is Role.PATIENT else None,
        purpose="web_chat_opened",
        channel=CHANNEL,
    )
    return [_opened(cipher, row) for row in rows]


async def chat_locale(session: AsyncSession, cipher: FieldCipher, identity: ChannelIdentity | None) -> str:
    """The language the chat speaks: its account's, or what an anonymous chat picked."""
    if identity is None:
        return "en"
    user = await session.get(User, identity.user_id) if identity.user_id else None
    if user is not None:
        return user.locale
    conversation = await session.scalar(select(Conversation).where(Conversation.identity_id == identity.id))
    if conversation is None or not conversation.data_enc:
        return "en"
    data = json.loads(cipher.decrypt("conversations", "data", conversation.id, conversation.data_enc))
    return data.get("locale", "en") if isinstance(data, dict) else "en"


async def locale_at(session: AsyncSession, cipher: FieldCipher, address: str) -> str:
    """The language of the chat at `address` ("en" for a chat never seen)."""
    return await chat_locale(session, cipher, await _identity(session, cipher, address))
