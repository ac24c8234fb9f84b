"""Documents behind short-lived download links: the patient's printable health summary, and the
documents of an application to join (licence, ID proof) for the admin reviewing it.

The link's token was granted to one user for a few minutes; fetching it reads the document as
that user (authorised and audited like any other read)."""

from __future__ import annotations

import html

from babel.dates import format_date, format_datetime
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from backend.access import AccessDenied, Actor
from backend.files import service as files
from backend.models import PROFILE_LISTS, User, utcnow
from backend.providers import service as providers
from backend.records import service as records
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


async def fetch_any(sessions, cipher, token: str, channel: str) -> str | providers.DocumentFile | None:
    """What a link token opens: a health summary (HTML text) or an application's document (a
    file); None when the link is unknown, expired, used up or refused (all the same to the caller)."""
    async with sessions() as session, session.begin():
        grant = await files.redeem(session, token, utcnow())
        if grant is None:
            return None
        if grant.kind == PROFILE_SUMMARY:
            return await _summary(session, cipher, grant, channel)
        if document_id := providers.document_of_grant(grant.kind):
            return await _provider_document(session, cipher, grant, document_id, channel)
    return None


async def fetch(sessions, cipher, token: str, channel: str) -> str | None:
    """The health summary behind a link token, made now and audited as a read by its owner."""
    found = await fetch_any(sessions, cipher, token, channel)
    return found if isinstance(found, str) else None


def token_of(url: str, public_base_url: str) -> str | None:
    """The token of one of our own download links, or None for any other URL."""
    prefix = public_base_url.rstrip("/") + "/files/"
    return url[len(prefix) :] if url.startswith(prefix) else None


_NOT_AVAILABLE = "This link has expired. Ask for a new one in the chat."
_SAFE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@router.get("/files/{token}", include_in_schema=False)
async def download(request: Request, token: str) -> Response:
    state = request.app.state
    found = await fetch_any(state.sessions, state.cipher, token, channel="web")
    if found is None:
        # The same answer for unknown, expired, used-up and refused links: nothing to probe.
        return PlainTextResponse(_NOT_AVAILABLE, status_code=404)
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
