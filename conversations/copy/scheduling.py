"""The words of availability (doctors) and doctor search (patients), per language."""

from __future__ import annotations

EN: dict[str, str] = {
    # --- availability: the overview ---
    "av_summary": (
        "🗓 Your availability (times in {timezone})\n"
        "Weekly hours:\n{week}\n"
        "Daily break: {breaks}\n"
        "Slot length: {minutes} minutes\n"
        "Days off and one-off hours:\n{dates}\n"
        "On call for urgent consults: {on_call}\n"
        "Accepting requests: {acceptance}\n"
        "Free slots in the next {days} days: {free}"
    ),
    "av_off": "off",
    "av_none": "none",
    "av_yes": "yes",
    "av_no": "no",
    "av_accept_auto": "automatically",
    "av_accept_manual": "manually (you tap Accept or Reject)",
    "av_what_to_change": "What would you like to change?",
    "av_not_verified_status": (
        "Your registration is {status}. You can set your hours once an admin has verified it; "
        "until then nothing can be booked with you."
    ),
    "av_not_verified": "Only verified doctors can change availability. Nothing was saved.",
    "av_btn_hours": "🕘 Weekly hours",
    "av_btn_slot_length": "⏱ Slot length",
    "av_btn_break": "☕ Daily break",
    "av_btn_dates": "📅 Days off & one-off hours",
    "av_btn_on_call_on": "🚑 Go on call",
    "av_btn_on_call_off": "🚑 Stop being on call",
    "av_btn_auto": "⚡ Accept requests automatically",
    "av_btn_manual": "✋ Accept requests manually",
    "av_btn_back": "↩️ Back",
    "av_on_call_now_on": "🚑 You are on call: urgent consults in your specialty will be offered to you.",
    "av_on_call_now_off": "You are no longer on call.",
    "av_accept_now_auto": "⚡ Paid requests will now be accepted automatically.",
    "av_accept_now_manual": "✋ You will now accept or reject each paid request yourself.",
    "av_saved": "✅ Saved. Free slots in the next {days} days: {free}.",
    "av_booked_stay": (
        "{count} booked appointment(s) fall outside your new hours. They stay booked; cancel them "
        "from “My appointments” if you cannot keep them."
    ),
    # --- availability: changing things ---
    "av_ask_hours": (
        "Type the days and hours, one entry per line or separated by “;”. For example:\n"
        "Mon-Fri 09:00-13:00, 14:00-17:00\n"
        "Sat 10:00-12:00\n"
        "Sun off\n"
        "Times like 9am or 9:30 pm work too. Days you don't mention keep their hours."
    ),
    "av_ask_slot_length": "How long should each appointment slot be?",
    "av_minutes": "{minutes} min",
    "av_ask_break": "Type your daily break, e.g. 13:00-14:00 (or two: 11:00-11:15, 13:00-14:00).",
    "av_btn_no_break": "No break",
    "av_dates": "Days off and one-off hours ahead:\n{dates}",
    "av_btn_add_day_off": "➕ Add a day off",
    "av_btn_add_one_off": "➕ Add one-off hours",
    "av_btn_clear_day": "✖ {day}: usual hours",
    "av_day_cleared": "{day} is back to your usual hours.",
    "av_day_already_clear": "{day} already had your usual hours.",
    "av_ask_day_off": "Which date do you want off? For example 25-12-2026, 25 Dec or tomorrow.",
    "av_day_off_added": "🌴 {day} is a day off.",
    "av_ask_one_off": (
        "Type the date and that day's hours, e.g. 24-12-2026 10:00-12:00, 15:00-17:00 (or a date and “off”)."
    ),
    "av_one_off_added": "{day}: {hours} instead of your usual hours.",
    # --- availability: what was wrong ---
    "av_time_invalid": "I couldn't read a time there. Use 24-hour times like 09:00 or 17:30, or 9am / 5:30 pm.",
    "av_hours_invalid": (
        "I couldn't read that. Write days and hours like “Mon-Fri 09:00-13:00, 14:00-17:00” or “Sun off”."
    ),
    "av_hours_missing": "Please add the hours after the day, e.g. “Sat 10:00-12:00”, or “off”.",
    "av_days_missing": "Please start with the day(s), e.g. “Mon-Fri 09:00-17:00”.",
    "av_end_before_start": "An end time must be after its start time (e.g. 09:00-13:00). Please try again.",
    "av_overlap": "Two of those times overlap. Please give separate times, e.g. 09:00-13:00, 14:00-17:00.",
    "av_bad_slot_length": "Please choose 10, 15, 20, 30, 45 or 60 minutes.",
    "av_date_invalid": "I couldn't read that date. Please type it like 25-12-2026 or 25 Dec.",
    "av_date_past": "That date has already passed. Please give today or a later date.",
    "av_date_too_far": "That date is more than a year ahead. Please check it.",
    "av_no_hours": "Please give the hours for that day, e.g. 10:00-12:00.",
    # --- find a doctor ---
    "fd_ask_specialty": (
        "🔎 What kind of doctor do you need? Pick one, or type it in your own words "
        "(for example “skin”, “child”, “heart”)."
    ),
    "fd_btn_any_specialty": "Any specialty",
    "fd_specialty_unknown": "I couldn't match “{text}” to a specialty. Try another word or pick one below.",
    "fd_filters": "{specialty} · Language: {language} · Fee: {fee} · {order}",
    "fd_any_specialty": "All specialties",
    "fd_any_language": "Any language",
    "fd_any_fee": "Any fee",
    "fd_fee_up_to": "up to {high}",
    "fd_fee_from": "{low} and above",
    "fd_fee_between": "{low}–{high}",
    "fd_order_earliest": "earliest available first",
    "fd_order_fee": "lowest fee first",
    "fd_card": (
        "{number}. Dr {name} — {qualification}\n"
        "{specialties}\n"
        "{council}, registration no. {registration}\n"
        "Languages: {languages} · Fee: {fee}\n"
        "Next free: {next_free}"
    ),
    "fd_no_free_slots": "no free times in the coming days",
    "fd_pick_doctor": "Pick a doctor to see their details and book.",
    "fd_btn_doctor": "Dr {name}",
    "fd_btn_more": "➡️ More doctors",
    "fd_btn_language": "🗣 Language",
    "fd_btn_fee": "💰 Fee range",
    "fd_btn_order_fee": "Sort: lowest fee",
    "fd_btn_order_earliest": "Sort: earliest available",
    "fd_btn_new_search": "🔎 New search",
    "fd_nothing_found": "No verified doctor matches this search yet. Try another language, fee range or specialty.",
    "fd_no_more": "That's everyone for this search. Start a new search or change the filters.",
    "fd_ask_language": "Which language should the doctor speak? Pick one or type it.",
    "fd_language_unknown": "No doctor lists “{text}” yet. Pick one of the languages below.",
    "fd_ask_fee": "What fee range suits you? Pick one, or type amounts like 300-800.",
    "fd_fee_invalid": "Please type an amount like 800 or a range like 300-800, or pick an option.",
    "fd_doctor_details": (
        "Dr {name}\n"
        "{qualification}\n"
        "{specialties}\n"
        "Registered with: {council}\n"
        "Registration no.: {registration}\n"
        "Languages: {languages}\n"
        "Consultation fee: {fee}\n\n"
        "{bio}\n\n"
        "Next free times ({timezone}): {next_free}"
    ),
    "fd_doctor_gone": "This doctor is no longer available for booking.",
    "fd_btn_book": "📅 Book",
    "fd_btn_back_to_results": "↩️ Back to the list",
}

HI: dict[str, str] = {
    # --- availability: the overview ---
    "av_summary": (
        "🗓 आपकी उपलब्धता (समय {timezone} में)\n"
        "हफ़्ते के घंटे:\n{week}\n"
        "रोज़ का ब्रेक: {breaks}\n"
        "हर स्लॉट की अवधि: {minutes} मिनट\n"
        "छुट्टियाँ और एक दिन के अलग घंटे:\n{dates}\n"
        "अर्जेंट परामर्श के लिए ऑन-कॉल: {on_call}\n"
        "अनुरोध स्वीकार करना: {acceptance}\n"
        "अगले {days} दिनों में खाली स्लॉट: {free}"
    ),
    "av_off": "छुट्टी",
    "av_none": "कोई नहीं",
    "av_yes": "हाँ",
    "av_no": "नहीं",
    "av_accept_auto": "अपने-आप",
    "av_accept_manual": "ख़ुद (आप स्वीकार या अस्वीकार दबाते हैं)",
    "av_what_to_change": "आप क्या बदलना चाहेंगे?",
    "av_not_verified_status": (
        "आपका पंजीकरण अभी {status} है। एडमिन के सत्यापन के बाद आप अपने घंटे तय कर सकेंगे; "
        "तब तक आपके साथ कोई बुकिंग नहीं हो सकती।"
    ),
    "av_not_verified": "उपलब्धता केवल सत्यापित डॉक्टर बदल सकते हैं। कुछ भी सहेजा नहीं गया।",
    "av_btn_hours": "🕘 हफ़्ते के घंटे",
    "av_btn_slot_length": "⏱ स्लॉट की अवधि",
    "av_btn_break": "☕ रोज़ का ब्रेक",
    "av_btn_dates": "📅 छुट्टियाँ और अलग घंटे",
    "av_btn_on_call_on": "🚑 ऑन-कॉल हों",
    "av_btn_on_call_off": "🚑 ऑन-कॉल बंद करें",
    "av_btn_auto": "⚡ अनुरोध अपने-आप स्वीकार करें",
    "av_btn_manual": "✋ अनुरोध ख़ुद स्वीकार करें",
    "av_btn_back": "↩️ वापस",
    "av_on_call_now_on": "🚑 आप ऑन-कॉल हैं: आपकी विशेषज्ञता के अर्जेंट परामर्श आपको भेजे जाएँगे।",
    "av_on_call_now_off": "अब आप ऑन-कॉल नहीं हैं।",
    "av_accept_now_auto": "⚡ भुगतान हो चुके अनुरोध अब अपने-आप स्वीकार होंगे।",
    "av_accept_now_manual": "✋ अब आप हर भुगतान हो चुके अनुरोध को ख़ुद स्वीकार या अस्वीकार करेंगे।",
    "av_saved": "✅ सहेज लिया। अगले {days} दिनों में खाली स्लॉट: {free}।",
    "av_booked_stay": (
        "{count} बुक हो चुकी अपॉइंटमेंट आपके नए घंटों से बाहर हैं। वे बुक ही रहेंगी; अगर आप उन्हें "
        "नहीं निभा सकते तो “मेरी अपॉइंटमेंट” से रद्द करें।"
    ),
    # --- availability: changing things ---
    "av_ask_hours": (
        "दिन और घंटे लिखें, हर एक अलग पंक्ति में या “;” से अलग करके। उदाहरण:\n"
        "Mon-Fri 09:00-13:00, 14:00-17:00\n"
        "Sat 10:00-12:00\n"
        "Sun off\n"
        "9am या 9:30 pm जैसे समय भी चलेंगे। जिन दिनों का ज़िक्र नहीं होगा, उनके घंटे वैसे ही रहेंगे।"
    ),
    "av_ask_slot_length": "हर अपॉइंटमेंट स्लॉट कितने मिनट का हो?",
    "av_minutes": "{minutes} मिनट",
    "av_ask_break": "अपना रोज़ का ब्रेक लिखें, जैसे 13:00-14:00 (या दो: 11:00-11:15, 13:00-14:00)।",
    "av_btn_no_break": "कोई ब्रेक नहीं",
    "av_dates": "आगे की छुट्टियाँ और अलग घंटे:\n{dates}",
    "av_btn_add_day_off": "➕ छुट्टी जोड़ें",
    "av_btn_add_one_off": "➕ किसी दिन के अलग घंटे",
    "av_btn_clear_day": "✖ {day}: सामान्य घंटे",
    "av_day_cleared": "{day} को फिर से आपके सामान्य घंटे हैं।",
    "av_day_already_clear": "{day} को पहले से ही आपके सामान्य घंटे थे।",
    "av_ask_day_off": "किस तारीख़ को छुट्टी चाहिए? जैसे 25-12-2026, 25 Dec या tomorrow।",
    "av_day_off_added": "🌴 {day} को छुट्टी है।",
    "av_ask_one_off": "तारीख़ और उस दिन के घंटे लिखें, जैसे 24-12-2026 10:00-12:00, 15:00-17:00 (या तारीख़ और “off”)।",
    "av_one_off_added": "{day}: सामान्य घंटों की जगह {hours}।",
    # --- availability: what was wrong ---
    "av_time_invalid": "वहाँ समय समझ नहीं आया। 09:00 या 17:30 जैसे 24-घंटे वाले समय, या 9am / 5:30 pm लिखें।",
    "av_hours_invalid": "यह समझ नहीं आया। दिन और घंटे ऐसे लिखें: “Mon-Fri 09:00-13:00, 14:00-17:00” या “Sun off”।",
    "av_hours_missing": "दिन के बाद घंटे भी लिखें, जैसे “Sat 10:00-12:00”, या “off”।",
    "av_days_missing": "शुरुआत दिन से करें, जैसे “Mon-Fri 09:00-17:00”।",
    "av_end_before_start": "ख़त्म होने का समय शुरू होने के बाद का होना चाहिए (जैसे 09:00-13:00)। फिर से कोशिश करें।",
    "av_overlap": "इनमें से दो समय आपस में टकराते हैं। अलग-अलग समय दें, जैसे 09:00-13:00, 14:00-17:00।",
    "av_bad_slot_length": "कृपया 10, 15, 20, 30, 45 या 60 मिनट चुनें।",
    "av_date_invalid": "वह तारीख़ समझ नहीं आई। ऐसे लिखें: 25-12-2026 या 25 Dec।",
    "av_date_past": "वह तारीख़ बीत चुकी है। आज या आगे की कोई तारीख़ दें।",
    "av_date_too_far": "वह तारीख़ एक साल से ज़्यादा आगे की है। कृपया जाँच लें।",
    "av_no_hours": "उस दिन के घंटे भी दें, जैसे 10:00-12:00।",
    # --- find a doctor ---
    "fd_ask_specialty": (
        "🔎 आपको किस तरह का डॉक्टर चाहिए? नीचे से चुनें, या अपने शब्दों में लिखें (जैसे “त्वचा”, “बच्चे”, “दिल”)।"
    ),
    "fd_btn_any_specialty": "कोई भी विशेषज्ञता",
    "fd_specialty_unknown": "“{text}” किसी विशेषज्ञता से मेल नहीं खाया। कोई दूसरा शब्द लिखें या नीचे से चुनें।",
    "fd_filters": "{specialty} · भाषा: {language} · फ़ीस: {fee} · {order}",
    "fd_any_specialty": "सभी विशेषज्ञताएँ",
    "fd_any_language": "कोई भी भाषा",
    "fd_any_fee": "कोई भी फ़ीस",
    "fd_fee_up_to": "{high} तक",
    "fd_fee_from": "{low} या ज़्यादा",
    "fd_fee_between": "{low}–{high}",
    "fd_order_earliest": "सबसे जल्दी उपलब्ध पहले",
    "fd_order_fee": "सबसे कम फ़ीस पहले",
    "fd_card": (
        "{number}. डॉ. {name} — {qualification}\n"
        "{specialties}\n"
        "{council}, पंजीकरण संख्या {registration}\n"
        "भाषाएँ: {languages} · फ़ीस: {fee}\n"
        "अगला खाली समय: {next_free}"
    ),
    "fd_no_free_slots": "आने वाले दिनों में कोई खाली समय नहीं",
    "fd_pick_doctor": "विवरण देखने और बुक करने के लिए डॉक्टर चुनें।",
    "fd_btn_doctor": "डॉ. {name}",
    "fd_btn_more": "➡️ और डॉक्टर",
    "fd_btn_language": "🗣 भाषा",
    "fd_btn_fee": "💰 फ़ीस की सीमा",
    "fd_btn_order_fee": "क्रम: सबसे कम फ़ीस",
    "fd_btn_order_earliest": "क्रम: सबसे जल्दी उपलब्ध",
    "fd_btn_new_search": "🔎 नई खोज",
    "fd_nothing_found": "इस खोज से अभी कोई सत्यापित डॉक्टर नहीं मिला। दूसरी भाषा, फ़ीस या विशेषज्ञता आज़माएँ।",
    "fd_no_more": "इस खोज के सभी डॉक्टर दिखा दिए गए। नई खोज करें या फ़िल्टर बदलें।",
    "fd_ask_language": "डॉक्टर कौन-सी भाषा बोलें? चुनें या लिखें।",
    "fd_language_unknown": "अभी कोई डॉक्टर “{text}” नहीं बोलता। नीचे दी गई भाषाओं में से चुनें।",
    "fd_ask_fee": "कौन-सी फ़ीस आपके लिए ठीक है? चुनें, या 300-800 जैसी राशि लिखें।",
    "fd_fee_invalid": "800 जैसी राशि या 300-800 जैसी सीमा लिखें, या कोई विकल्प चुनें।",
    "fd_doctor_details": (
        "डॉ. {name}\n"
        "{qualification}\n"
        "{specialties}\n"
        "पंजीकरण परिषद: {council}\n"
        "पंजीकरण संख्या: {registration}\n"
        "भाषाएँ: {languages}\n"
        "परामर्श फ़ीस: {fee}\n\n"
        "{bio}\n\n"
        "अगले खाली समय ({timezone}): {next_free}"
    ),
    "fd_doctor_gone": "यह डॉक्टर अब बुकिंग के लिए उपलब्ध नहीं हैं।",
    "fd_btn_book": "📅 बुक करें",
    "fd_btn_back_to_results": "↩️ सूची पर वापस",
}
