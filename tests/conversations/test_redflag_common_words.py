"""No common word is a red flag by accident. The sound key that lets "सांस", "saans" and "sans"
meet can also make two unrelated words meet ("पीठ" back and "पीट" beat, "कैद" and "qaeda"); this
runs the 20,000 commonest English and Hindi words (wordfreq) through the matcher one by one. Only
the words below may raise a red flag alone, and each of them names one."""

from __future__ import annotations

from wordfreq import top_n_list

from conversations.emergency import detect_red_flag

RED_FLAG_WORDS = frozenset(
    {
        "abuse",
        "abused",
        "abusing",
        "abusive",
        "accident",
        "assault",
        "assaulted",
        "attacking",
        "axe",
        "beaten",
        "bullet",
        "choked",
        "choking",
        "collapse",
        "collapsed",
        "collapsing",
        "confuse",
        "confused",
        "confusion",
        "crashed",
        "drowned",
        "drowning",
        "fits",
        "fitting",
        "gasp",
        "gunshot",
        "kidnap",
        "kidnapped",
        "knife",
        "overdose",
        "paralysis",
        "paralyzed",
        "pistol",
        "poisoned",
        "poisoning",
        "rape",
        "raped",
        "raping",
        "seizing",
        "seizure",
        "seizures",
        "stab",
        "stabbed",
        "stalker",
        "stalking",
        "stroke",
        "suicidal",
        "suicide",
        "threaten",
        "threatened",
        "threatening",
        "threatens",
        "unconscious",
        "venom",
        "violence",
        "trafficking",
        "छेड़खानी",
        "अगवा",
        "आत्महत्या",
        "एक्सीडेंट",
        "कुचल",
        "कुचला",
        "कुल्हाड़ी",
        "खुदकुशी",
        "चाकू",
        "जबरदस्ती",
        "ज़बरदस्ती",
        "झटके",
        "टकरा",
        "टक्कर",
        "तलवार",
        "तेजाब",
        "तोड़फोड़",
        "दहेज",
        "दहेज़",
        "धमकी",
        "पिस्तौल",
        "पीटते",
        "फंदे",
        "बंदूक",
        "बन्दूक",
        "बलात्कार",
        "बुलेट",
        "बेहोश",
        "बेहोशी",
        "मारपीट",
        "लकवा",
        "स्ट्रोक",
        "हादसा",
    }
)


def test_only_red_flag_words_raise_a_red_flag_on_their_own() -> None:
    raised = {
        word for language in ("en", "hi") for word in top_n_list(language, 20_000) if detect_red_flag(word)
    }
    assert raised - RED_FLAG_WORDS == set(), "common words that raise a red flag by a sound-key collision"
    assert RED_FLAG_WORDS - raised == set(), "red-flag words that no longer raise one"
