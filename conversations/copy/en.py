"""English: the reference catalogue. Plain text (channels add their own formatting);
`{name}` placeholders are filled by the step. Command words are `|`-separated alternatives."""

MESSAGES: dict[str, str] = {
    # --- global commands and engine messages ---
    "cmd_menu": "menu|main menu|home|start",
    "cmd_help": "help|?",
    "cmd_back": "back|go back",
    "cmd_cancel": "cancel|quit",
    "cmd_language": "language|lang|change language",
    "cmd_stop": "stop|unsubscribe",
    "help_new": (
        "telecare connects you with verified doctors, pharmacies and labs, right here in chat.\n"
        "Words that work anywhere: menu, back, cancel, language, help, stop.\n"
        "You can tap a button, type its number, or type its name.\n"
        "In an emergency call 112 (ambulance 108) — do not wait for a chat."
    ),
    "help_signed_in": (
        "Tap a button, type its number, or type its name.\n"
        "Words that work anywhere: menu, back, cancel, language, help, stop.\n"
        "In an emergency call 112 (ambulance 108) — do not wait for a chat."
    ),
    "too_long": "That message is too long. Please keep it under {limit} characters.",
    "empty_message": "I didn't get any text there.",
    "unknown_command": "I don't know that command. Try: menu, back, cancel, language, help, stop.",
    "choice_expired": "That option has expired. Here is where we are now:",
    "pick_an_option": "Please choose one of the options — tap it or type its number.",
    "cannot_use_here": "I can't use that here.",
    "nothing_to_go_back_to": "There is no earlier step to go back to.",
    "cancelled": "Cancelled.",
    "stopped": "Okay, we won't send you any more messages. Write to us any time to continue.",
    "internal_error": "Sorry, something went wrong on our side. Nothing was lost — please try again.",
    "message_unusable": "Sorry, I couldn't read that message. Please send it again, or type menu.",
    "file_unavailable": "Sorry, I couldn't fetch the file you sent. Please send it again.",
    "menu_button": "🏠 Main menu",
    "not_allowed": "Sorry, you are not allowed to do that.",
    # --- language overlay ---
    "language_choose": "Choose your language:",
    "language_set": "Language changed to English.",
    # --- emergency ---
    "emergency_general": (
        "⚠️ This may be an emergency. Call 112 now (ambulance 108), or go to the nearest emergency "
        "department. Do not wait for an online consultation."
    ),
    "emergency_mental_health": (
        "💙 I'm really sorry you're feeling this way. You don't have to face it alone. "
        "Please call Tele-MANAS on 14416 (free, 24×7) to talk to someone now. "
        "If you are in immediate danger, call 112."
    ),
    "emergency_violence_abuse": (
        "💜 Thank you for telling me. Nobody deserves to be hurt, and it is not your fault. "
        "If you or someone with you is in danger now, call 112. If you are hurt, go to the nearest "
        "emergency department when it is safe to. You can write here again whenever you are ready."
    ),
    "emergency_hold": "I've paused here. Are you safe to continue?",
    "emergency_safe": "I am safe — continue",
    "emergency_resumed": "Thank you. Let's continue.",
    "emergency_resumed_with_words": "Thank you. I have kept what you wrote; let's continue.",
    # --- signup ---
    "welcome": (
        "👋 Welcome to telecare — find a verified doctor, and book and pay for an appointment, all in this "
        "chat. Coming soon, not here yet: consultations in the chat and by video, prescriptions, medicines "
        "and lab tests."
    ),
    "btn_signup": "I'm new — sign up",
    "btn_signin": "I already have an account",
    "consent": (
        "Before we start, please read and agree (terms version {version}):\n"
        "• Consultations happen remotely, without a physical examination; the doctor may ask you to "
        "visit in person.\n"
        "• Your health information is encrypted and shared only with the doctors, pharmacies and labs "
        "you choose.\n"
        "• Prescriptions are sent electronically; records are kept as the law requires.\n"
        "• Chats on messaging apps are not end-to-end encrypted by us.\n"
        "• This service is not for emergencies: call 112 (ambulance 108)."
    ),
    "btn_agree": "I agree",
    "btn_decline": "I do not agree",
    "consent_needed": "We can only continue with your agreement. Tap “I agree” when you are ready.",
    "ask_name": "What is your full name?",
    "name_invalid": "Please type your full name using letters (2 to 100 characters), e.g. Asha Verma.",
    "ask_dob": "What is your date of birth? (for example 23-04-1990)",
    "dob_invalid": "I couldn't read that date. Please type it as day-month-year, e.g. 23-04-1990.",
    "dob_future": "That date is in the future. Please type your date of birth.",
    "dob_too_old": "That date is more than 120 years ago. Please check it.",
    "ask_sex": "What is your sex?",
    "sex_female": "Female",
    "sex_male": "Male",
    "sex_other": "Other",
    "sex_undisclosed": "Prefer not to say",
    "ask_contact": "What is your mobile number or email address? We will send you a code to confirm it.",
    "phone_invalid": "That doesn't look like a valid mobile number. Include the country code if outside India.",
    "email_invalid": "That doesn't look like a valid email address.",
    "sms_unavailable": "We can't send text messages yet. Please use your email address instead.",
    "otp_message": "Your telecare code is {code}. It expires in {minutes} minutes. Never share it with anyone.",
    "ask_otp": "Type the 6-digit code sent to {destination}.",
    "btn_resend": "Send a new code",
    "btn_change_contact": "Use a different number or email",
    "otp_resent": "A new code is on its way. Earlier codes no longer work.",
    "otp_cooldown": "Please wait {seconds} seconds before asking for another code.",
    "otp_too_many": "Too many codes were requested. Please try again in about {minutes} minutes.",
    "otp_delivery_failed": "We couldn't send the code just now. Please try again in a minute.",
    "otp_format": "The code has 6 digits.",
    "otp_wrong": "That code is not right. {left} tries left.",
    "otp_locked": "Too many wrong tries. Please ask for a new code.",
    "otp_expired": "That code has expired. Please ask for a new code.",
    "otp_none": "There is no active code. Please ask for a new code.",
    "otp_destinations": "Codes have already gone to {limit} different numbers or emails from here today. "
    "Please use one of those, or try again in about {hours} hours.",
    "otp_sms_country": "We can send codes by SMS only to numbers in {countries}. "
    "Please type your email address instead.",
    "otp_sms_budget": "We can't send more SMS codes just now. Please type your email address instead, "
    "or try again in about {minutes} minutes.",
    "otp_contact_locked": "Too many wrong codes were tried for this number or email, so it can't be used "
    "to sign in until {until}. Please use another number or email, or come back then.",
    "contact_verified": "✅ Confirmed.",
    "no_account_yet": "✅ Confirmed. We don't have an account for you yet — let's create one.",
    "welcome_back": "✅ Welcome back! This chat is now linked to your account.",
    "ask_language": "Which language would you like us to use?",
    "ask_timezone": "Which time zone are you in? Pick one, or type your city (e.g. Chicago).",
    "tz_label": "{city}",
    "timezone_unknown": "I don't know that place. Type a larger city near you, or a zone like Asia/Kolkata.",
    "signup_done": "🎉 You're all set, {name}.",
    "signed_out": "You are signed out of this chat.",
    # --- menus ---
    "menu_patient": "What would you like to do?",
    "menu_doctor": "Doctor menu — what would you like to do?",
    "menu_pharmacy": "Pharmacy menu — what would you like to do?",
    "menu_lab": "Lab menu — what would you like to do?",
    "menu_admin": "Admin menu — what would you like to do?",
    "menu_item_find_doctor": "🔎 Find a doctor",
    "menu_item_appointments": "📅 My appointments",
    "menu_item_urgent": "🚑 Urgent consult (now)",
    "menu_item_availability": "🗓 My availability",
    "menu_item_earnings": "💰 Earnings",
    "menu_item_applications": "🗂 Applications to review",
    "menu_item_profile": "📋 My medical profile",
    "menu_item_doctor_details": "🩺 My registration details",
    "menu_item_stock": "💊 Stock",
    "menu_item_lab_tests": "🧪 Test catalogue",
    "menu_item_audit_check": "🛡 Check the audit log",
    "menu_item_directory": "👥 Directory summary",
    "menu_item_notifications": "🔔 Notifications",
    "menu_item_language": "🌐 Language",
    "menu_item_help": "❓ Help",
    "menu_item_signout": "🚪 Sign out of this chat",
    "status_pending": "awaiting verification",
    "status_verified": "verified",
    "status_rejected": "rejected",
    "doctor_no_record": "We have no doctor record for your account yet.",
    "doctor_details": (
        "Dr {name}, {qualification}\nReg. No. {council}/{number}\nSpecialties: {specialties}\n"
        "Languages: {languages}\nConsultation fee: {fee}\nStatus: {status}"
    ),
    "pharmacy_no_record": "We have no pharmacy linked to your account yet.",
    "pharmacy_stock": "{name} — stock (⚠️ = low, under {low}):\n{items}",
    "lab_no_record": "We have no lab linked to your account yet.",
    "lab_catalogue": "{name} — tests:\n{items}",
    "lab_turnaround": "report in {hours} h",
    "audit_ok": "✅ The audit log is intact ({entries} entries checked).",
    "audit_broken": "❌ The audit log is broken at entry {seq}: {reason}.",
    "directory_summary": (
        "Doctors: {verified} verified, {pending} awaiting verification\nSpecialties: {specialties}\n"
        "Pharmacies: {pharmacies}\nLabs: {labs}"
    ),
    # --- profile ---
    "profile_summary": "📋 {name}\nBorn: {born} · Sex: {sex}\n\n{sections}",
    "profile_none": "none recorded",
    "profile_pick_field": "What would you like to update?",
    "field_history": "Medical history",
    "field_allergies": "Allergies",
    "field_medications": "Current medications",
    "field_conditions": "Conditions",
    "edit_history": "Medical history",
    "edit_allergies": "Allergies",
    "edit_medications": "Medications",
    "edit_conditions": "Conditions",
    "field_items": "{field}:\n{items}",
    "btn_add": "➕ Add",
    "btn_remove": "➖ Remove one",
    "btn_clear": "🗑 Clear all",
    "btn_done": "✔️ Done",
    "btn_keep_all": "Keep all",
    "btn_yes_clear": "Yes, clear all",
    "btn_no": "No",
    "ask_item": "Type one item to add to your {field} (e.g. {example}).",
    "example_history": "appendix removed in 2015",
    "example_allergies": "penicillin — rash",
    "example_medications": "metformin 500 mg twice a day",
    "example_conditions": "type 2 diabetes",
    "saved": "✅ Saved.",
    "removed": "Removed: {item}",
    "cleared": "Cleared.",
    "ask_remove": "Which one should I remove?",
    "ask_clear": "Clear everything under {field}?",
    "item_empty": "There was nothing to add. Please type the item.",
    "item_no_words": "Please write it in words, so that a doctor can read it (for example “penicillin — rash”).",
    "item_too_long": "Please keep each item under {limit} characters.",
    "item_duplicate": "That is already on your list.",
    "too_many_items": "This list is full ({most} items). Remove one first.",
    "item_gone": "That item was already removed.",
    "profile_missing": "We couldn't find your profile. Please contact support.",
    "profile_field_unknown": "That part of the profile doesn't exist.",
    "btn_download_summary": "⬇️ Download my summary",
    "summary_ready": "Here is your health summary — download it, then open it to view or print.",
    "summary_caption": "For the next {minutes} minutes this opens only for you: here, or in a browser signed in to telecare as you.",
    "summary_title": "Health summary",
    "summary_name": "Name",
    "summary_born": "Date of birth",
    "summary_sex": "Sex",
    "summary_footer": "Generated by telecare from the information you entered. Not a medical report.",
    "request_contact": "📱 Share my phone number",
    "request_location": "📍 Share my location",
    "request_file": "📎 Send a file",
    "otp_check_failed": "We could not check the code just now. Please send it again in a minute.",
    "reply_with_number": "Reply {numbers}.",
    "btn_use_this_number": "Use this WhatsApp number",
    "whatsapp_opted_out": "You won't get any more messages from telecare on WhatsApp. Reply START to receive them again.",
    "whatsapp_opted_in": "Welcome back: you will get messages from telecare on WhatsApp again.",
    "contact_not_yours": "Please share your own contact with the button below, or type your number or email.",
    "botcmd_start": "Start or go back to the main menu",
    "botcmd_menu": "Main menu",
    "botcmd_help": "How to use telecare",
    "botcmd_back": "Go back one step",
    "botcmd_cancel": "Cancel what you are doing",
    "botcmd_language": "Change the language",
    "botcmd_stop": "Stop messages from us",
    "emergency_note": "ℹ️ If this is happening now, call 112 (ambulance 108) — don't wait for a chat.",
    "emergency_note_mental_health": "💙 If you are struggling now, Tele-MANAS (14416, free, 24×7) is there to talk; in danger, call 112.",
    "emergency_note_violence_abuse": "💜 If you or someone with you is in danger now, call 112.",
    "otp_on_its_way": "If {destination} can receive messages, a 6-digit code is on its way.",
    "otp_wrong_last": "That code is not right. 1 try left.",
    "welcome_back_details_unused": (
        "✅ This {kind} already has a telecare account, so this chat is now linked to it. "
        "The details you just typed were not used; your account's profile is unchanged."
    ),
    "contact_invalid": "Please type a mobile number (e.g. 98765 43210) or an email address.",
    "ask_signout": "Sign this chat out of your account? You can sign in again with a code.",
    "btn_yes_signout": "Yes, sign out",
    "btn_stay": "No, stay signed in",
    "word_email": "email address",
    "word_phone": "phone number",
    # --- notification settings ---
    "notif_intro": (
        "🔔 Notification settings. Urgent messages always reach you, even in quiet hours or when "
        "reminders are muted."
    ),
    "notif_summary": "📨 Sent to: {channel}\n\nReminders:\n{reminders}\n\n{quiet}",
    "notif_btn_channel": "📨 Where to send them",
    "notif_btn_reminders": "🔕 Mute or unmute reminders",
    "notif_btn_quiet": "🌙 Quiet hours",
    "notif_channel_auto": "Automatic (the chat I used last)",
    "notif_channel_web": "Web chat",
    "notif_channel_telegram": "Telegram",
    "notif_channel_whatsapp": "WhatsApp",
    "notif_channel_only_one": (
        "You use telecare only on {channel}, so notifications come there. To choose another app, "
        "sign in to telecare on it too."
    ),
    "notif_ask_channel": "Where should we send your notifications? Now: {channel}.",
    "notif_current": "✅ {label}",
    "notif_channel_gone": "That chat is no longer linked to your account. Please choose again.",
    "notif_channel_set": "✅ Notifications will go to: {channel}.",
    "notif_kind_appointment": "Appointment reminders",
    "notif_kind_prescription": "Prescription reminders",
    "notif_kind_lab": "Lab test reminders",
    "notif_kind_profile": "Reminders to complete my profile",
    "notif_reminder_on": "🔔 {kind}: on — tap to turn off",
    "notif_reminder_off": "🔕 {kind}: off — tap to turn on",
    "notif_ask_reminders": "Tap a reminder, or reply with its number, to turn it on or off:",
    "notif_reminder_muted": "🔕 {kind} are off now.",
    "notif_reminder_unmuted": "🔔 {kind} are on again.",
    "notif_quiet_on": "🌙 Quiet hours: {start}–{end} ({timezone}). Reminders due then wait until {end} — "
    "or are skipped, if by then they would be too late to help.",
    "notif_quiet_off": "🌙 Quiet hours: off. Reminders may arrive at any time.",
    "notif_ask_quiet": (
        "Type new quiet hours in 24-hour time, your time zone ({timezone}), e.g. 22:00-07:00 — or type “off”."
    ),
    "notif_btn_quiet_off": "Turn quiet hours off",
    "notif_btn_quiet_default": "Use {start}–{end}",
    "notif_btn_keep": "Keep as it is",
    "notif_quiet_invalid": (
        "I couldn't read those hours. Type a start and an end time in 24-hour format, "
        "e.g. 22:00-07:00 or 22:00 to 7:00, or type “off” to turn quiet hours off."
    ),
    "notif_quiet_set": "✅ Quiet hours are now {start}–{end} ({timezone}).",
    "notif_quiet_turned_off": "✅ Quiet hours are off.",
    # --- engine notices for notification buttons and dead letters (used by the engine) ---
    "notice_action_expired": "That button is no longer valid — it was already used, has expired, or was not for you.",
    "dead_letter_retried": "Okay — the message will be sent again now.",
    "dead_letter_discarded": "Okay — the message was discarded.",
    "dead_letter_gone": "That message is no longer waiting for a decision.",
    "profile_nudge_open": "Let's add to your medical profile.",
}
