"""The terms a new user agrees to in the chat, as a page anyone can read at /terms (linked from
the consent question). The words are the chat's own consent texts, so the page and the chat never
say different things; `?lang=hi` for Hindi."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from conversations.copy import CATALOGUES, DEFAULT_LOCALE, translate

router = APIRouter()


def _section(locale: str, heading_key: str, text_key: str, version: str) -> str:
    lines = translate(locale, text_key, version=version).split("\n")
    items = "".join(f"<li>{html.escape(line.lstrip('• '))}</li>" for line in lines[1:])
    return (
        f"<h2>{html.escape(translate(locale, heading_key))}</h2>"
        f"<p>{html.escape(lines[0])}</p><ul>{items}</ul>"
    )


@router.get("/terms", response_class=HTMLResponse, include_in_schema=False)
async def terms(request: Request, lang: str = DEFAULT_LOCALE) -> HTMLResponse:
    locale = lang if lang in CATALOGUES else DEFAULT_LOCALE
    version = request.app.state.settings.terms_version
    body = (
        f"<h1>{html.escape(translate(locale, 'terms_page_title', version=version))}</h1>"
        + _section(locale, "terms_page_patients", "consent", version)
        + _section(locale, "terms_page_providers", "consent_provider", version)
        + f"<h2>{html.escape(translate(locale, 'terms_page_declining_title'))}</h2>"
        + f"<p>{html.escape(translate(locale, 'terms_page_declining'))}</p>"
    )
    page = (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(translate(locale, 'terms_page_title', version=version))}</title></head>"
        f"<body>{body}</body></html>"
    )
    response = HTMLResponse(page)
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
