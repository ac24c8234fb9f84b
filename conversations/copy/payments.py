"""The words of payments, refunds and earnings, per language."""

from __future__ import annotations

EN: dict[str, str] = {
    "earnings_summary": "💰 Your earnings ({currency})\n"
    "Earned: {earned}\n"
    "Refunded to patients (already taken off): {refunded}\n"
    "Paid out to you: {paid_out}\n"
    "Pending payout: {pending}",
    "earnings_owed": "Owed back (refunds of fees already paid out; taken from your next payout): {owed}",
    "earnings_recent": "Recent:\n{lines}",
    "earnings_none_yet": "No payments yet. Your share of each paid consultation appears here.",
    "earnings_line_charge": "• {date}: consultation fee +{amount}",
    "earnings_line_assign": "• {date}: urgent consult fee +{amount}",
    "earnings_line_refund": "• {date}: refunded to the patient −{amount}",
    "earnings_line_payout": "• {date}: payout to you {amount}",
    "earnings_line_transfer": "• {date}: sent to your Stripe account {amount}",
    "earnings_no_doctor": "Earnings are for doctors. Your doctor details are not on file yet.",
    "btn_earnings_refresh": "🔄 Refresh",
    "btn_back_to_menu": "↩️ Menu",
}

HI: dict[str, str] = {
    "earnings_summary": "💰 आपकी कमाई ({currency})\n"
    "कुल कमाई: {earned}\n"
    "मरीज़ों को लौटाया गया (कमाई से घटा दिया गया): {refunded}\n"
    "आपको भुगतान किया गया: {paid_out}\n"
    "बकाया भुगतान: {pending}",
    "earnings_owed": "आपसे वापस लेना है (पहले भुगतान की जा चुकी फ़ीस के रिफ़ंड; अगले भुगतान से काटा जाएगा): {owed}",
    "earnings_recent": "हाल के लेन-देन:\n{lines}",
    "earnings_none_yet": "अभी तक कोई भुगतान नहीं। हर भुगतान किए गए परामर्श में आपका हिस्सा यहाँ दिखेगा।",
    "earnings_line_charge": "• {date}: परामर्श फ़ीस +{amount}",
    "earnings_line_assign": "• {date}: तत्काल परामर्श फ़ीस +{amount}",
    "earnings_line_refund": "• {date}: मरीज़ को लौटाया गया −{amount}",
    "earnings_line_payout": "• {date}: आपको भुगतान {amount}",
    "earnings_line_transfer": "• {date}: आपके Stripe खाते में भेजा गया {amount}",
    "earnings_no_doctor": "कमाई केवल डॉक्टरों के लिए है। आपका डॉक्टर विवरण अभी दर्ज नहीं है।",
    "btn_earnings_refresh": "🔄 ताज़ा करें",
    "btn_back_to_menu": "↩️ मेन्यू",
}
