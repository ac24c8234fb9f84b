"""Templates for payments, refunds and payouts: EN, HI and the WhatsApp template variables, in order."""

from __future__ import annotations

EN: dict[str, str] = {
    "payout_recorded": "💸 A payout of {amount_money} has been sent to you (reference: {reference}). "
    "Open 💰 Earnings for the details.",
    "refund_completed": "💸 Refund complete: {amount_money} for your consultation with {doctor} on {starts_at} "
    "has been returned to the account you paid from. Your bank may take a few days to show it.",
    "refund_completed_urgent": "💸 Refund complete: {amount_money} for your urgent consult request has been "
    "returned to the account you paid from. Your bank may take a few days to show it.",
}
HI: dict[str, str] = {
    "payout_recorded": "💸 आपको {amount_money} का भुगतान भेजा गया है (संदर्भ: {reference})। "
    "विवरण के लिए 💰 कमाई खोलें।",
    "refund_completed": "💸 रिफ़ंड पूरा हुआ: {starts_at} को {doctor} के साथ आपके परामर्श के {amount_money} उसी "
    "खाते में लौटा दिए गए हैं जिससे आपने भुगतान किया था। आपके बैंक में दिखने में कुछ दिन लग सकते हैं।",
    "refund_completed_urgent": "💸 रिफ़ंड पूरा हुआ: आपके तुरंत परामर्श अनुरोध के {amount_money} उसी खाते में "
    "लौटा दिए गए हैं जिससे आपने भुगतान किया था। आपके बैंक में दिखने में कुछ दिन लग सकते हैं।",
}
VARIABLES: dict[str, tuple[str, ...]] = {
    "payout_recorded": ("amount_money", "reference"),
    "refund_completed": ("amount_money", "doctor", "starts_at"),
    "refund_completed_urgent": ("amount_money",),
}
