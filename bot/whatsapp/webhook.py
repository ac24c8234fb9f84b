"""POST /webhooks/whatsapp and /webhooks/whatsapp/status: Twilio's signed form posts.

The signature covers the URL Twilio was configured with, so it is checked against our public base
URL (behind a proxy the internal address differs), over every field as posted (Twilio adds new
fields without notice). Missing or wrong: 403, nothing stored, nothing sent. Bodies over 64 KB
are refused with 413 while they are read (bot/body_limits.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

router = APIRouter()
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


async def _signed_form(request: Request) -> FormData | Response:
    channel = getattr(request.app.state, "whatsapp", None)
    if channel is None:
        return Response(status_code=404)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return Response(status_code=403)  # Twilio posts url-encoded forms; nothing else is signed
    signature = request.headers.get(SIGNATURE_HEADER, "")
    try:
        form = await request.form(max_fields=500)
    except Exception:
        return Response(status_code=403)
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
    await request.app.state.whatsapp.receive(_fields(form))  # a redelivered MessageSid: dropped
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/webhooks/whatsapp/status", include_in_schema=False)
async def whatsapp_status(request: Request) -> Response:
    form = await _signed_form(request)
    if isinstance(form, Response):
        return form
    await request.app.state.whatsapp.on_status(_fields(form))
    return Response(status_code=204)
