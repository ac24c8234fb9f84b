"""The words of booking, appointments and urgent consults, per language."""

from __future__ import annotations

_STATUSES_EN = {
    "held": "awaiting payment",
    "requested": "waiting for the doctor",
    "confirmed": "confirmed",
    "completed": "completed",
    "no_show": "missed",
    "cancelled": "cancelled",
    "rejected": "not accepted",
    "expired": "hold ended",
}
_STATUSES_HI = {
    "held": "भुगतान बाकी",
    "requested": "डॉक्टर के जवाब का इंतज़ार",
    "confirmed": "पक्का",
    "completed": "पूरा हुआ",
    "no_show": "छूट गया",
    "cancelled": "रद्द",
    "rejected": "स्वीकार नहीं हुआ",
    "expired": "रोका गया समय ख़त्म",
}

EN: dict[str, str] = {
    # booking
    "booking_doctor_gone": "That doctor cannot be booked right now. Let's find another one.",
    "btn_search_again": "🔎 Search again",
    "btn_later_days": "Later days ➡️",
    "btn_later_times": "Later times ➡️",
    "btn_other_day": "📅 Another day",
    "btn_other_time": "🕒 Another time",
    "booking_moving": "You are moving your appointment to a new time.",
    "booking_no_days": "Dr {doctor} has no free times in the next {days} days.",
    "booking_pick_day": "Which day would you like to see Dr {doctor}? (Times are in your timezone.)",
    "booking_day_full": "That day has just filled up. Please pick another day.",
    "booking_pick_time": "Free times on {day}:",
    "booking_ask_reason": "In a few words, what is the reason for your visit? (up to {limit} characters; "
    "only your doctor will read it)",
    "booking_reason_short": "Please write a few words about why you want to see the doctor.",
    "booking_reason_long": "That is a bit long: please keep it under {limit} characters.",
    "booking_reason_too_long": "That is a bit long: please keep it shorter.",
    "booking_summary": "Please check:\n👩‍⚕️ Dr {doctor}, {qualification} (Reg. No. {registration})\n🕒 {when}\n"
    "💳 Fee: {fee}\n📝 Reason: {reason}\n\nConfirming holds this time for you for {minutes} minutes while you pay.",
    "booking_move_summary": "Move your appointment with Dr {doctor} to {when}?",
    "btn_move_here": "✅ Move it here",
    "btn_hold_and_pay": "✅ Hold it and pay",
    "btn_cancel_booking": "✖️ Cancel",
    "booking_dropped": "Booking cancelled; nothing was charged.",
    "booking_too_many_holds": "You already have times held and unpaid. Pay for one or cancel it first.",
    "booking_slot_taken": "Sorry, someone else has just taken that time. Please pick another.",
    "booking_slot_gone": "That time is no longer available. Please pick another.",
    "booking_slot_past": "That time is too soon to book (or has passed). Please pick a later one.",
    "booking_hold_lapsed": "The time held for you has ended. Please pick a time again.",
    "booking_not_movable": "This appointment cannot be moved.",
    "booking_too_late_to_move": "It is too close to the start to move this appointment; you can still cancel it.",
    "booking_already_decided": "This appointment has changed meanwhile; please look at it again.",
    "booking_moved": "Done: your appointment is now on {when}. The doctor has been told.",
    "booking_pay": "Dr {doctor}, {when}: this time is held for you until {until}. The fee is {fee}.\n\n"
    "When the payment goes through, we send your request to the doctor and tell you here.",
    "btn_pay_link": "💳 Pay {fee}",
    "btn_paid_check": "🔄 I have paid — check",
    "btn_try_again": "🔄 Try again",
    "booking_paid_cancel_elsewhere": "This booking is paid now. To cancel it, open 'My appointments': it shows "
    "what you would get back first.",
    "booking_payment_failed": "That payment did not go through, and nothing was charged. Here is a new link to "
    "try again.",
    "appt_status_requested_doctor": "needs your answer",
    "booking_pay_unavailable": "The payment service is not answering right now. Your time stays held; please "
    "try again in a moment.",
    "booking_not_paid_yet": "We have not received the payment yet. It can take a minute after you pay.",
    "booking_after_pay_requested": "✅ Payment received. Your request is with the doctor; you will hear from us here.",
    "booking_after_pay_confirmed": "✅ Paid and confirmed. See 'My appointments' for the details.",
    "booking_after_pay_cancelled": "This booking was cancelled.",
    "booking_after_pay_rejected": "The doctor could not take this booking; any payment is refunded.",
    "booking_after_pay_expired": "The time held for you ended before the payment arrived. Please pick a time again.",
    "booking_after_pay_completed": "This consultation has taken place.",
    "booking_after_pay_no_show": "This consultation was missed.",
    # appointments
    "appointments_list": "Your appointments (pick one to see it or change it):",
    "appointments_none": "You have no appointments yet.",
    "appointment_not_found": "That appointment was not found.",
    "appointment_changed": "This appointment has changed meanwhile; here it is again.",
    "appointment_detail": "🕒 {when}\n👤 {who}\nStatus: {status}\n💳 Fee: {fee}\n📝 Reason: {reason}",
    "btn_back_to_list": "⬅️ My appointments",
    "btn_appt_pay": "💳 Pay",
    "btn_appt_cancel": "✖️ Cancel appointment",
    "btn_appt_move": "🔁 Move to another time",
    "btn_appt_doctor_no_show": "The doctor did not come",
    "btn_appt_accept": "✅ Accept",
    "btn_appt_reject": "✖️ Reject",
    "btn_appt_completed": "✅ Consultation done",
    "btn_appt_patient_no_show": "The patient did not come",
    "btn_appt_doctor_cancel": "✖️ Cancel appointment",
    "appt_cancel_confirm": "Cancel your appointment on {when}? You will get {refund} back (full refund up to "
    "{hours} hours before the start).",
    "appt_cancel_confirm_late": "Cancel your appointment on {when}? It starts in less than {hours} hours, so you "
    "will get {refund} back: {percent}% of the {fee} fee (a full refund is only up to {hours} hours before).",
    "appt_cancel_confirm_unaccepted": "Cancel your request for {when}? The doctor has not accepted it yet, so you "
    "will get all {refund} back.",
    "appt_cancel_unpaid_confirm": "Release the time held for you on {when}? Nothing has been charged.",
    "appt_cancel_doctor_confirm": "Cancel the appointment on {when}? The patient is refunded in full and offered "
    "your nearest free times.",
    "btn_yes_cancel": "Yes, cancel",
    "btn_keep_appointment": "No, keep it",
    "appt_cancelled": "Cancelled.",
    "appt_cancelled_refund": "Cancelled. {refund} is being refunded to you.",
    "appt_done_accept": "✅ Accepted. The patient has been told.",
    "appt_done_reject": "Rejected. The patient is refunded in full and offered other times.",
    "appt_done_completed": "Marked as done. Thank you!",
    "appt_done_patient_no_show": "Recorded: the patient did not come.",
    "appt_done_doctor_no_show": "Recorded. We are sorry: you are refunded in full.",
    "appt_error_already_decided": "This request was already decided (or withdrawn) earlier.",
    "appt_error_already_taken": "Another doctor has already taken this consult. Thank you!",
    "appt_error_not_on_call": "You are not on call for this kind of consult.",
    "appt_error_not_confirmed": "Only a confirmed appointment can be marked.",
    "appt_error_not_started": "This appointment has not started yet.",
    "appt_error_not_allowed": "That is not possible for this appointment.",
    "appt_error_wait_for_doctor": "Please give the doctor 10 minutes after the start before reporting this.",
    "appt_error_not_cancellable": "This appointment can no longer be cancelled.",
    "appt_error_already_started": "This appointment has already started.",
    "appt_error_gateway": "The payment service is not answering, so nothing was changed. Please try again in a "
    "few minutes.",
    "urgent_any_doctor": "{specialty} on call",
    "urgent_now": "Urgent",
    "urgent_taken_by_you": "✅ It is yours: {patient}. Their card, with how to reach them, is below and in "
    "'My appointments'.",
    "urgent_reach_phone": "📞 Please call them now on {contact} (the number they verified with telecare): "
    "consultations in the chat and by video are not built yet. They have been told you will call.",
    "urgent_reach_email": "✉️ They have no phone number with telecare: please write to them now at {contact} "
    "(the address they verified): consultations in the chat and by video are not built yet. They have been told "
    "you will write.",
    "appt_error_refund_changed": "This appointment changed meanwhile, and cancelling it now gives back less than "
    "we said. Here is what it gives now:",
    "appt_error_offer_closed": "This urgent consult is no longer open (it timed out or was cancelled).",
    "appt_error_too_late_to_decide": "The time to answer this request has passed; the patient is being refunded.",
    "appt_error_too_late_to_report": "It is too late to report this automatically; please write to support.",
    "appt_cancelled_by_doctor_done": "Cancelled. The patient is refunded {refund} in full and offered your nearest "
    "free times.",
    # urgent
    "urgent_nobody": "No doctor is on call right now. If you need care now, go to the nearest clinic or "
    "emergency department; call 112 in an emergency.",
    "urgent_intro": "🚑 Urgent consult: for {fee}, your request goes at once to the doctors on call, and the "
    "first to accept takes it and calls you on the phone number you verified with telecare (or writes to your "
    "email if you have no number with us): consultations in the chat and by video are not built yet. This is "
    "for problems that cannot wait but are not an "
    "emergency — for chest pain, trouble breathing, heavy bleeding or fainting "
    "call 112. If nobody can take it within {minutes} minutes you are refunded in full.\n\nWhat kind of doctor do "
    "you need?",
    "urgent_ask_reason": "In a few words, what is happening?",
    "urgent_error_nobody_on_call": "Sorry, no doctor of that kind is on call right now. If you need care now, go "
    "to the nearest clinic or emergency department.",
    "urgent_error_urgent_open": "You already have an urgent consult open. See 'My appointments'.",
    "urgent_pay": "Pay {fee} and we ask the doctors on call at once.",
    "urgent_in_line": "You are number {position} in line; the doctors on call have been asked. We will tell you "
    "here as soon as one accepts.",
    "urgent_status_held": "Waiting for your payment.",
    "urgent_status_confirmed": "✅ A doctor has accepted your consult. See 'My appointments'.",
    "urgent_status_cancelled": "This urgent consult was cancelled.",
    "urgent_status_rejected": "No doctor could take it in time; you are refunded in full.",
    "urgent_status_expired": "The request ended unpaid. You can ask again.",
    "urgent_status_completed": "This consult has taken place.",
    "urgent_status_no_show": "This consult was missed.",
    # the patient's summary, for their doctor
    "patient_summary": "🧾 Patient summary\nAge: {age} · Sex: {sex}\nAllergies: {allergies}\n"
    "Current medications: {medications}\nConditions: {conditions}\nMedical history: {history}",
    "patient_summary_denied": "🧾 The patient's summary is shown only while you have an active appointment with "
    "them, and for 24 hours after it.",
    "patient_summary_missing": "🧾 This patient has no medical profile on file.",
    # the patient's emergency red flags of the last 90 days, on their doctor's card (backend/safety/shown.py)
    "red_flags_line": "⚠️ Red flags this patient raised in chat: {flags}",
    "red_flag_history": "history: {flag}",
    "list_more": "+{count} more",
    **{f"appt_status_{k}": v for k, v in _STATUSES_EN.items()},
    # a reason with emergency red-flag words, kept after "I am safe — continue"
    "booking_reason_red_flag": "⚠️ This reason has warning-sign words: your doctor will see it marked, "
    "so they can look at it first. If it gets worse, call 112.",
    "appointment_reason_red_flag": "⚠️ red-flag words in the reason (the patient saw the emergency guidance "
    "and said they were safe to continue)",
    # the same mark on the patient's own card: said to them, not about them
    "appointment_reason_red_flag_patient": "⚠️ You saw the emergency guidance and said you were safe; your doctor "
    "will see the reason marked.",
}
HI: dict[str, str] = {
    "booking_doctor_gone": "इन डॉक्टर की बुकिंग अभी नहीं हो सकती। चलिए कोई और डॉक्टर ढूँढते हैं।",
    "btn_search_again": "🔎 फिर से खोजें",
    "btn_later_days": "आगे के दिन ➡️",
    "btn_later_times": "बाद के समय ➡️",
    "btn_other_day": "📅 कोई और दिन",
    "btn_other_time": "🕒 कोई और समय",
    "booking_moving": "आप अपनी अपॉइंटमेंट नए समय पर ले जा रहे हैं।",
    "booking_no_days": "डॉ. {doctor} के पास अगले {days} दिनों में कोई खाली समय नहीं है।",
    "booking_pick_day": "आप डॉ. {doctor} से किस दिन मिलना चाहेंगे? (समय आपके टाइमज़ोन में हैं।)",
    "booking_day_full": "वह दिन अभी-अभी भर गया। कृपया कोई और दिन चुनें।",
    "booking_pick_time": "{day} को खाली समय:",
    "booking_ask_reason": "कुछ शब्दों में बताइए, आप क्यों दिखाना चाहते हैं? ({limit} अक्षरों तक; इसे सिर्फ़ आपके डॉक्टर पढ़ेंगे)",
    "booking_reason_short": "कृपया कुछ शब्द लिखें कि आप डॉक्टर को क्यों दिखाना चाहते हैं।",
    "booking_reason_long": "यह थोड़ा लंबा है: कृपया {limit} अक्षरों से कम रखें।",
    "booking_reason_too_long": "यह थोड़ा लंबा है: कृपया छोटा रखें।",
    "booking_summary": "कृपया जाँच लें:\n👩‍⚕️ डॉ. {doctor}, {qualification} (पंजीकरण सं. {registration})\n🕒 {when}\n"
    "💳 फ़ीस: {fee}\n📝 कारण: {reason}\n\nपक्का करने पर यह समय भुगतान के लिए {minutes} मिनट तक आपके लिए रुका रहेगा।",
    "booking_move_summary": "डॉ. {doctor} के साथ अपनी अपॉइंटमेंट {when} पर ले जाएँ?",
    "btn_move_here": "✅ यहाँ ले जाएँ",
    "btn_hold_and_pay": "✅ समय रोकें और भुगतान करें",
    "btn_cancel_booking": "✖️ रद्द करें",
    "booking_dropped": "बुकिंग रद्द; कोई पैसा नहीं कटा।",
    "booking_too_many_holds": "आपके कई समय पहले से बिना भुगतान रुके हैं। पहले किसी एक का भुगतान करें या उसे रद्द करें।",
    "booking_slot_taken": "माफ़ कीजिए, यह समय अभी-अभी किसी और ने ले लिया। कृपया कोई और चुनें।",
    "booking_slot_gone": "यह समय अब उपलब्ध नहीं है। कृपया कोई और चुनें।",
    "booking_slot_past": "यह समय बुक करने के लिए बहुत पास है (या निकल चुका है)। कृपया बाद का कोई समय चुनें।",
    "booking_hold_lapsed": "आपके लिए रोका गया समय ख़त्म हो गया। कृपया फिर से समय चुनें।",
    "booking_not_movable": "यह अपॉइंटमेंट बदली नहीं जा सकती।",
    "booking_too_late_to_move": "शुरू होने में बहुत कम समय बचा है, इसलिए यह अपॉइंटमेंट बदली नहीं जा सकती; आप इसे "
    "रद्द कर सकते हैं।",
    "booking_already_decided": "इस बीच यह अपॉइंटमेंट बदल गई है; कृपया इसे फिर से देखें।",
    "booking_moved": "हो गया: आपकी अपॉइंटमेंट अब {when} को है। डॉक्टर को बता दिया गया है।",
    "booking_pay": "डॉ. {doctor}, {when}: यह समय {until} तक आपके लिए रुका है। फ़ीस {fee} है।\n\n"
    "भुगतान होते ही हम आपका अनुरोध डॉक्टर को भेजेंगे और आपको यहीं बताएँगे।",
    "btn_pay_link": "💳 {fee} का भुगतान करें",
    "btn_paid_check": "🔄 मैंने भुगतान कर दिया — जाँचें",
    "btn_try_again": "🔄 फिर से कोशिश करें",
    "booking_paid_cancel_elsewhere": "इस बुकिंग का भुगतान हो चुका है। इसे रद्द करने के लिए 'मेरी अपॉइंटमेंट' खोलें: "
    "वहाँ पहले बताया जाता है कि आपको कितना वापस मिलेगा।",
    "booking_payment_failed": "वह भुगतान नहीं हो पाया, और कोई पैसा नहीं कटा। फिर से कोशिश करने के लिए यह नया लिंक है।",
    "appt_status_requested_doctor": "आपके जवाब का इंतज़ार",
    "booking_pay_unavailable": "भुगतान सेवा अभी जवाब नहीं दे रही। आपका समय रुका रहेगा; कृपया थोड़ी देर में फिर से "
    "कोशिश करें।",
    "booking_not_paid_yet": "भुगतान अभी हमें नहीं मिला है। भुगतान के बाद इसमें एक मिनट लग सकता है।",
    "booking_after_pay_requested": "✅ भुगतान मिल गया। आपका अनुरोध डॉक्टर के पास है; आपको यहीं बताया जाएगा।",
    "booking_after_pay_confirmed": "✅ भुगतान हो गया और अपॉइंटमेंट पक्की है। विवरण 'मेरी अपॉइंटमेंट' में देखें।",
    "booking_after_pay_cancelled": "यह बुकिंग रद्द कर दी गई।",
    "booking_after_pay_rejected": "डॉक्टर यह बुकिंग नहीं ले सके; जो भी भुगतान हुआ है वह लौटाया जा रहा है।",
    "booking_after_pay_expired": "भुगतान आने से पहले रोका गया समय ख़त्म हो गया। कृपया फिर से समय चुनें।",
    "booking_after_pay_completed": "यह परामर्श हो चुका है।",
    "booking_after_pay_no_show": "यह परामर्श छूट गया।",
    "appointments_list": "आपकी अपॉइंटमेंट (देखने या बदलने के लिए एक चुनें):",
    "appointments_none": "अभी आपकी कोई अपॉइंटमेंट नहीं है।",
    "appointment_not_found": "वह अपॉइंटमेंट नहीं मिली।",
    "appointment_changed": "इस बीच यह अपॉइंटमेंट बदल गई है; यह फिर से रही।",
    "appointment_detail": "🕒 {when}\n👤 {who}\nस्थिति: {status}\n💳 फ़ीस: {fee}\n📝 कारण: {reason}",
    "btn_back_to_list": "⬅️ मेरी अपॉइंटमेंट",
    "btn_appt_pay": "💳 भुगतान करें",
    "btn_appt_cancel": "✖️ अपॉइंटमेंट रद्द करें",
    "btn_appt_move": "🔁 दूसरे समय पर ले जाएँ",
    "btn_appt_doctor_no_show": "डॉक्टर नहीं आए",
    "btn_appt_accept": "✅ स्वीकार करें",
    "btn_appt_reject": "✖️ अस्वीकार करें",
    "btn_appt_completed": "✅ परामर्श हो गया",
    "btn_appt_patient_no_show": "मरीज़ नहीं आए",
    "btn_appt_doctor_cancel": "✖️ अपॉइंटमेंट रद्द करें",
    "appt_cancel_confirm": "{when} की अपनी अपॉइंटमेंट रद्द करें? आपको {refund} वापस मिलेंगे (शुरू होने से {hours} "
    "घंटे पहले तक पूरा पैसा वापस)।",
    "appt_cancel_confirm_late": "{when} की अपनी अपॉइंटमेंट रद्द करें? शुरू होने में {hours} घंटे से कम बचे हैं, "
    "इसलिए आपको {refund} वापस मिलेंगे: {fee} फ़ीस का {percent}% (पूरा पैसा सिर्फ़ {hours} घंटे पहले तक वापस "
    "मिलता है)।",
    "appt_cancel_confirm_unaccepted": "{when} का अपना अनुरोध रद्द करें? डॉक्टर ने इसे अभी स्वीकार नहीं किया है, "
    "इसलिए आपको पूरे {refund} वापस मिलेंगे।",
    "appt_cancel_unpaid_confirm": "{when} का आपके लिए रोका गया समय छोड़ दें? कोई पैसा नहीं कटा है।",
    "appt_cancel_doctor_confirm": "{when} की अपॉइंटमेंट रद्द करें? मरीज़ को पूरा पैसा लौटाया जाएगा और आपके सबसे "
    "नज़दीकी खाली समय बताए जाएँगे।",
    "btn_yes_cancel": "हाँ, रद्द करें",
    "btn_keep_appointment": "नहीं, रहने दें",
    "appt_cancelled": "रद्द कर दिया।",
    "appt_cancelled_refund": "रद्द कर दिया। आपको {refund} लौटाए जा रहे हैं।",
    "appt_done_accept": "✅ स्वीकार कर लिया। मरीज़ को बता दिया गया है।",
    "appt_done_reject": "अस्वीकार कर दिया। मरीज़ को पूरा पैसा लौटाया जा रहा है और दूसरे समय बताए गए हैं।",
    "appt_done_completed": "पूरा हुआ दर्ज कर लिया। धन्यवाद!",
    "appt_done_patient_no_show": "दर्ज कर लिया: मरीज़ नहीं आए।",
    "appt_done_doctor_no_show": "दर्ज कर लिया। हमें खेद है: आपको पूरा पैसा लौटाया जा रहा है।",
    "appt_error_already_decided": "इस अनुरोध पर पहले ही फ़ैसला हो चुका है (या इसे वापस ले लिया गया)।",
    "appt_error_already_taken": "यह परामर्श कोई और डॉक्टर पहले ही ले चुके हैं। धन्यवाद!",
    "appt_error_not_on_call": "आप इस तरह के परामर्श के लिए ऑन-कॉल नहीं हैं।",
    "appt_error_not_confirmed": "सिर्फ़ पक्की अपॉइंटमेंट को ही दर्ज किया जा सकता है।",
    "appt_error_not_started": "यह अपॉइंटमेंट अभी शुरू नहीं हुई है।",
    "appt_error_not_allowed": "इस अपॉइंटमेंट के लिए यह संभव नहीं है।",
    "appt_error_wait_for_doctor": "इसकी शिकायत से पहले कृपया शुरू होने के बाद डॉक्टर को 10 मिनट दें।",
    "appt_error_not_cancellable": "यह अपॉइंटमेंट अब रद्द नहीं की जा सकती।",
    "appt_error_already_started": "यह अपॉइंटमेंट शुरू हो चुकी है।",
    "appt_error_gateway": "भुगतान सेवा जवाब नहीं दे रही, इसलिए कुछ नहीं बदला गया। कृपया कुछ मिनट बाद फिर से कोशिश करें।",
    "urgent_any_doctor": "ऑन-कॉल {specialty}",
    "urgent_now": "तुरंत",
    "urgent_taken_by_you": "✅ यह आपका है: {patient}। उनका कार्ड, उनसे संपर्क के तरीक़े के साथ, नीचे और 'मेरी "
    "अपॉइंटमेंट' में है।",
    "urgent_reach_phone": "📞 कृपया उन्हें अभी {contact} पर कॉल करें (telecare से सत्यापित नंबर): चैट और वीडियो पर "
    "परामर्श अभी बने नहीं हैं। उन्हें बता दिया गया है कि आप कॉल करेंगे।",
    "urgent_reach_email": "✉️ telecare के पास उनका फ़ोन नंबर नहीं है: कृपया उन्हें अभी {contact} पर लिखें (सत्यापित "
    "पता): चैट और वीडियो पर परामर्श अभी बने नहीं हैं। उन्हें बता दिया गया है कि आप लिखेंगे।",
    "appt_error_refund_changed": "इस बीच यह अपॉइंटमेंट बदल गई है, और अब रद्द करने पर बताई गई रकम से कम वापस "
    "मिलेगा। अब यह मिलेगा:",
    "appt_error_offer_closed": "यह तुरंत परामर्श अब खुला नहीं है (समय ख़त्म हो गया या रद्द हो गया)।",
    "appt_error_too_late_to_decide": "इस अनुरोध का जवाब देने का समय निकल गया; मरीज़ को पैसा लौटाया जा रहा है।",
    "appt_error_too_late_to_report": "अब इसकी अपने-आप शिकायत दर्ज करने में बहुत देर हो गई; कृपया सपोर्ट को लिखें।",
    "appt_cancelled_by_doctor_done": "रद्द कर दिया। मरीज़ को {refund} पूरा लौटाया जा रहा है और आपके सबसे नज़दीकी "
    "खाली समय बताए गए हैं।",
    "urgent_nobody": "अभी कोई डॉक्टर ऑन-कॉल नहीं है। अगर अभी देखभाल चाहिए तो नज़दीकी क्लिनिक या इमरजेंसी विभाग "
    "जाएँ; आपात स्थिति में 112 पर कॉल करें।",
    "urgent_intro": "🚑 तुरंत परामर्श: {fee} में, आपका अनुरोध तुरंत ऑन-कॉल डॉक्टरों को जाता है, और जो पहले "
    "स्वीकार करे वही लेता है और telecare से सत्यापित आपके फ़ोन नंबर पर आपको कॉल करता है (नंबर न हो तो "
    "आपके ईमेल पर लिखता है): चैट और वीडियो पर परामर्श अभी बने नहीं हैं। यह उन तकलीफ़ों के लिए है जो रुक "
    "नहीं सकतीं पर आपात स्थिति नहीं हैं — सीने में दर्द, साँस लेने में तकलीफ़, बहुत ख़ून बहने या बेहोशी में 112 "
    "पर कॉल करें। अगर {minutes} मिनट में कोई नहीं ले पाता तो पूरा पैसा लौटाया जाएगा।\n\nआपको किस तरह के डॉक्टर "
    "चाहिए?",
    "urgent_ask_reason": "कुछ शब्दों में बताइए, क्या हो रहा है?",
    "urgent_error_nobody_on_call": "माफ़ कीजिए, इस तरह के कोई डॉक्टर अभी ऑन-कॉल नहीं हैं। अगर अभी देखभाल चाहिए तो "
    "नज़दीकी क्लिनिक या इमरजेंसी विभाग जाएँ।",
    "urgent_error_urgent_open": "आपका एक तुरंत परामर्श पहले से खुला है। 'मेरी अपॉइंटमेंट' देखें।",
    "urgent_pay": "{fee} का भुगतान करें, हम तुरंत ऑन-कॉल डॉक्टरों से पूछेंगे।",
    "urgent_in_line": "कतार में आपका नंबर {position} है; ऑन-कॉल डॉक्टरों से पूछा गया है। जैसे ही कोई स्वीकार "
    "करेगा, हम यहीं बताएँगे।",
    "urgent_status_held": "आपके भुगतान का इंतज़ार है।",
    "urgent_status_confirmed": "✅ एक डॉक्टर ने आपका परामर्श स्वीकार कर लिया है। 'मेरी अपॉइंटमेंट' देखें।",
    "urgent_status_cancelled": "यह तुरंत परामर्श रद्द कर दिया गया।",
    "urgent_status_rejected": "कोई डॉक्टर समय पर नहीं ले सका; आपको पूरा पैसा लौटाया जा रहा है।",
    "urgent_status_expired": "अनुरोध बिना भुगतान के ख़त्म हो गया। आप फिर से माँग सकते हैं।",
    "urgent_status_completed": "यह परामर्श हो चुका है।",
    "urgent_status_no_show": "यह परामर्श छूट गया।",
    "patient_summary": "🧾 मरीज़ का सारांश\nउम्र: {age} · लिंग: {sex}\nएलर्जी: {allergies}\n"
    "अभी चल रही दवाइयाँ: {medications}\nबीमारियाँ: {conditions}\nमेडिकल इतिहास: {history}",
    "patient_summary_denied": "🧾 मरीज़ का सारांश केवल तब दिखता है जब उनके साथ आपकी कोई सक्रिय अपॉइंटमेंट हो, "
    "और उसके 24 घंटे बाद तक।",
    "patient_summary_missing": "🧾 इस मरीज़ की कोई मेडिकल प्रोफ़ाइल दर्ज नहीं है।",
    "red_flags_line": "⚠️ इस मरीज़ ने चैट में ये ख़तरे के संकेत बताए: {flags}",
    "red_flag_history": "पहले हुआ: {flag}",
    "list_more": "+{count} और",
    **{f"appt_status_{k}": v for k, v in _STATUSES_HI.items()},
    "booking_reason_red_flag": "⚠️ इस कारण में ख़तरे के संकेत वाले शब्द हैं: आपके डॉक्टर इसे निशान लगा हुआ देखेंगे, "
    "ताकि वे इसे पहले देख सकें। हालत बिगड़े तो 112 पर कॉल करें।",
    "appointment_reason_red_flag": "⚠️ कारण में ख़तरे के संकेत वाले शब्द (मरीज़ ने आपातकालीन सलाह देखी और बताया कि वे "
    "आगे बढ़ने के लिए सुरक्षित हैं)",
    "appointment_reason_red_flag_patient": "⚠️ आपने आपातकालीन सलाह देखी और बताया कि आप सुरक्षित हैं; आपके डॉक्टर "
    "यह कारण निशान लगा हुआ देखेंगे।",
}
