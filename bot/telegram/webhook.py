"""POST /webhooks/telegram: check the secret, store the update, answer 200 at once."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

router = APIRouter()
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


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
    except ValueError:
        return Response(status_code=400)
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return Response(status_code=400)
    await channel.receive(update)  # a redelivered update is acknowledged and dropped here
    return Response(status_code=200)
