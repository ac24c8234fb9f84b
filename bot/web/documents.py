"""Documents behind short-lived download links: the patient's printable health summary, and the
documents of an application to join (licence, ID proof) for the admin reviewing it.

The link's token was granted to one user for a few minutes, and opens only for whom it was made
(backend/files: a browser signed in as that user, the channel it was made on rendering it in
process, Twilio's signed media fetch for WhatsApp, or the admin API token it was granted to);
anyone else gets a sign-in page, never the document. Opening it reads the document as that user
(authorised and audited like any other read), and the opening itself is audited, granted or
denied."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from babel.dates import format_date, format_datetime
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import select

from backend import audit
from backend.access import AccessDenied, Actor
from backend.accounts import chats
from backend.accounts.service import idle_too_long
from backend.api.admin_auth import bearer_scheme
from backend.crypto import KeyRing
from backend.files import service as files
from backend.models import PROFILE_LISTS, Channel, ChannelIdentity, FileGrant, User, utcnow
from backend.providers import admin_tokens
from backend.providers import service as providers
from backend.records import service as records
from bot.web.routes import COOKIE, chat_address
from conversations.copy import format_locale, translate

router = APIRouter()
PROFILE_SUMMARY = "profile_summary"
SUMMARY_FILENAME = "health-summary.html"

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans Devanagari", sans-serif;
       color: #12302e; max-width: 720px; margin: 2rem auto; padding: 0 1.25rem; line-height: 1.5; }}
header {{ border-bottom: 3px solid #0f766e; padding-bottom: .75rem; margin-bottom: 1.5rem; }}
h1 {{ font-size: 1.5rem; margin: 0; color: #0f766e; }}
h2 {{ font-size: 1.05rem; margin: 1.5rem 0 .4rem; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }}
dt {{ color: #4b635f; }} ul {{ margin: 0; padding-left: 1.25rem; }} .none {{ color: #6b7f7b; }}
footer {{ margin-top: 2rem; font-size: .85rem; color: #4b635f; border-top: 1px solid #d5e3e0; padding-top: .75rem; }}
@media print {{ body {{ margin: 0; }} }}
</style></head>
<body><header><h1>{title}</h1><div>telecare · {generated}</div></header>
<dl><dt>{name_label}</dt><dd>{name}</dd><dt>{born_label}</dt><dd>{born}</dd><dt>{sex_label}</dt><dd>{sex}</dd></dl>
{sections}
<footer>{footer}</footer></body></html>
"""


def render_summary(view: records.ProfileView, locale: str, timezone: str) -> str:
    def t(key: str, **params) -> str:
        return html.escape(translate(locale, key, **params))

    sections = []
    for name in PROFILE_LISTS:
        items = view.lists[name]
        body = (
            "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>"
            if items
            else f'<p class="none">{t("profile_none")}</p>'
        )
        sections.append(f"<h2>{t(f'field_{name}')}</h2>{body}")
    return _PAGE.format(
        lang=html.escape(locale),
        title=t("summary_title"),
        generated=html.escape(
            format_datetime(utcnow(), "medium", tzinfo=timezone, locale=format_locale(locale))
            + f" ({timezone})"
        ),
        name_label=t("summary_name"),
        name=html.escape(view.full_name),
        born_label=t("summary_born"),
        born=html.escape(format_date(view.birth_date, "long", locale=format_locale(locale)))
        if view.birth_date
        else "—",
        sex_label=t("summary_sex"),
        sex=t(f"sex_{view.sex}") if view.sex else "—",
        sections="".join(sections),
        footer=t("summary_footer"),
    )


async def _summary(session, cipher, grant, channel: str) -> str | None:
    user = await session.get(User, grant.user_id)
    if user is None or not user.active:
        return None
    try:
        view = await records.read_profile(
            session,
            cipher,
            Actor(user.id, user.role),
            user.id,
            channel=channel,
            purpose="download_summary",
        )
    except AccessDenied:
        return None  # the refusal's audit entry commits with this transaction
    return render_summary(view, user.locale, user.timezone)


async def _provider_document(session, cipher, grant, document_id: str, channel: str):
    """Read as the admin the link was granted to (backend.access: only admins read provider
    documents; the read is audited either way)."""
    user = await session.get(User, grant.user_id)
    if user is None or not user.active:
        return None
    try:
        return await providers.read_document(
            session, cipher, Actor(user.id, user.role), document_id, channel=channel
        )
    except (AccessDenied, providers.ApplicationNotFound):
        return None  # the refusal's audit entry commits with this transaction


async def _browser_actor(
    session, cipher, cookie: str | None, now: datetime, idle_limit: timedelta
) -> Actor | None:
    """Whom a browser's web chat session is signed in as (None: anonymous, idle too long, or no
    cookie). Only read: the socket signs an idle chat out when it next connects."""
    if not cookie or len(cookie) > 100:
        return None
    address = chat_address(cookie)
    identity = await session.scalar(
        select(ChannelIdentity).where(*chats.is_chat(cipher, Channel.WEB.value, address))
    )
    if identity is None or identity.user_id is None or idle_too_long(identity, idle_limit, now):
        return None
    user = await session.get(User, identity.user_id)
    return Actor(user.id, user.role) if user is not None and user.active else None


async def _live_api_token(session, bearer: str | None, now: datetime) -> str | None:
    """The id of the live admin API token a request carried, if any (links the API hands out open
    only with the token they were granted to)."""
    if not bearer:
        return None
    checked = await admin_tokens.check(session, bearer, now=now)
    return checked.token_id if checked.refusal is None else None


async def _audit_opening(
    session, grant: FileGrant | None, refusal: files.Refusal | None, opener: files.Opener
) -> None:
    """One entry per opening of a known link, granted or denied (unknown tokens are not
    recorded: guessing must not fill the log). The document read itself is audited as well."""
    if grant is None:
        return
    await audit.record(
        session,
        actor=opener.actor,
        action="open_link",
        resource_type="file_grant",
        resource_id=grant.id,
        patient_id=grant.user_id if grant.kind == PROFILE_SUMMARY else None,
        outcome="success" if refusal is None else "denied",
        purpose=refusal.value if refusal else opener.how.value,
        channel=opener.channel,
    )


@dataclass(frozen=True)
class Opened:
    """What a link opened: a health summary (HTML text) or an application's document (a file);
    or, with `content` None, why not."""

    content: str | providers.DocumentFile | None
    refusal: files.Refusal | None = None


async def open_link(
    sessions,
    cipher,
    token: str,
    opener_how: files.Opening,
    channel: str,
    *,
    cookie: str | None = None,
    bearer: str | None = None,
    idle_limit: timedelta = timedelta(days=30),
) -> Opened:
    """Open a link token for whoever presents it (a browser with its cookie, Telegram in process,
    Twilio's media fetch), audited either way."""
    async with sessions() as session, session.begin():
        now = utcnow()
        actor, api_token_id = None, None
        if opener_how is files.Opening.BROWSER:
            actor = await _browser_actor(session, cipher, cookie, now, idle_limit)
            api_token_id = await _live_api_token(session, bearer, now)
        opener = files.Opener(opener_how, channel, actor, api_token_id)
        redeemed = await files.redeem(session, token, now, opener)
        grant, refusal, content = redeemed.grant, redeemed.refusal, None
        if refusal is None and grant is not None:
            content = await _content(session, cipher, grant, channel)
            # The link was right but the read was refused (its audit entry says why).
            refusal = files.Refusal.NOT_YOURS if content is None else None
        await _audit_opening(session, grant, refusal, opener)
    return Opened(content, refusal)


async def _content(session, cipher, grant: FileGrant, channel: str):
    if grant.kind == PROFILE_SUMMARY:
        return await _summary(session, cipher, grant, channel)
    if document_id := providers.document_of_grant(grant.kind):
        return await _provider_document(session, cipher, grant, document_id, channel)
    return None


async def fetch_any(sessions, cipher, token: str, channel: str) -> str | providers.DocumentFile | None:
    """What a link opens when a channel renders it in process (Telegram uploads the file): only
    links made in a chat on that channel; None for anything else (all the same to the caller)."""
    return (await open_link(sessions, cipher, token, files.Opening.IN_PROCESS, channel)).content


def token_of(url: str, public_base_url: str) -> str | None:
    """The token of one of our own download links, or None for any other URL."""
    prefix = public_base_url.rstrip("/") + "/files/"
    return url[len(prefix) :] if url.startswith(prefix) else None


def media_url(url: str, *, public_base_url: str, ring: KeyRing, now: datetime) -> str:
    """The URL Twilio fetches to send one of our links as WhatsApp media: the link plus a signed,
    5-minute, single-use `media` parameter (the plain link, shown in the caption, does not open
    without a signed-in browser). Any other URL is returned as it is."""
    token = token_of(url, public_base_url)
    if token is None:
        return url
    return f"{url}?media={files.media_query(ring, token, now)}"


_SIGN_IN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to open this document</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", sans-serif; color: #12302e;
       max-width: 560px; margin: 3rem auto; padding: 0 1.25rem; line-height: 1.5; }
h1 { font-size: 1.35rem; color: #0f766e; } a { color: #0f766e; }
</style></head>
<body><h1>Sign in to open this document</h1>
<p>This link opens only in the chat it was sent to, or in a browser signed in to telecare as the
person it was made for. Links also stop working after a few minutes.</p>
<p><a href="/">Open telecare</a>, sign in with “I already have an account”, and ask for the
document again in the chat.</p>
</body></html>
"""
_TOKEN_GONE = "This link belonged to an admin API token that has been revoked or has expired."  # noqa: S105
_SAFE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@router.get("/files/{token}", include_in_schema=False)
async def download(
    request: Request,
    token: str,
    media: str | None = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
) -> Response:
    """A browser opens a link with its session cookie; an admin API client with its bearer token;
    Twilio fetches a WhatsApp link's media with the signed `media` parameter and no cookie."""
    state = request.app.state
    if media is None:
        opened = await open_link(
            state.sessions,
            state.cipher,
            token,
            files.Opening.BROWSER,
            Channel.WEB.value,
            cookie=request.cookies.get(COOKIE),
            bearer=bearer.credentials if bearer else None,
            idle_limit=timedelta(days=state.settings.web_session_days),
        )
    elif files.media_query_valid(state.cipher.ring, token, media[:100], utcnow()):
        opened = await open_link(state.sessions, state.cipher, token, files.Opening.MEDIA, files.WHATSAPP)
    else:
        opened = Opened(None, files.Refusal.UNKNOWN)
    found = opened.content
    if found is None:
        if opened.refusal is files.Refusal.TOKEN_DEAD:
            return PlainTextResponse(_TOKEN_GONE, status_code=410, headers=_SAFE_HEADERS)
        # The same page for unknown, expired, used-up and someone else's links: nothing to probe,
        # nothing about whose it is.
        return HTMLResponse(
            _SIGN_IN,
            status_code=403,
            headers={
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                **_SAFE_HEADERS,
            },
        )
    if isinstance(found, str):
        return HTMLResponse(
            found,
            headers={
                "Content-Disposition": f'attachment; filename="{SUMMARY_FILENAME}"',
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                **_SAFE_HEADERS,
            },
        )
    # An applicant's file: always a download under a name we choose (theirs may be anything), and
    # a sandboxing CSP in case a browser renders it anyway.
    extension = _EXTENSIONS.get(found.content_type, "bin")
    return Response(
        found.data,
        media_type=found.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="application-document.{extension}"',
            "Content-Security-Policy": "default-src 'none'; sandbox",
            **_SAFE_HEADERS,
        },
    )
