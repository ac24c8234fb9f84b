"""Payment webhooks and the sandbox gateway's checkout page.

- `POST /api/payments/webhooks/{gateway}`: a gateway's event. Unknown gateway → 404; missing,
  forged or stale signature → 400; unreadable body → 400; a duplicate event id → 200 and nothing
  changes. A change to a payment goes on to the appointments service's `settle` in the same
  transaction.
- `GET /pay/sandbox/{ref}`: the sandbox checkout (amount, the doctor, date and time in the patient's
  timezone and language, Pay / Fail), or the link's state once it was used; an unknown ref → 404; `POST /pay/sandbox/{ref}/pay|fail` makes the signed event and handles it
  in process exactly as an outside POST to the webhook would be.
- `GET /pay/done`, `GET /pay/cancelled`: where Stripe's checkout sends the patient back.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import structlog
from babel.numbers import format_currency
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from backend.appointments import checkout
from backend.appointments import service as appointments
from backend.appointments.checkout import PaidFor
from backend.models import Payment, PaymentStatus
from backend.payments import service as payments
from backend.payments.gateway import GatewayError, Gateways, InvalidEvent, InvalidSignature
from backend.payments.sandbox import SandboxGateway

log = structlog.get_logger(__name__)

router = APIRouter(tags=["payments"])


def gateways_of(app: Any) -> Gateways:
    """The gateways the app was built with (bot/app.py puts them in its state)."""
    return app.state.gateways


async def _settle(request: Request, session, change: payments.PaymentChange, now: datetime) -> None:
    """Hand the change to the appointments service, in the webhook's transaction: it requests the
    doctor, or refunds a payment that came too late or twice."""
    state = request.app.state
    await appointments.settle(
        session, state.cipher, state.settings, gateways_of(request.app), change, now=now
    )


def _wake_dispatcher(request: Request) -> None:
    """settle may have written messages: send them now rather than at the dispatcher's next poll."""
    request.app.state.dispatcher.wake()


@router.post(
    "/api/payments/webhooks/{gateway}",
    responses={
        400: {"description": "bad signature or body"},
        404: {"description": "unknown gateway"},
        413: {"description": "a body over 512 KB"},
        503: {"description": "a refund it needs could not be made now; the gateway retries"},
    },
)
async def webhook(gateway: str, request: Request) -> dict[str, bool]:
    gateways = gateways_of(request.app)
    if gateways.get(gateway) is None:
        raise HTTPException(404, "No such payment gateway.")
    # The app bounds the body while it is read (512 KB, answered 413 past it): bot/body_limits.py.
    body = await request.body()
    now = datetime.now(UTC)
    state = request.app.state
    try:
        async with state.sessions() as session, session.begin():
            change = await payments.handle_webhook(
                session, gateways, state.settings, gateway, body, request.headers, now=now
            )
            if change is not None:
                await _settle(request, session, change, now)
    except InvalidSignature as exc:
        log.warning("payment_webhook_bad_signature", gateway=gateway, reason=str(exc))
        raise HTTPException(400, "The signature is missing, wrong or too old.") from None
    except InvalidEvent as exc:
        log.warning("payment_webhook_bad_event", gateway=gateway, reason=str(exc))
        raise HTTPException(400, "The body is not an event.") from None
    except GatewayError as exc:
        # Settling needed a refund the gateway would not make just now: nothing was kept (the
        # event included), so the gateway's retry of this event does it all again.
        log.warning("payment_webhook_deferred", gateway=gateway, reason=str(exc)[:200])
        raise HTTPException(503, "Try again later.") from None
    if change is not None:
        _wake_dispatcher(request)
    return {"received": True}


# ---- the sandbox checkout page


def _sandbox(request: Request) -> SandboxGateway:
    gateway = gateways_of(request.app).get("sandbox")
    assert isinstance(gateway, SandboxGateway)  # build_gateways always adds it
    return gateway


async def _sandbox_payment(session, ref: str) -> Payment | None:
    if len(ref) > 255:
        return None
    return await session.scalar(
        select(Payment).where(Payment.gateway == "sandbox", Payment.checkout_ref == ref)
    )


def _money(minor: int, currency: str) -> str:
    return format_currency(minor / 100, currency, locale="en_IN")


# The page's words in the patient's language (backend imports no copy modules of the chat).
_WORDS = {
    "en": {
        "title": "telecare sandbox payment",
        "urgent": "Urgent consult",
        "doctor": "Doctor",
        "dr": "Dr",
        "when": "Date and time",
        "kind": "Kind of doctor",
        "urgent_when": "as soon as a doctor on call accepts",
        "pay": "Pay",
        "fail": "Fail",
        "note": "A test payment: no money moves.",
        PaymentStatus.PAID: "Paid — go back to the chat.",
        PaymentStatus.REFUNDED: "This payment was refunded.",
        PaymentStatus.EXPIRED: "This payment link has expired. Go back to the chat to book again.",
        PaymentStatus.FAILED: "The payment failed and nothing was charged. Go back to the chat for a new link.",
    },
    "hi": {
        "title": "telecare सैंडबॉक्स भुगतान",
        "urgent": "तुरंत परामर्श",
        "doctor": "डॉक्टर",
        "dr": "डॉ.",
        "when": "तारीख़ और समय",
        "kind": "डॉक्टर का प्रकार",
        "urgent_when": "जैसे ही कोई ऑन-कॉल डॉक्टर स्वीकार करे",
        "pay": "भुगतान करें",
        "fail": "विफल करें",
        "note": "यह एक परीक्षण भुगतान है: कोई पैसा नहीं कटता।",
        PaymentStatus.PAID: "भुगतान हो गया — चैट पर वापस जाएँ।",
        PaymentStatus.REFUNDED: "यह भुगतान लौटा दिया गया।",
        PaymentStatus.EXPIRED: "इस भुगतान लिंक की समय-सीमा ख़त्म हो गई। फिर से बुक करने के लिए चैट पर वापस जाएँ।",
        PaymentStatus.FAILED: "भुगतान नहीं हुआ और कोई पैसा नहीं कटा। नए लिंक के लिए चैट पर वापस जाएँ।",
    },
}


def _page(title: str, body: str, status_code: int = 200, lang: str = "en") -> HTMLResponse:
    document = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}}
.card{{border:1px solid #ddd;border-radius:12px;padding:1.5rem}}
.amount{{font-size:2rem;font-weight:600;margin:.5rem 0}}
dl{{margin:1rem 0}} dt{{color:#666;font-size:.85rem}} dd{{margin:0 0 .6rem 0;font-weight:600}}
.note{{color:#666;font-size:.9rem}}
form{{display:inline}} button{{font-size:1rem;padding:.6rem 1.4rem;margin:.5rem .5rem 0 0;border-radius:8px;border:1px solid #888;cursor:pointer}}
button.pay{{background:#0a7d38;color:#fff;border-color:#0a7d38}}
</style></head>
<body><div class="card">{body}</div></body></html>"""
    return HTMLResponse(document, status_code=status_code, headers={"Cache-Control": "no-store"})


def _details(paid: PaidFor | None, words: dict) -> str:
    """Who, when (in the patient's timezone) — every value escaped."""
    if paid is None:
        return ""
    if paid.when is None:  # an urgent consult: no doctor or time until one accepts
        rows = [(words["urgent"], paid.specialty or ""), (words["when"], words["urgent_when"])]
    else:
        doctor = f"{words['dr']} {paid.doctor}" if paid.doctor else ""
        rows = [(words["doctor"], doctor), (words["when"], f"{paid.when} ({paid.zone_name})")]
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows if v)
    return f"<dl>{items}</dl>"


def _checkout_page(payment: Payment, paid: PaidFor | None) -> HTMLResponse:
    words = _WORDS[paid.locale if paid else "en"]
    amount = html.escape(_money(payment.amount_minor, payment.currency))
    parts = [
        f"<h1>{html.escape(words['title'])}</h1>",
        f'<p class="amount">{amount}</p>',
        _details(paid, words),
    ]
    if payment.status is PaymentStatus.CREATED:
        ref = html.escape(payment.checkout_ref or "")
        pay, fail = html.escape(words["pay"]), html.escape(words["fail"])
        parts.append(
            f'<form method="post" action="/pay/sandbox/{ref}/pay"><button class="pay" type="submit">{pay}</button></form>'
            f'<form method="post" action="/pay/sandbox/{ref}/fail"><button type="submit">{fail}</button></form>'
        )
        parts.append(f'<p class="note">{html.escape(words["note"])}</p>')
    else:
        parts.append(f"<p><strong>{html.escape(words[payment.status])}</strong></p>")
    return _page(words["title"], "".join(parts), lang=paid.locale if paid else "en")


def _not_found() -> HTMLResponse:
    """Nothing about any payment (we do not know whose language to speak: both)."""
    body = (
        "<h1>Payment link not found</h1><p>Go back to the chat for a new link.</p>"
        '<h1 lang="hi">भुगतान लिंक नहीं मिला</h1><p lang="hi">नए लिंक के लिए चैट पर वापस जाएँ।</p>'
    )
    return _page("Payment", body, 404)


@router.get("/pay/sandbox/{ref}", response_class=HTMLResponse, include_in_schema=False)
async def sandbox_checkout(ref: str, request: Request) -> HTMLResponse:
    async with request.app.state.sessions() as session:
        payment = await _sandbox_payment(session, ref)
        if payment is None:
            return _not_found()
        return _checkout_page(payment, await checkout.paid_for(session, payment))


@router.post("/pay/sandbox/{ref}/{outcome}", response_class=HTMLResponse, include_in_schema=False)
async def sandbox_press(ref: str, outcome: str, request: Request) -> HTMLResponse:
    raw_type = {"pay": "checkout.paid", "fail": "checkout.failed"}.get(outcome)
    if raw_type is None:
        return _not_found()
    gateway = _sandbox(request)
    state = request.app.state
    now = datetime.now(UTC)
    changed = False
    async with state.sessions() as session, session.begin():
        payment = await _sandbox_payment(session, ref)
        if payment is None:
            return _not_found()
        if payment.status is PaymentStatus.CREATED:
            # The same path as an outside gateway's POST: signed, verified, deduplicated, settled.
            body = gateway.event_body(payment, raw_type)
            change = await payments.handle_webhook(
                session,
                gateways_of(request.app),
                state.settings,
                gateway.name,
                body,
                gateway.sign(body, now),
                now=now,
            )
            if change is not None:
                changed = True
                await _settle(request, session, change, now)
            else:  # a press in another tab won the race: show what it did
                await session.refresh(payment)
        page = _checkout_page(payment, await checkout.paid_for(session, payment))
    if changed:
        _wake_dispatcher(request)
    return page


@router.get("/pay/done", response_class=HTMLResponse, include_in_schema=False)
async def payment_done() -> HTMLResponse:
    return _page("Payment", "<h1>Thank you</h1><p>Your payment is being confirmed. Go back to the chat.</p>")


@router.get("/pay/cancelled", response_class=HTMLResponse, include_in_schema=False)
async def payment_cancelled() -> HTMLResponse:
    return _page("Payment", "<h1>Payment not completed</h1><p>Go back to the chat to try again.</p>")
