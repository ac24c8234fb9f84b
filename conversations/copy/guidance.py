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
}
