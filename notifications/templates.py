"""The words of platform-started messages, per language, and how they are filled in.

A template is text with `{name}` fields. Fields whose names end in `_at` hold ISO times and are
shown in the recipient's timezone and language ("27 Nov 2026, 10:30"); fields ending in `_ats` hold
a list of them, shown one per line ("\n• 1 Dec 2026, 10:00 am\n• …"); fields ending in
`_money` hold "<minor units> <currency>" ("50000 INR") and are shown as money ("₹500"); fields ending in
`_list` hold a list of items, or {"items": […], "more": n} when it was cut, shown on one line ("penicillin;
peanuts +2 more", "none recorded" when empty, "—" when None); fields ending in `_word` hold a key of
this catalogue ("sex_female"), shown in the recipient's language ("" for nothing: the backend, which
does not know the language, names the words); a doctor's parts ({"name", "qualification",
"registration", "council"}) are shown as the `doctor_label` template; a `specialty` field holds its
English name (the key) and is shown in the recipient's language; fields ending in `_flags` hold a
patient's emergency red flags ([{"category", "at", "history"}], newest first), shown on a line of
their own in the recipient's language and timezone ("⚠️ Red flags this patient raised in chat:
cardiac 7 Dec; history: stroke 2 Dec"; "" for none). `VARIABLES` lists, per
template, the fields in the order of the approved WhatsApp template's {{1}}, {{2}}, … — what is
sent outside the 24-hour window, where free text is not allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.lists import format_list
from babel.numbers import format_currency

from backend.records.summary import CutList, one_line
from backend.safety.shown import ShownFlag, flags_line
from backend.scheduling.names import specialty_name
from backend.timefmt import babel_locale, local_time
from notifications import template_sets

EN = {
    "welcome": "Welcome to telecare, {name}! You can find a doctor, keep your medical profile and get "
    "reminders right here. Write 'menu' any time.",
    "profile_nudge": "{name}, doctors give better advice when they know your allergies, medicines and "
    "past illnesses. It takes two minutes to add them to your profile.",
    "dead_letter": "⚠️ A '{template}' message could not be delivered after {attempts} attempts ({error}).",
    "reminder": "⏰ Reminder: {what} at {when_at}.",
    "btn_retry": "Retry",
    "btn_discard": "Discard",
    "btn_complete_profile": "Complete my profile",
    "reply_with_code": "Reply {options}.",
}
HI = {
    "welcome": "telecare में आपका स्वागत है, {name}! आप यहीं डॉक्टर ढूँढ सकते हैं, अपनी मेडिकल प्रोफ़ाइल "
    "रख सकते हैं और रिमाइंडर पा सकते हैं। कभी भी 'menu' लिखें।",
    "profile_nudge": "{name}, जब डॉक्टर आपकी एलर्जी, दवाएँ और पुरानी बीमारियाँ जानते हैं तो बेहतर सलाह देते "
    "हैं। इन्हें प्रोफ़ाइल में जोड़ने में दो मिनट लगते हैं।",
    "dead_letter": "⚠️ '{template}' संदेश {attempts} कोशिशों के बाद भी नहीं पहुँचा ({error})।",
    "reminder": "⏰ रिमाइंडर: {what}, {when_at}।",
    "btn_retry": "फिर भेजें",
    "btn_discard": "हटाएँ",
    "btn_complete_profile": "प्रोफ़ाइल पूरी करें",
    "reply_with_code": "जवाब दें: {options}।",
}
VARIABLES: dict[str, tuple[str, ...]] = {
    "welcome": ("name",),
    "profile_nudge": ("name",),
    "reminder": ("what", "when_at"),
    "dead_letter": ("template", "attempts", "error"),
}
# Each area keeps its templates in its own module (EN, HI, VARIABLES), merged here.
for _area in (
    template_sets.providers,
    template_sets.booking,
    template_sets.payments,
    template_sets.security,
):
    EN |= _area.EN
    HI |= _area.HI
    VARIABLES |= _area.VARIABLES
CATALOGUES = {"en": EN, "hi": HI}


class _Fields(dict):
    """Missing fields show as empty rather than failing the whole message."""

    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    variables: dict[str, str]  # {"1": …, "2": …} for an approved WhatsApp template


def word(locale: str, key: str) -> str:
    catalogue = CATALOGUES.get(locale, EN)
    return catalogue.get(key) or EN.get(key) or key


def render(template: str, params: dict, locale: str, timezone: str) -> Rendered:
    fields = _Fields({name: _show(name, value, locale, timezone) for name, value in params.items()})
    text = word(locale, template).format_map(fields)
    variables = {str(i): fields[name] for i, name in enumerate(VARIABLES.get(template, ()), start=1)}
    return Rendered(text=text, variables=variables)


def typed_hint(locale: str, actions: list[tuple[str, str]]) -> str:
    """How to press a message's buttons by typing: 'Reply "Retry 417" or "Discard 417".'"""
    if not actions:
        return ""
    options = [f"“{label} {code}”" for label, code in actions]
    joined = format_list(options, style="or", locale=babel_locale(locale))
    return word(locale, "reply_with_code").format(options=joined)


def money(value: str, locale: str) -> str:
    """ "50000 INR" → "₹500"; "1250 INR" → "₹12.50"."""
    minor_text, currency = value.split()
    minor = int(minor_text)
    whole = minor % 100 == 0
    return format_currency(
        minor // 100 if whole else minor / 100,
        currency,
        format="¤#,##,##0" if whole else None,
        locale=babel_locale(locale),
        currency_digits=not whole,
    )


def _show(name: str, value: object, locale: str, timezone: str) -> str:
    try:
        if name.endswith("_at") and isinstance(value, str | datetime):
            return local_time(value, locale, timezone)
        if name.endswith("_ats") and isinstance(value, list):
            shown = [local_time(item, locale, timezone) for item in value]
            return "".join(f"\n• {item}" for item in shown) if shown else "—"
        if name.endswith("_money") and isinstance(value, str):
            return money(value, locale)
        if name.endswith("_list") and isinstance(value, list | dict | None):
            return _one_line_list(value, locale)
        if name.endswith("_flags") and isinstance(value, list):
            return _flags(value, locale, timezone)
        if name.endswith("_word") and isinstance(value, str):
            return word(locale, value) if value else ""
        if name == "specialty" and isinstance(value, str):  # stored by its English name, the key
            return specialty_name(value, locale)
        if isinstance(value, dict) and "registration" in value:  # notices.doctor_label's parts
            return word(locale, "doctor_label").format_map(_Fields(value))
    except ValueError:
        pass
    return str(value)


def _one_line_list(value: list | dict | None, locale: str) -> str:
    """A `_list` field: "—" for None (not read), else one line in the recipient's words."""
    if value is None:
        return "—"
    return one_line(CutList.from_param(value), lambda key, **fields: word(locale, key).format(**fields))


def _flags(value: list, locale: str, timezone: str) -> str:
    """A `_flags` field: its own line (a line break first), or "" when there are none."""
    shown = [ShownFlag.from_param(item) for item in value]
    line = flags_line(shown, lambda key, **fields: word(locale, key).format(**fields), locale, timezone)
    return f"\n{line}" if line else ""
