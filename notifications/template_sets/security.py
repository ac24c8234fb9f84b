"""Templates about the platform's own safety: a contact locked after wrong codes (to its owner), and
the SMS budget spent (to admins). EN, HI and the WhatsApp template variables, in order."""

from __future__ import annotations

EN: dict[str, str] = {
    "otp_contact_locked": "🔒 Someone tried several wrong sign-in codes for your {contact}. To keep your "
    "account safe it can't be used to sign in until {until_at}. If it was you, there is nothing to do: "
    "just wait until then. Chats where you are already signed in keep working.",
    "sms_budget_spent": "⚠️ The SMS code budget ({budget} an hour) is spent: no more SMS codes go out "
    "until {until_at}. Users are asked to use email. If this was not expected, look for SMS pumping.",
}
HI: dict[str, str] = {
    "otp_contact_locked": "🔒 किसी ने आपके {contact} के लिए कई बार गलत साइन-इन कोड डाले। आपके अकाउंट की "
    "सुरक्षा के लिए {until_at} तक इससे साइन इन नहीं हो सकता। अगर यह आप थे, तो कुछ करने की ज़रूरत नहीं: "
    "बस तब तक रुकें। जिन चैट में आप पहले से साइन इन हैं, वे चलती रहेंगी।",
    "sms_budget_spent": "⚠️ SMS कोड का बजट ({budget} प्रति घंटा) खत्म हो गया है: {until_at} तक और SMS कोड "
    "नहीं जाएँगे। उपयोगकर्ताओं से ईमेल इस्तेमाल करने को कहा जा रहा है। अगर यह अपेक्षित नहीं था, तो SMS "
    "पंपिंग की जाँच करें।",
}
VARIABLES: dict[str, tuple[str, ...]] = {
    "otp_contact_locked": ("contact", "until_at"),
    "sms_budget_spent": ("budget", "until_at"),
}
