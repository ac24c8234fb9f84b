"""Download links for documents a user may fetch (their health summary; an application's
documents for the admin reviewing it). A link is a random token valid for a few minutes; the
database keeps only its hash, so a copy of the database gives no working links.

A link opens only for whom it was made:
- made in a chat: in a browser whose session cookie is signed in as the link's user, or rendered
  in process by the channel it was made on (Telegram uploads the file itself);
- made in a WhatsApp chat, additionally once for Twilio's media fetch, through an HMAC-signed,
  5-minute media URL that only our WhatsApp sender hands out (`media_query`);
- made for the admin API: while the admin token it was granted to is live.
Anything else is refused with a reason the caller audits (and never shows)."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import Actor
from backend.crypto import KeyRing
from backend.models import FileGrant
from backend.providers import admin_tokens

LINK_LIFETIME = timedelta(minutes=10)
MEDIA_LIFETIME = timedelta(minutes=5)  # Twilio fetches media when it accepts the message
MAX_DOWNLOADS = 5  # enough for a retry or two, not for a link passed around
API = "api"  # the channel of links handed out by the admin API
WHATSAPP = "whatsapp"
_MEDIA_PURPOSE = "file_media"


class Refusal(enum.StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED_UP = "used_up"
    NOT_YOURS = "not_yours"  # another browser, another user, another channel
    # Granted to an admin API token since revoked or expired (a reason, not a secret):
    TOKEN_DEAD = "token_dead"  # noqa: S105


class Opening(enum.StrEnum):
    BROWSER = "browser"  # a GET of /files/{token} (with or without a session cookie)
    IN_PROCESS = "in_process"  # a channel rendering the file itself (Telegram)
    MEDIA = "media"  # Twilio's fetch of a signed WhatsApp media URL


@dataclass(frozen=True)
class Opener:
    """Who is opening a link: how, on which channel, and as whom (a browser's signed-in user)."""

    how: Opening
    channel: str
    actor: Actor | None = None
    # The live admin API token the request carried (`Authorization: Bearer`), by id.
    admin_token_id: str | None = None


@dataclass(frozen=True)
class Redeemed:
    grant: FileGrant | None  # set when the token is known, granted or not
    refusal: Refusal | None  # None: open it


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def grant(
    session: AsyncSession,
    *,
    user_id: str,
    kind: str,
    now: datetime,
    channel: str,
    admin_token_id: str | None = None,
) -> str:
    """A link to `kind` for `user_id`, made in a chat on `channel` (or for the admin API, with the
    token it is granted to)."""
    token = secrets.token_urlsafe(32)
    session.add(
        FileGrant(
            token_digest=_digest(token),
            user_id=user_id,
            kind=kind,
            expires_at=now + LINK_LIFETIME,
            channel=str(channel),
            admin_token_id=admin_token_id,
        )
    )
    await session.flush()
    return token


def _who_refusal(found: FileGrant, opener: Opener) -> Refusal | None:
    """Whether this opener is whom the link was made for."""
    if opener.how is Opening.MEDIA:
        if found.channel != WHATSAPP:
            return Refusal.NOT_YOURS
        return Refusal.USED_UP if found.media_fetched_at is not None else None
    if opener.how is Opening.IN_PROCESS:
        return None if found.channel == opener.channel else Refusal.NOT_YOURS
    if found.channel == API:  # only a request carrying the token the link was granted to
        return None if opener.admin_token_id == found.admin_token_id else Refusal.NOT_YOURS
    signed_in_as_owner = opener.actor is not None and opener.actor.user_id == found.user_id
    return None if signed_in_as_owner else Refusal.NOT_YOURS


async def redeem(session: AsyncSession, token: str, now: datetime, opener: Opener) -> Redeemed:
    """The grant for `token` if `opener` may open it now, counted as one download; otherwise why
    not (with the grant when the token is known, for the audit)."""
    if not token or len(token) > 100:
        return Redeemed(None, Refusal.UNKNOWN)
    found = await session.scalar(
        # Locked: two fetches at once must not both take the last download or the one media fetch.
        select(FileGrant).where(FileGrant.token_digest == _digest(token)).with_for_update()
    )
    if found is None:
        return Redeemed(None, Refusal.UNKNOWN)
    if now >= found.expires_at:
        return Redeemed(found, Refusal.EXPIRED)
    if found.downloads >= MAX_DOWNLOADS:
        return Redeemed(found, Refusal.USED_UP)
    if found.admin_token_id is not None and not await admin_tokens.is_live(
        session, found.admin_token_id, now
    ):
        return Redeemed(found, Refusal.TOKEN_DEAD)
    if (refusal := _who_refusal(found, opener)) is not None:
        return Redeemed(found, refusal)
    found.downloads += 1
    if opener.how is Opening.MEDIA:
        found.media_fetched_at = now
    return Redeemed(found, None)


# --- the WhatsApp media fetch ---------------------------------------------------------------------


def _media_signature(ring: KeyRing, token: str, until: int) -> str:
    key = ring.derived_index_key(_MEDIA_PURPOSE)
    return hmac.new(key, f"{WHATSAPP}|{token}|{until}".encode(), hashlib.sha256).hexdigest()


def media_query(ring: KeyRing, token: str, now: datetime) -> str:
    """The `media` parameter that lets Twilio fetch one WhatsApp link once, for MEDIA_LIFETIME:
    `<unix expiry>.<HMAC-SHA256 over channel, token and expiry>`."""
    until = int((now + MEDIA_LIFETIME).timestamp())
    return f"{until}.{_media_signature(ring, token, until)}"


def media_query_valid(ring: KeyRing, token: str, value: str, now: datetime) -> bool:
    until, _, signature = value.partition(".")
    if not until.isdigit() or len(until) > 12 or len(signature) != 64:
        return False
    if now.timestamp() >= int(until):
        return False
    return hmac.compare_digest(signature, _media_signature(ring, token, int(until)))
