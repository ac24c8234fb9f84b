"""The words that help a patient along: days typed in words, specialties found from lay words,
the terms, and honest answers about what is not built yet. Per language."""

from __future__ import annotations

EN: dict[str, str] = {
    # booking: a day typed in words
    "booking_day_unknown": "I couldn't tell which day that is. Tap a day, or type “today” or “tomorrow”.",
    "booking_day_not_free": "There is no free time on {day}. The nearest days with free times: {nearest}.",
    "booking_day_not_free_none": "There is no free time on {day}.",
}
HI: dict[str, str] = {
    "booking_day_unknown": "मैं समझ नहीं पाया कि कौन-सा दिन है। कोई दिन चुनें, या “आज” या “कल” लिखें।",
    "booking_day_not_free": "{day} को कोई खाली समय नहीं है। खाली समय वाले सबसे नज़दीकी दिन: {nearest}।",
    "booking_day_not_free_none": "{day} को कोई खाली समय नहीं है।",
}
