"""Templates for applications to join and their review: EN, HI and the WhatsApp template variables, in order."""

from __future__ import annotations

EN: dict[str, str] = {
    "application_new_doctor": "🗂 New doctor application (submission {submission}): Dr {name}\n"
    "• Qualification: {qualification}\n• Council: {council}\n• Registration no.: {registration_number}\n"
    "• Specialties: {specialties}\n• Languages: {languages}\n• Fee: {fee_money}\n"
    "• Documents: {documents}\nApprove, reject with a reason, or view the documents first.",
    "application_new_pharmacy": "🗂 New pharmacy application (submission {submission}): {name}\n"
    "• City: {city}\n• Licence no.: {licence_number}\n• Documents: {documents}\n"
    "Approve, reject with a reason, or view the documents first.",
    "application_new_lab": "🗂 New lab application (submission {submission}): {name}\n"
    "• City: {city}\n• Accreditation: {accreditation}\n• Documents: {documents}\n"
    "Approve, reject with a reason, or view the documents first.",
    "application_approved": "✅ {name}, your telecare application has been verified. You are now listed "
    "and can start working. Write 'menu' to begin.",
    "application_rejected": "Your telecare application ({name}) was not approved.\nReason: {reason}\n"
    "You can correct it and send it again.",
    "btn_application_approve": "Approve",
    "btn_application_reject": "Reject",
    "btn_application_view": "View documents",
    "btn_application_resubmit": "Correct and resubmit",
}
HI: dict[str, str] = {
    "application_new_doctor": "🗂 डॉक्टर का नया आवेदन (बार {submission}): डॉ. {name}\n"
    "• योग्यता: {qualification}\n• काउंसिल: {council}\n• पंजीकरण संख्या: {registration_number}\n"
    "• विशेषज्ञता: {specialties}\n• भाषाएँ: {languages}\n• फ़ीस: {fee_money}\n"
    "• दस्तावेज़: {documents}\nस्वीकार करें, कारण के साथ अस्वीकार करें, या पहले दस्तावेज़ देखें।",
    "application_new_pharmacy": "🗂 फ़ार्मेसी का नया आवेदन (बार {submission}): {name}\n"
    "• शहर: {city}\n• लाइसेंस संख्या: {licence_number}\n• दस्तावेज़: {documents}\n"
    "स्वीकार करें, कारण के साथ अस्वीकार करें, या पहले दस्तावेज़ देखें।",
    "application_new_lab": "🗂 लैब का नया आवेदन (बार {submission}): {name}\n"
    "• शहर: {city}\n• मान्यता: {accreditation}\n• दस्तावेज़: {documents}\n"
    "स्वीकार करें, कारण के साथ अस्वीकार करें, या पहले दस्तावेज़ देखें।",
    "application_approved": "✅ {name}, telecare पर आपका आवेदन सत्यापित हो गया है। अब आप सूची में हैं और "
    "काम शुरू कर सकते हैं। शुरू करने के लिए 'menu' लिखें।",
    "application_rejected": "telecare पर आपका आवेदन ({name}) स्वीकार नहीं हुआ।\nकारण: {reason}\n"
    "आप इसे ठीक करके फिर से भेज सकते हैं।",
    "btn_application_approve": "स्वीकार करें",
    "btn_application_reject": "अस्वीकार करें",
    "btn_application_view": "दस्तावेज़ देखें",
    "btn_application_resubmit": "ठीक करके फिर भेजें",
}
VARIABLES: dict[str, tuple[str, ...]] = {
    "application_new_doctor": (
        "submission",
        "name",
        "qualification",
        "council",
        "registration_number",
        "specialties",
        "languages",
        "fee_money",
        "documents",
    ),
    "application_new_pharmacy": ("submission", "name", "city", "licence_number", "documents"),
    "application_new_lab": ("submission", "name", "city", "accreditation", "documents"),
    "application_approved": ("name",),
    "application_rejected": ("name", "reason"),
}
