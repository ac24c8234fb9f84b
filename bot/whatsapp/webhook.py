"""POST /webhooks/whatsapp and /webhooks/whatsapp/status: Twilio's signed form posts.

The signature covers the URL Twilio was configured with, so it is checked against our public base
URL (behind a proxy the internal address differs), over every field as posted (Twilio adds new
fields without notice). Missing or wrong: 403, nothing stored, nothing sent.

The form is parsed strictly (the standard library's parser, strict UTF-8): a body that is not
url-encoded form data, or whose text is not valid UTF-8 (a lone surrogate), is answered 400 with
its reason, never 500 and never silently altered (a lenient parser would replace the bytes and
the signature would no longer say what was posted).

Bodies over 64 KB are refused with 413 while they are read (bot/body_limits.py), so the strict
parser only ever sees a bounded body."""

from __future__ import annotations

from urllib.parse import parse_qsl

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from backend import inbox

router = APIRouter()
log = structlog.get_logger(__name__)
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_FIELDS = 500


def _bad(reason: str) -> Response:
    log.warning("whatsapp_webhook_refused", reason=reason)
    return JSONResponse({"error": reason}, status_code=400)


async def _strict_form(request: Request) -> FormData | Response:
    body = await request.body()
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(body),
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        return _bad("text that is not valid UTF-8 (a lone surrogate, or another encoding)")
    except ValueError:
        return _bad("not url-encoded form data")
    return FormData(pairs)


async def _signed_form(request: Request) -> FormData | Response:
    channel = getattr(request.app.state, "whatsapp", None)
    if channel is None:
        return Response(status_code=404)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return Response(status_code=403)  # Twilio posts url-encoded forms; nothing else is signed
    signature = request.headers.get(SIGNATURE_HEADER, "")
    form = await _strict_form(request)
    if isinstance(form, Response):
        return form
    public = channel.app_settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        public += "?" + request.url.query
    validator = RequestValidator(channel.settings.auth_token)
    if not signature or not validator.validate(public, form, signature):
        return Response(status_code=403)
    return form


def _fields(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


@router.post("/webhooks/whatsapp", include_in_schema=False)
async def whatsapp_inbound(request: Request) -> Response:
    form = await _signed_form(request)
    if isinstance(form, Response):
        return form
    try:
        await request.app.state.whatsapp.receive(_fields(form))  # a redelivered MessageSid: dropped
    except inbox.Unstorable as refused:
        return _bad(str(refused))
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/webhooks/whatsapp/status", include_in_schema=False)
async def whatsapp_status(request: Request) -> Response:
    form = await _signed_form(request)
    if isinstance(form, Response):
        return form
    await request.app.state.whatsapp.on_status(_fields(form))
    return Response(status_code=204)
