"""Templates for bookings, reminders, cancellations and urgent consults: EN, HI and the WhatsApp
template variables, in order. Lists of times (`_ats`) are left out of the variables: WhatsApp
template variables may not contain line breaks."""

from __future__ import annotations

EN: dict[str, str] = {
    "appointment_request": "🩺 New consultation request from {patient} for {starts_at}.\nReason: {reason}{reason_mark_word}"
    "{raised_flags}\n"
    "Age: {age} · Sex: {sex_word}\nAllergies: {allergies_list}\nCurrent medications: {medications_list}\n"
    "Conditions: {conditions_list}\nMedical history: {history_list}\n"
    "Please accept or reject by {deadline_at}; unanswered requests are refunded.",
    "appointment_paid": "💳 Payment of {amount_money} received. Your request for {starts_at} has gone to {doctor}. "
    "They have until {deadline_at} to accept; you will hear from us here.",
    "appointment_paid_auto": "💳 Payment of {amount_money} received for {starts_at} with {doctor}.",
    "appointment_confirmed_patient": "✅ Confirmed: your consultation with {doctor} on {starts_at}. "
    "We will remind you 24 hours and 1 hour before.",
    "appointment_confirmed_patient_soon": "✅ Confirmed: your consultation with {doctor} on {starts_at}. "
    "We will remind you 1 hour before.",
    "appointment_confirmed_patient_now": "✅ Confirmed: your consultation with {doctor} on {starts_at}.",
    "appointment_confirmed_doctor": "✅ Confirmed: consultation with {patient} on {starts_at}.",
    "appointment_reminder_24h": "⏰ Tomorrow: your consultation with {with} at {starts_at}.",
    "appointment_reminder_1h": "⏰ In one hour: your consultation with {with} at {starts_at}.",
    "appointment_reminder_start": "🔔 Now: your consultation with {with} ({starts_at}).",
    "appointment_rejected": "{doctor} cannot take your appointment on {starts_at}. {amount_money} is refunded in "
    "full. The nearest free times with them:{alternatives_ats}",
    "appointment_not_answered": "{doctor} did not answer your request for {starts_at} in time, so {amount_money} "
    "is refunded in full. The nearest free times with them:{alternatives_ats}",
    "appointment_request_lapsed": "The request for {starts_at} was not answered in time; the patient has been "
    "refunded.",
    "appointment_cancelled_by_patient": "❌ {patient} cancelled the consultation on {starts_at}. The slot is free "
    "again.",
    "appointment_cancelled_by_doctor": "❌ {doctor} had to cancel your consultation on {starts_at}. {amount_money} "
    "is refunded in full. The nearest free times with them:{alternatives_ats}",
    "appointment_moved": "🔁 {patient} moved the consultation from {old_at} to {starts_at}.",
    "appointment_hold_expired": "⌛ The time held for you with {doctor} on {starts_at} ended unpaid, so the slot "
    "was released. You can pick a time again.",
    "urgent_hold_expired": "⌛ Your urgent consult request ended unpaid. You can ask again any time.",
    "appointment_payment_failed": "The payment for your consultation with {doctor} on {starts_at} did not go through, and nothing was charged. The "
    "time is still held for you until {until_at}: tap 'Pay again' for a new link.",
    "urgent_payment_failed": "The payment for your urgent consult did not go through, and nothing was charged. "
    "Tap 'Pay again' for a new link.",
    "appointment_refund_paid_too_late": "Your payment of {amount_money} arrived after the time held for you had "
    "ended, so it has been refunded in full.",
    "appointment_refund_duplicate_payment": "This appointment was already paid, so your second payment of "
    "{amount_money} has been refunded in full.",
    "appointment_refund_failed": "The payment provider could not return your refund of {amount_money}. Our team "
    "has been alerted and will sort it out; you do not need to do anything.",
    "refund_failed_admin": "⚠️ A refund of {amount_money} failed at {gateway} (payment {payment}). The money is "
    "still with us; please return it by hand.",
    "urgent_offer": "🚑 Urgent consult needed ({specialty}). The first doctor to accept takes it; you will see "
    "the patient's reason then.",
    "urgent_waiting": "🚑 Payment received. You are number {position} in line for an urgent {specialty} consult; "
    "doctors on call asked: {doctors}. If nobody can take it within {minutes} minutes you will be "
    "refunded in full.",
    "urgent_accepted": "🚑 {doctor} has accepted your urgent consult and will call you now on {contact}. Please "
    "keep your phone free. (Consultations in the chat and by video are not built yet.)",
    "urgent_accepted_no_contact": "🚑 {doctor} has accepted your urgent consult, but your account has no verified "
    "phone number or email for them to reach you on, and consultations in the chat are not built yet. If you "
    "need care now, go to the nearest clinic; in an emergency call 112.",
    "urgent_accepted_email": "🚑 {doctor} has accepted your urgent consult and will write to you now at {contact}. "
    "(Consultations in the chat and by video are not built yet; add a phone number to be called next time.)",
    "urgent_timeout": "We are sorry: no {specialty} doctor on call could take your consult in time. {amount_money} "
    "is refunded in full. If you need care now, go to the nearest clinic or emergency department, or call 112 "
    "if it gets worse.",
    "btn_accept": "Accept",
    "btn_reject": "Reject",
    "btn_accept_urgent": "Accept now",
    "btn_book_again": "Pick a time",
    "reason_red_flag_mark": "\n⚠️ Red-flag words in the reason: the patient was shown the emergency guidance and "
    "said they were safe to continue.",
    # Words of the patient summary in a doctor's request (`_word` and `_list` fields).
    "sex_female": "female",
    "sex_male": "male",
    "sex_other": "other",
    "sex_undisclosed": "not said",
    "profile_none": "none recorded",
    "list_more": "+{count} more",
    # The patient's emergency red flags (a `_flags` field; backend/safety/shown.py names the categories).
    "red_flags_line": "⚠️ Red flags this patient raised in chat: {flags}",
    "red_flag_history": "history: {flag}",
    "btn_pay_again": "Pay again",
    # A doctor as named to patients (notices.doctor_label's parts).
    "doctor_label": "Dr {name} ({qualification}; Reg. No. {registration}, {council})",
}
HI: dict[str, str] = {
    "appointment_request": "🩺 {patient} की ओर से {starts_at} के लिए नया परामर्श अनुरोध।\nकारण: {reason}{reason_mark_word}"
    "{raised_flags}\n"
    "उम्र: {age} · लिंग: {sex_word}\nएलर्जी: {allergies_list}\nअभी चल रही दवाइयाँ: {medications_list}\n"
    "बीमारियाँ: {conditions_list}\nमेडिकल इतिहास: {history_list}\n"
    "कृपया {deadline_at} तक स्वीकार या अस्वीकार करें; बिना जवाब वाले अनुरोधों का पैसा लौटा दिया जाता है।",
    "appointment_paid": "💳 {amount_money} का भुगतान मिल गया। {starts_at} के लिए आपका अनुरोध {doctor} को भेज दिया "
    "गया है। उनके पास स्वीकार करने के लिए {deadline_at} तक का समय है; आपको यहीं बताया जाएगा।",
    "appointment_paid_auto": "💳 {doctor} के साथ {starts_at} के लिए {amount_money} का भुगतान मिल गया।",
    "appointment_confirmed_patient": "✅ पक्का: {doctor} के साथ {starts_at} को आपका परामर्श। "
    "हम 24 घंटे और 1 घंटे पहले याद दिलाएँगे।",
    "appointment_confirmed_patient_soon": "✅ पक्का: {doctor} के साथ {starts_at} को आपका परामर्श। "
    "हम 1 घंटे पहले याद दिलाएँगे।",
    "appointment_confirmed_patient_now": "✅ पक्का: {doctor} के साथ {starts_at} को आपका परामर्श।",
    "appointment_confirmed_doctor": "✅ पक्का: {patient} के साथ {starts_at} को परामर्श।",
    "appointment_reminder_24h": "⏰ कल: {with} के साथ {starts_at} पर आपका परामर्श।",
    "appointment_reminder_1h": "⏰ एक घंटे में: {with} के साथ {starts_at} पर आपका परामर्श।",
    "appointment_reminder_start": "🔔 अभी: {with} के साथ आपका परामर्श ({starts_at})।",
    "appointment_rejected": "{doctor} {starts_at} की आपकी अपॉइंटमेंट नहीं ले सकते। {amount_money} पूरा लौटाया जा "
    "रहा है। उनके सबसे नज़दीकी खाली समय:{alternatives_ats}",
    "appointment_not_answered": "{doctor} ने {starts_at} के आपके अनुरोध का समय पर जवाब नहीं दिया, इसलिए "
    "{amount_money} पूरा लौटाया जा रहा है। उनके सबसे नज़दीकी खाली समय:{alternatives_ats}",
    "appointment_request_lapsed": "{starts_at} के अनुरोध का समय पर जवाब नहीं मिला; मरीज़ का पैसा लौटा दिया गया है।",
    "appointment_cancelled_by_patient": "❌ {patient} ने {starts_at} का परामर्श रद्द कर दिया। यह समय फिर से खाली है।",
    "appointment_cancelled_by_doctor": "❌ {doctor} को {starts_at} का आपका परामर्श रद्द करना पड़ा। {amount_money} "
    "पूरा लौटाया जा रहा है। उनके सबसे नज़दीकी खाली समय:{alternatives_ats}",
    "appointment_moved": "🔁 {patient} ने परामर्श {old_at} से बदलकर {starts_at} कर दिया।",
    "appointment_hold_expired": "⌛ {doctor} के साथ {starts_at} का आपके लिए रोका गया समय बिना भुगतान के ख़त्म हो "
    "गया, इसलिए वह समय छोड़ दिया गया। आप फिर से समय चुन सकते हैं।",
    "urgent_hold_expired": "⌛ तुरंत परामर्श का आपका अनुरोध बिना भुगतान के ख़त्म हो गया। आप कभी भी फिर से माँग सकते हैं।",
    "appointment_payment_failed": "{doctor} के साथ {starts_at} के आपके परामर्श का भुगतान नहीं हो पाया, और कोई पैसा नहीं कटा। यह समय {until_at} "
    "तक अब भी आपके लिए रुका है: नए लिंक के लिए 'फिर से भुगतान करें' दबाएँ।",
    "urgent_payment_failed": "आपके तुरंत परामर्श का भुगतान नहीं हो पाया, और कोई पैसा नहीं कटा। नए लिंक के लिए "
    "'फिर से भुगतान करें' दबाएँ।",
    "appointment_refund_paid_too_late": "आपका {amount_money} का भुगतान रोके गए समय के ख़त्म होने के बाद पहुँचा, "
    "इसलिए वह पूरा लौटा दिया गया है।",
    "appointment_refund_duplicate_payment": "इस अपॉइंटमेंट का भुगतान पहले ही हो चुका था, इसलिए आपका दूसरा "
    "{amount_money} का भुगतान पूरा लौटा दिया गया है।",
    "appointment_refund_failed": "भुगतान सेवा आपका {amount_money} का रिफ़ंड वापस नहीं कर सकी। हमारी टीम को बता "
    "दिया गया है और वह इसे ठीक करेगी; आपको कुछ करने की ज़रूरत नहीं है।",
    "refund_failed_admin": "⚠️ {gateway} पर {amount_money} का रिफ़ंड नहीं हो सका (भुगतान {payment})। पैसा अभी "
    "हमारे पास है; कृपया इसे हाथ से लौटाएँ।",
    "urgent_offer": "🚑 तुरंत परामर्श चाहिए ({specialty})। जो डॉक्टर पहले स्वीकार करेगा, वही लेगा; मरीज़ का कारण "
    "तब दिखेगा।",
    "urgent_waiting": "🚑 भुगतान मिल गया। तुरंत {specialty} परामर्श के लिए कतार में आपका नंबर {position} है; "
    "पूछे गए ऑन-कॉल डॉक्टर: {doctors}। अगर {minutes} मिनट में कोई नहीं ले पाता तो पूरा पैसा लौटा "
    "दिया जाएगा।",
    "urgent_accepted": "🚑 {doctor} ने आपका तुरंत परामर्श स्वीकार कर लिया है और अभी आपको {contact} पर कॉल करेंगे। "
    "कृपया अपना फ़ोन ख़ाली रखें। (चैट और वीडियो पर परामर्श अभी बने नहीं हैं।)",
    "urgent_accepted_no_contact": "🚑 {doctor} ने आपका तुरंत परामर्श स्वीकार कर लिया है, पर आपके खाते में कोई "
    "सत्यापित फ़ोन नंबर या ईमेल नहीं है जिस पर वे आपसे संपर्क कर सकें, और चैट पर परामर्श अभी बने नहीं हैं। अगर अभी "
    "देखभाल चाहिए तो नज़दीकी क्लिनिक जाएँ; आपात स्थिति में 112 पर कॉल करें।",
    "urgent_accepted_email": "🚑 {doctor} ने आपका तुरंत परामर्श स्वीकार कर लिया है और अभी आपको {contact} पर लिखेंगे। "
    "(चैट और वीडियो पर परामर्श अभी बने नहीं हैं; अगली बार कॉल पाने के लिए फ़ोन नंबर जोड़ें।)",
    "urgent_timeout": "माफ़ कीजिए: ऑन-कॉल कोई {specialty} डॉक्टर समय पर आपका परामर्श नहीं ले सका। {amount_money} "
    "पूरा लौटाया जा रहा है। अगर अभी देखभाल चाहिए तो नज़दीकी क्लिनिक या इमरजेंसी विभाग जाएँ, और हालत बिगड़े "
    "तो 112 पर कॉल करें।",
    "btn_accept": "स्वीकार करें",
    "btn_reject": "अस्वीकार करें",
    "btn_accept_urgent": "अभी स्वीकार करें",
    "btn_book_again": "समय चुनें",
    "reason_red_flag_mark": "\n⚠️ कारण में ख़तरे के संकेत वाले शब्द हैं: मरीज़ को आपातकालीन सलाह दिखाई गई और उन्होंने "
    "बताया कि वे आगे बढ़ने के लिए सुरक्षित हैं।",
    "sex_female": "महिला",
    "sex_male": "पुरुष",
    "sex_other": "अन्य",
    "sex_undisclosed": "नहीं बताया",
    "profile_none": "कुछ दर्ज नहीं है",
    "list_more": "+{count} और",
    "red_flags_line": "⚠️ इस मरीज़ ने चैट में ये ख़तरे के संकेत बताए: {flags}",
    "red_flag_history": "पहले हुआ: {flag}",
    "btn_pay_again": "फिर से भुगतान करें",
    "doctor_label": "डॉ. {name} ({qualification}; पंजीकरण सं. {registration}, {council})",
}
VARIABLES: dict[str, tuple[str, ...]] = {
    "appointment_request": (
        "patient",
        "starts_at",
        "reason",
        "deadline_at",
        "age",
        "sex_word",
        "allergies_list",
        "medications_list",
        "conditions_list",
        "history_list",
    ),
    "appointment_paid": ("amount_money", "starts_at", "doctor", "deadline_at"),
    "appointment_paid_auto": ("amount_money", "starts_at", "doctor"),
    "appointment_confirmed_patient": ("doctor", "starts_at"),
    "appointment_confirmed_patient_soon": ("doctor", "starts_at"),
    "appointment_confirmed_patient_now": ("doctor", "starts_at"),
    "appointment_confirmed_doctor": ("patient", "starts_at"),
    "appointment_reminder_24h": ("with", "starts_at"),
    "appointment_reminder_1h": ("with", "starts_at"),
    "appointment_reminder_start": ("with", "starts_at"),
    "appointment_rejected": ("doctor", "starts_at", "amount_money"),
    "appointment_not_answered": ("doctor", "starts_at", "amount_money"),
    "appointment_request_lapsed": ("starts_at",),
    "appointment_cancelled_by_patient": ("patient", "starts_at"),
    "appointment_cancelled_by_doctor": ("doctor", "starts_at", "amount_money"),
    "appointment_moved": ("patient", "old_at", "starts_at"),
    "appointment_hold_expired": ("doctor", "starts_at"),
    "urgent_hold_expired": (),
    "appointment_payment_failed": ("doctor", "starts_at", "until_at"),
    "urgent_payment_failed": (),
    "appointment_refund_paid_too_late": ("amount_money",),
    "appointment_refund_duplicate_payment": ("amount_money",),
    "appointment_refund_failed": ("amount_money",),
    "refund_failed_admin": ("amount_money", "gateway", "payment"),
    "urgent_offer": ("specialty",),
    "urgent_waiting": ("position", "specialty", "doctors", "minutes"),
    "urgent_accepted": ("doctor", "contact"),
    "urgent_accepted_email": ("doctor", "contact"),
    "urgent_accepted_no_contact": ("doctor",),
    "urgent_timeout": ("specialty", "amount_money"),
}
