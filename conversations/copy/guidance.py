"""The words that help a patient along: days typed in words, specialties found from lay words,
the terms, and honest answers about what is not built yet. Per language."""

from __future__ import annotations

EN: dict[str, str] = {
    # booking: a day typed in words
    "booking_day_unknown": "I couldn't tell which day that is. Tap a day, or type “today” or “tomorrow”.",
    "booking_day_not_free": "There is no free time on {day}. The nearest days with free times: {nearest}.",
    "booking_day_not_free_none": "There is no free time on {day}.",
    # find a doctor: what the words asked for
    "fd_no_doctor_for": "We have no {specialty} doctor on telecare yet. Please pick one of the specialties below.",
    "fd_no_doctor_for_try_general": "We have no {specialty} doctor on telecare yet. A {general} can look at the "
    "problem first and tell you where to go next: tap {general} below, or pick another specialty.",
    "fd_specialty_nearest": "I couldn't match “{text}” to a specialty. The closest: {nearest} (first below). "
    "Pick one, or try another word.",
    # my appointments: a status short enough for a list label beside the doctor's name
    "appt_list_status_requested": "awaiting doctor",
    # signup: the terms, and saying no to them
    "consent_terms_link": "The full terms, to read or keep: {url}",
    "consent_declined": "Without your agreement we can't create an account: nothing about you is stored, and "
    "you can't book a doctor here. The full terms: {url}\nYou can read them again, agree after all, or leave.",
    "btn_read_terms": "📄 Read the terms",
    "btn_agree_after_all": "I agree after all",
    "btn_leave_signup": "Leave",
    "consent_left": "Okay. No account was created and no personal details were stored. You can sign up "
    "whenever you like, or simply close this chat.",
    "terms_page_title": "telecare terms (version {version})",
    "terms_page_patients": "For patients",
    "terms_page_providers": "For doctors, pharmacies and labs",
    "terms_page_declining_title": "If you do not agree",
    "terms_page_declining": "You can say no in the chat. Then no account is created and no personal details are "
    "stored; you can agree later, or leave.",
    # requests for what is not built yet (conversations/unbuilt.py)
    "unbuilt_prescription": "Prescriptions are not in telecare yet: they come with consultations in this chat, "
    "which are being built. Today you can find a verified doctor and book an appointment (🔎 Find a doctor in "
    "the main menu).",
    "unbuilt_medicines": "Ordering medicines is coming soon; it is not in telecare yet. Today you can find a "
    "verified doctor and book an appointment (🔎 Find a doctor in the main menu).",
    "unbuilt_lab_tests": "Booking lab tests is coming soon; it is not in telecare yet. Today you can find a "
    "verified doctor and book an appointment (🔎 Find a doctor in the main menu).",
    "unbuilt_video": "Video calls with a doctor are coming soon; they are not in telecare yet. Today you can find "
    "a verified doctor and book an appointment (🔎 Find a doctor in the main menu).",
}
HI: dict[str, str] = {
    "booking_day_unknown": "मैं समझ नहीं पाया कि कौन-सा दिन है। कोई दिन चुनें, या “आज” या “कल” लिखें।",
    "booking_day_not_free": "{day} को कोई खाली समय नहीं है। खाली समय वाले सबसे नज़दीकी दिन: {nearest}।",
    "booking_day_not_free_none": "{day} को कोई खाली समय नहीं है।",
    "fd_no_doctor_for": "telecare पर अभी कोई {specialty} डॉक्टर नहीं है। कृपया नीचे से कोई विशेषज्ञता चुनें।",
    "fd_no_doctor_for_try_general": "telecare पर अभी कोई {specialty} डॉक्टर नहीं है। {general} पहले तकलीफ़ देखकर "
    "बता सकते हैं कि आगे कहाँ जाना है: नीचे {general} चुनें, या कोई और विशेषज्ञता।",
    "fd_specialty_nearest": "“{text}” किसी विशेषज्ञता से मेल नहीं खाया। सबसे नज़दीकी: {nearest} (नीचे सबसे पहले)। "
    "इनमें से चुनें, या कोई दूसरा शब्द लिखें।",
    "appt_list_status_requested": "डॉक्टर का इंतज़ार",
    "consent_terms_link": "पूरी शर्तें, पढ़ने या रखने के लिए: {url}",
    "consent_declined": "आपकी सहमति के बिना हम खाता नहीं बना सकते: आपके बारे में कुछ भी संग्रहीत नहीं होता, और आप "
    "यहाँ डॉक्टर बुक नहीं कर सकते। पूरी शर्तें: {url}\nआप उन्हें फिर से पढ़ सकते हैं, सहमति दे सकते हैं, या बाहर जा "
    "सकते हैं।",
    "btn_read_terms": "📄 शर्तें पढ़ें",
    "btn_agree_after_all": "अब मैं सहमत हूँ",
    "btn_leave_signup": "बाहर जाएँ",
    "consent_left": "ठीक है। कोई खाता नहीं बना और कोई निजी जानकारी संग्रहीत नहीं हुई। आप जब चाहें साइन अप कर सकते "
    "हैं, या बस यह चैट बंद कर दें।",
    "terms_page_title": "telecare की शर्तें (संस्करण {version})",
    "terms_page_patients": "मरीज़ों के लिए",
    "terms_page_providers": "डॉक्टरों, फ़ार्मेसियों और लैब के लिए",
    "terms_page_declining_title": "अगर आप सहमत नहीं हैं",
    "terms_page_declining": "आप चैट में मना कर सकते हैं। तब कोई खाता नहीं बनता और कोई निजी जानकारी संग्रहीत नहीं "
    "होती; आप बाद में सहमति दे सकते हैं, या बाहर जा सकते हैं।",
    "unbuilt_prescription": "प्रिस्क्रिप्शन अभी telecare में नहीं है: यह इस चैट में परामर्श के साथ आएगा, जो अभी बन "
    "रहा है। आज आप कोई सत्यापित डॉक्टर ढूँढकर अपॉइंटमेंट बुक कर सकते हैं (मुख्य मेनू में 🔎 डॉक्टर खोजें)।",
    "unbuilt_medicines": "दवाइयाँ मँगवाना जल्द आ रहा है; यह अभी telecare में नहीं है। आज आप कोई सत्यापित डॉक्टर "
    "ढूँढकर अपॉइंटमेंट बुक कर सकते हैं (मुख्य मेनू में 🔎 डॉक्टर खोजें)।",
    "unbuilt_lab_tests": "लैब टेस्ट बुक करना जल्द आ रहा है; यह अभी telecare में नहीं है। आज आप कोई सत्यापित डॉक्टर "
    "ढूँढकर अपॉइंटमेंट बुक कर सकते हैं (मुख्य मेनू में 🔎 डॉक्टर खोजें)।",
    "unbuilt_video": "डॉक्टर से वीडियो कॉल जल्द आ रही है; यह अभी telecare में नहीं है। आज आप कोई सत्यापित डॉक्टर "
    "ढूँढकर अपॉइंटमेंट बुक कर सकते हैं (मुख्य मेनू में 🔎 डॉक्टर खोजें)।",
}
