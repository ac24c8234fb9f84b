"""POST /webhooks/telegram: check the secret, store the update, answer 200 at once.

A body we cannot keep is answered 400 with its reason, never 500: not JSON, not an update, nested
deeper than any update (a JSON parser's recursion must not become a server error), or text that
is not valid Unicode (a lone surrogate, which cannot be stored)."""

from __future__ import annotations

import hmac

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from backend import inbox
from bot.telegram.updates import salvage

router = APIRouter()
log = structlog.get_logger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


def _bad(reason: str) -> Response:
    log.warning("telegram_webhook_refused", reason=reason)
    return JSONResponse({"error": reason}, status_code=400)


@router.post("/webhooks/telegram", include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    channel = getattr(request.app.state, "telegram", None)
    if channel is None:
        return Response(status_code=404)
    expected = channel.settings.webhook_secret or ""
    given = request.headers.get(SECRET_HEADER, "")
    # Constant time, and a missing secret on our side refuses everything rather than accepting all.
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return Response(status_code=401)
    try:
        update = await request.json()
    except RecursionError:  # deeper than any parser reads: finish what can be read of it
        if (salvaged := salvage(await request.body())) is not None:
            await channel.refuse(salvaged, "too_deep")
        return _bad(inbox.REASONS["too_deep"])
    except ValueError:  # not JSON, or not UTF-8
        return _bad("not JSON")
    if not isinstance(update, dict) or type(update.get("update_id")) is not int:
        return _bad("not a Telegram update")
    try:
        await channel.receive(update)  # a redelivered update is acknowledged and dropped here
    except inbox.Unstorable as refused:  # recorded as failed, its chat told once
        return _bad(str(refused))
    return Response(status_code=200)
