"""Templates for payments, refunds and payouts: EN, HI and the WhatsApp template variables, in order."""

from __future__ import annotations

EN: dict[str, str] = {
    "payout_recorded": "💸 A payout of {amount_money} has been sent to you (reference: {reference}). "
    "Open 💰 Earnings for the details.",
}
HI: dict[str, str] = {
    "payout_recorded": "💸 आपको {amount_money} का भुगतान भेजा गया है (संदर्भ: {reference})। "
    "विवरण के लिए 💰 कमाई खोलें।",
}
VARIABLES: dict[str, tuple[str, ...]] = {
    "payout_recorded": ("amount_money", "reference"),
}
