"""Deterministic red-flag detector for inbound chat text (REQ-6.1 / REQ-6.6).

Every inbound text passes through `detect_emergency` before anything else, so the matcher is plain
Python over a fixed phrase list: no network, no model, and a 10,000-character message costs a few
milliseconds.

How a message is matched:

1. The text is normalised (NFC, casefold, punctuation and emoji stripped, whitespace collapsed;
   Devanagari kept) and split into words.
2. Every word is put into a canonical spelling: common Hinglish variants ("dardh" -> "dard",
   "sans" -> "saans", "nhi" -> "nahi"), gender forms ("rahi" -> "raha") and contractions
   ("isn't" -> "not") fold together, and filler words ("my", "is", "hai", "bahut") are dropped, so
   one seed phrase covers many ways of typing it. Seed phrases go through the very same steps.
3. Each seed phrase is compared with the word window of the same length at every place where one
   of its distinctive words ("anchors") occurs, exactly or within a typo. The window matches
   when its optimal-string-alignment distance to the phrase (rapidfuzz) is within a budget that
   grows with the phrase's length (no edit under 5 characters, up to 3 for long phrases), each
   word stays within its own budget (words of up to three letters exact, one edit otherwise), and
   changed words keep their first letter: "chest pian" and "hart attack" match, while "want to do"
   is not "want to die", nor "chest print" or "chest gain" "chest pain".
4. A few red flags are two ideas that rarely sit next to each other ("pregnant" ... "bleeding");
   those match when both appear within a few words.

Design choices, deliberately on the side of over-triage (a false alarm costs a banner, a miss can
cost a life):

* Negation does NOT suppress a hit: "no chest pain" still matches. Negation detection in short,
  typo-ridden, code-mixed chat is unreliable, and "not sure if it's chest pain" must not be missed.
* "burning sensation while urinating" is not a red flag: it is a routine urinary-infection symptom.
  Burns are only matched as injuries ("severe burns", "badly burned", "aag se jal gaya").
* Overlapping examples follow the category order: "child convulsions" reports neuro and
  "infant not breathing" breathing, because those categories come first in CATEGORIES.
* "food poisoning" does match (via "poisoning"); the clinical list names poisoning and we would
  rather show the emergency guidance once too often.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

CATEGORIES = (
    "cardiac",
    "breathing",
    "stroke",
    "neuro",
    "bleeding_trauma",
    "anaphylaxis",
    "poisoning",
    "obstetric",
    "paediatric",
    "mental_health",
    "violence_abuse",
)


@dataclass(frozen=True, slots=True)
class EmergencyHit:
    category: str  # one of CATEGORIES
    phrase: str  # the seed phrase that matched, as written in the list below
    history: bool = False

    @property
    def mental_health(self) -> bool:
        """Mental-health crises get different guidance (a helpline, not only an ambulance)."""
        return self.category == "mental_health"


# --------------------------------------------------------------------------------------------
# Seed phrases. Write them the way a person types; the normaliser folds spelling variants and
# filler words, so "pain in my chest" and "pain in chest" are the same seed.
# --------------------------------------------------------------------------------------------

_SEEDS: dict[str, tuple[str, ...]] = {
    "cardiac": (
        "chest pain",
        "chest pains",
        "pain in chest",
        "chest hurts",
        "chest is hurting",
        "chest pressure",
        "pressure in chest",
        "chest tightness",
        "tightness in chest",
        "tight chest",
        "chest feels tight",
        "chest heaviness",
        "heaviness in chest",
        "heavy chest",
        "chest discomfort",
        "crushing chest",
        "squeezing chest",
        "pain radiating to left arm",
        "pain spreading to left arm",
        "pain going to left arm",
        "pain radiating to jaw",
        "pain spreading to jaw",
        "pain in left arm and jaw",
        "left arm and jaw pain",
        "heart attack",
        "cardiac arrest",
        "heart stopped",
        "seene mein dard",
        "seene mein dabav",
        "seene mein bhaaripan",
        "seene mein jakdan",
        "chhati mein dard",
        "chhati mein dabav",
        "chhati mein bhaaripan",
        "dil mein dard",
        "dil ka daura",
        "heart attack aaya",
        "सीने में दर्द",
        "सीने में दबाव",
        "सीने में भारीपन",
        "छाती में दर्द",
        "छाती में दबाव",
        "दिल में दर्द",
        "दिल का दौरा",
        "हार्ट अटैक",
    ),
    "breathing": (
        "cant breathe",
        "struggling to breathe",
        "hard to breathe",
        "difficulty breathing",
        "difficulty in breathing",
        "trouble breathing",
        "breathing difficulty",
        "not breathing",
        "stopped breathing",
        "severe breathlessness",
        "severely breathless",
        "extremely breathless",
        "breathless at rest",
        "short of breath",
        "shortness of breath",
        "out of breath",
        "gasping for air",
        "gasping for breath",
        "gasping",
        "choking",
        "blue lips",
        "lips turning blue",
        "lips are blue",
        "turning blue",
        "asthma attack",
        "suffocating",
        "saans nahi",
        "saans nahi aa raha",
        "saans lene mein takleef",
        "saans lene mein dikkat",
        "saans lene mein pareshani",
        "saans phool raha",
        "saans ruk raha",
        "saans atak raha",
        "dam ghut raha",
        "ghutan ho raha",
        "होंठ नीले",
        "सांस नहीं",
        "सांस नहीं आ रहा",
        "सांस लेने में तकलीफ",
        "सांस लेने में दिक्कत",
        "सांस फूल रहा",
        "दम घुट रहा",
    ),
    "stroke": (
        "stroke",
        "face drooping",
        "face droop",
        "drooping face",
        "face is drooping",
        "droopy face",
        "face drooping on one side",
        "one side of face drooping",
        "one side of face numb",
        "one sided weakness",
        "weakness on one side",
        "weakness in one side",
        "one side weakness",
        "one side of body weak",
        "numbness on one side",
        "one side numb",
        "one side paralysed",
        "arm weakness",
        "sudden arm weakness",
        "arm suddenly weak",
        "cant lift arm",
        "cant raise arm",
        "slurred speech",
        "slurring speech",
        "speech slurred",
        "slurring words",
        "words slurred",
        "sudden confusion",
        "suddenly confused",
        "sudden vision loss",
        "suddenly lost vision",
        "lost vision in one eye",
        "sudden blindness",
        "paralysis",
        "paralysed",
        "muh tedha",
        "chehra tedha",
        "laqwa",
        "laqwa maar gaya",
        "ek taraf kamzori",
        "ek side kamzori",
        "haath pair sunn",
        "zubaan ladkhada",
        "zuban ladkhada",
        "bolne mein dikkat",
        "लकवा",
        "मुंह टेढ़ा",
        "चेहरा टेढ़ा",
        "जुबान लड़खड़ा",
        "एक तरफ कमजोरी",
    ),
    "neuro": (
        "unconscious",
        "unresponsive",
        "not responding to voice",
        "not responding to touch",
        "not waking up",
        "wont wake up",
        "cant wake him",
        "cant wake them",
        "fainted and not waking",
        "passed out and not waking",
        "collapsed",
        "seizure",
        "seizures",
        "having a seizure",
        "having fits",
        "getting fits",
        "had fits",
        "fits aa raha",
        "fit aa raha",
        "convulsions",
        "convulsing",
        "convulsion",
        "worst headache of my life",
        "worst headache ever",
        "worst headache",
        "thunderclap headache",
        "sudden severe headache",
        "head injury with vomiting",
        "head injury and vomiting",
        "hit head and vomiting",
        "head injury vomiting",
        "behosh",
        "behosh ho gaya",
        "hosh nahi",
        "daura pad raha",
        "daura aaya",
        "daura aa raha",
        "mirgi",
        "mirgi ka daura",
        "jhatke aa raha",
        "बेहोश",
        "होश नहीं",
        "दौरा पड रहा",
        "दौरे आ रहा",
        "मिर्गी",
        "झटके आ रहा",
    ),
    "bleeding_trauma": (
        "heavy bleeding",
        "bleeding heavily",
        "bleeding a lot",
        "bleeding wont stop",
        "bleeding not stopping",
        "cant stop bleeding",
        "bleeding will not stop",
        "losing lot of blood",
        "lost lot of blood",
        "vomiting blood",
        "throwing up blood",
        "blood in vomit",
        "coughing blood",
        "coughing up blood",
        "spitting blood",
        "major accident",
        "serious accident",
        "road accident",
        "car accident",
        "bike accident",
        "hit by car",
        "hit by bike",
        "fell from height",
        "stab wound",
        "stabbed",
        "gunshot",
        "severe burns",
        "badly burned",
        "badly burnt",
        "burn injury",
        "caught fire",
        "poisoning",
        "poisoned",
        "swallowed poison",
        "drank poison",
        "took poison",
        "swallowed bleach",
        "drank pesticide",
        "overdose",
        "overdosed",
        "took too many pills",
        "snake bite",
        "snakebite",
        "bitten by snake",
        "electric shock",
        "drowning",
        "khoon nahi ruk raha",
        "khoon band nahi ho raha",
        "khoon beh raha",
        "khoon ki ulti",
        "ulti mein khoon",
        "zeher kha liya",
        "zeher pi liya",
        "zeher khaya",
        "saanp ne kaata",
        "saanp ne kaat liya",
        "accident ho gaya",
        "buri tarah jal gaya",
        "aag se jal gaya",
        "aag mein jal gaya",
        "खून नहीं रुक रहा",
        "खून बह रहा",
        "खून की उल्टी",
        "जहर खा लिया",
        "जहर पी लिया",
        "सांप ने काटा",
        "सांप ने काट लिया",
        "एक्सीडेंट हो गया",
    ),
    "anaphylaxis": (
        "anaphylaxis",
        "anaphylactic",
        "anaphylactic shock",
        "severe allergic reaction",
        "serious allergic reaction",
        "bad allergic reaction",
        "face swelling",
        "swelling of face",
        "swollen face",
        "face is swollen",
        "lips swelling",
        "swelling of lips",
        "swollen lips",
        "lips swollen",
        "tongue swelling",
        "swelling of tongue",
        "swollen tongue",
        "tongue swollen",
        "throat swelling",
        "swelling in throat",
        "swollen throat",
        "throat closing",
        "throat is closing",
        "throat closing up",
        "throat tightening",
        "used epipen",
        "needed epipen",
        "chehra sooj gaya",
        "honth sooj gaya",
        "hoth sooj gaya",
        "jeebh sooj gaya",
        "gala sooj gaya",
        "gala band ho raha",
        "चेहरा सूज गया",
        "होंठ सूज गया",
        "जीभ सूज गया",
        "गला बंद हो रहा",
    ),
    "obstetric": (
        "bleeding in pregnancy",
        "bleeding during pregnancy",
        "pregnancy bleeding",
        "pregnant and bleeding",
        "pregnant bleeding",
        "baby not moving",
        "baby stopped moving",
        "baby moving less",
        "no fetal movement",
        "reduced fetal movements",
        "reduced fetal movement",
        "less fetal movement",
        "fetal movements reduced",
        "fits in pregnancy",
        "seizure in pregnancy",
        "eclampsia",
        "water broke",
        "waters broke",
        "pregnancy mein khoon",
        "pregnancy mein bleeding",
        "garbhavastha mein khoon",
        "pet mein bachcha hil nahi raha",
        "bachcha hil nahi raha",
        "bachcha pet mein nahi hil raha",
        "गर्भावस्था में खून",
        "बच्चा हिल नहीं रहा",
        "पेट में बच्चा नहीं हिल रहा",
    ),
    "paediatric": (
        "baby not feeding",
        "baby wont feed",
        "baby not drinking milk",
        "baby refusing feeds",
        "infant not feeding",
        "newborn not feeding",
        "baby limp",
        "limp baby",
        "floppy baby",
        "baby floppy",
        "baby lethargic",
        "lethargic baby",
        "child lethargic",
        "baby very sleepy",
        "baby not waking",
        "infant not breathing",
        "child convulsions",
        "baby convulsions",
        "child fits",
        "severe dehydration in child",
        "child severely dehydrated",
        "baby severely dehydrated",
        "severe dehydration",
        "no wet nappies",
        "no wet diapers",
        "sunken fontanelle",
        "sunken soft spot",
        "newborn fever",
        "fever in newborn",
        "bachcha doodh nahi pi raha",
        "bachcha sust pad gaya",
        "bachcha dheela pad gaya",
        "bachcha doodh nahi le raha",
        "बच्चा दूध नहीं पी रहा",
        "बच्चा सुस्त",
        "शिशु दूध नहीं पी रहा",
    ),
    "mental_health": (
        "suicide",
        "suicidal",
        "want to die",
        "wanna die",
        "wish i was dead",
        "wish i were dead",
        "kill myself",
        "killing myself",
        "end my life",
        "end it all",
        "take my own life",
        "better off without me",
        "better off dead",
        "no reason to live",
        "self harm",
        "harm myself",
        "want to hurt myself",
        "cut myself",
        "cutting myself",
        "marna chahta hoon",
        "mar jana chahta hoon",
        "jeena nahi chahta",
        "zinda nahi rehna",
        "khudkushi",
        "aatmahatya",
        "suicide karna",
        "apni jaan lena",
        "jaan de dunga",
        "khud ko khatam",
        "zindagi khatam karna",
        "आत्महत्या",
        "खुदकुशी",
        "मरना चाहता हूं",
        "जीना नहीं चाहता",
        "अपनी जान ले",
    ),
}


@dataclass(frozen=True, slots=True)
class _Pair:
    """A red flag made of two ideas that may be a few words apart ("pregnant, and now bleeding")."""

    category: str
    phrase: str
    first: frozenset[str]
    second: frozenset[str]
    max_gap: int = 8  # words between the two; wider windows mostly add false alarms


_PREGNANCY_WORDS = frozenset({"pregnant", "pregnancy", "garbhvati", "garbhavati", "गर्भवती", "गर्भावस्था"})
_CHILD_WORDS = frozenset(
    {
        "baby",
        "infant",
        "newborn",
        "toddler",
        "child",
        "kid",
        "son",
        "daughter",
        "bachcha",
        "shishu",
        "बच्चा",
        "शिशु",
    }
)

_PAIRS = (
    _Pair(
        "obstetric",
        "pregnant + bleeding",
        _PREGNANCY_WORDS,
        frozenset({"bleeding", "bleed", "bleeds", "bled", "spotting", "रक्तस्राव"}),
    ),
    _Pair(
        "obstetric",
        "pregnant + fits",
        _PREGNANCY_WORDS,
        frozenset({"fits", "seizure", "seizures", "convulsions", "daura", "jhatke", "दौरा", "झटके"}),
    ),
    _Pair(
        "paediatric",
        "baby + limp",
        _CHILD_WORDS,
        frozenset({"limp", "floppy", "lethargic", "listless", "dehydrated", "sust", "dheela", "सुस्त"}),
        max_gap=5,
    ),
)

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

# Dropped outright: zero-width joiners/spaces and the soft hyphen would split or hide words, and
# the nukta ("ज़" vs "ज") is typed inconsistently. Apostrophes join ("can't" -> "cant").
_DELETE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u093c'’‘`´"), None)
# Chandrabindu and anusvara are used interchangeably in chat ("साँस" / "सांस").
_DELETE[0x0901] = "\u0902"
# A nasal consonant + virama before a stop is written as anusvara just as often ("हिन्दी" / "हिंदी").
_NASAL_CONJUNCT = re.compile("[\u0919\u091e\u0923\u0928\u092e]\u094d(?=[\u0915-\u092d])")
# Everything that is not a word character or Devanagari (minus the danda marks) separates words.
# `\w` alone would drop Devanagari vowel signs, which are combining marks, not letters.
_SEPARATORS = re.compile(r"(?:[^\w\u0900-\u0963\u0966-\u097f]|_)+")
# "paaaain", "helppp": three or more repeats are emphasis, not spelling.
_REPEATS = re.compile(r"(.)\1{2,}")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold().translate(_DELETE)
    text = _NASAL_CONJUNCT.sub("\u0902", text)
    text = _SEPARATORS.sub(" ", text)
    return _REPEATS.sub(r"\1", text).strip()


def _invert(groups: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {variant: canon for canon, variants in groups.items() for variant in variants}


# Spelling variants -> one canonical spelling. Hinglish has no standard orthography, and gender or
# number forms ("chahta/chahti", "rahi/raha") carry no triage meaning.
_VARIANTS = _invert(
    {
        "dard": ("dardh", "dardd", "drd", "darad"),
        "saans": ("sans", "saas", "sas", "swas", "swaas", "shwas", "shwaas", "saanse", "saase", "sanse"),
        "nahi": ("nhi", "nahin", "nai", "nahee", "nahii", "nhin", "nahe"),
        "mein": ("me", "mai", "main", "mei", "mien"),
        "hoon": ("hun", "hu", "hoo", "hoom"),
        "chahta": (
            "chahti",
            "chahte",
            "chahata",
            "chahati",
            "chahtha",
            "chata",
            "chaahta",
            "chaahti",
            "chahu",
        ),
        "raha": ("rahi", "rahe", "rha", "rhi", "rhe"),
        "gaya": ("gayi", "gai", "gaye", "gya", "gyi", "gye", "gayee"),
        "hua": ("hui", "hue"),
        "seene": ("sine", "seena", "sina", "seeney", "sinay", "seeny", "sene", "seenay"),
        "chhati": ("chati", "chaati", "chhaati", "chaatee", "chhatee"),
        "khoon": ("khun",),
        "zeher": ("zehar", "zahar", "jahar", "jeher", "zaher", "zehr", "jehar", "zahr"),
        "saanp": ("sanp", "saap", "saamp", "samp"),
        "kaata": ("kata", "kaati", "kaate", "kati"),
        "behosh": ("behos", "behoosh", "behoshi", "behosi", "beihosh", "behoush"),
        "mirgi": ("mirgee", "mirgy", "mirghi"),
        "laqwa": ("lakwa", "lakva", "laqva", "luqwa", "lakhwa"),
        "tedha": ("teda", "terha", "tedhaa", "tedi", "tedhi", "tedhe"),
        "muh": ("munh", "mooh", "moonh", "mu"),
        "khudkushi": ("khudkhushi", "khudkusi", "khudkhusi", "khudkashi"),
        "aatmahatya": ("atmahatya", "aatmhatya", "atmhatya", "aatmahathya", "atmahathya"),
        "jeena": ("jina", "jeene", "jine", "jeeni"),
        "marna": ("marne", "mrna", "marana"),
        "takleef": ("taklif", "taqleef", "takalif", "takleff", "takalef", "taklef"),
        "dikkat": ("dikat", "diqqat", "dikkt"),
        "lene": ("lne", "leney", "lenay"),
        "pad": ("padh", "pada", "padi", "pade", "par", "para", "pari", "pare", "padta", "padte"),
        "daura": ("dora", "doura", "daure", "dore"),
        "ulti": ("ultee", "ulati", "ultiyan", "ulty"),
        "kamzori": ("kamjori", "kamzoree", "kamjoree", "kamjor", "kamzor"),
        "haath": ("hath", "haat"),
        "bachcha": (
            "baccha",
            "bacha",
            "bachha",
            "bacchha",
            "bachche",
            "bacche",
            "bache",
            "bachchi",
            "bacchi",
        ),
        "doodh": ("dudh", "dood"),
        "sooj": ("suj", "sooja", "sooji", "sujan", "soojan", "soj"),
        "pregnant": ("pregnent", "pragnent", "pregant", "pragnant", "pregnat", "preggers"),
        "pregnancy": ("pregnency", "pragnancy", "pregancy", "pragnency"),
        "cant": ("cannot", "cnt", "couldnt", "cudnt"),
        "not": ("isnt", "doesnt", "dont", "didnt", "wont", "wasnt", "arent", "hasnt", "havent", "aint"),
        "paralysed": ("paralyzed",),
        "सांस": ("श्वास", "स्वास", "सास"),
        "नहीं": ("नही", "नहि"),
        "में": ("मे", "मैं", "मै"),
        "रहा": ("रही", "रहे"),
        "गया": ("गई", "गयी", "गए", "गये"),
        "चाहता": ("चाहती", "चाहते"),
        "हूं": ("हु", "हुं"),
        "सीने": ("सीना", "सिने", "सीन"),
        "छाती": ("छाति",),
        "खून": ("खुन",),
        "बेहोश": ("बेहोशी",),
        "दौरा": ("दौरे",),
    }
)

# Words that carry no triage meaning; dropping them lets "pain in my chest" match "pain in chest"
# and "baby is not feeding" match "baby not feeding".
_FILLERS = frozenset(
    {
        "the", "a", "an", "my", "his", "her", "their", "our", "your", "its", "is", "are", "am", "was",
        "were", "be", "been", "very", "really", "so", "too", "just", "bahut", "bohot", "bahot", "bohut",
        "bhut", "bht", "mera", "meri", "mere", "mujhe", "mujhko", "muje", "hai", "hain", "he", "h", "tha",
        "thi", "है", "हैं", "मेरा", "मेरी", "मेरे", "मुझे", "बहुत", "था", "थी", "थे",
    }
)  # fmt: skip

# Multi-word spellings of one idea, folded after fillers are gone.
_PHRASE_FOLDS: dict[tuple[str, ...], str] = {
    ("can", "not"): "cant",
    ("unable", "to"): "cant",
    ("not", "able", "to"): "cant",
}
_MAX_FOLD = max(map(len, _PHRASE_FOLDS))


def _canonical_tokens(text: str) -> list[str]:
    words = [_VARIANTS.get(word, word) for word in _normalise(text).split()]
    words = [word for word in words if word not in _FILLERS]
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in range(_MAX_FOLD, 1, -1):
            folded = _PHRASE_FOLDS.get(tuple(words[i : i + size]))
            if folded:
                out.append(folded)
                i += size
                break
        else:
            out.append(words[i])
            i += 1
    return out


# --------------------------------------------------------------------------------------------
# Compiled seed index
# --------------------------------------------------------------------------------------------

# Words too common to be worth starting a comparison from; every seed also has a distinctive word.
_WEAK = frozenset(
    {
        "not", "nahi", "and", "or", "with", "in", "on", "of", "to", "at", "from", "for", "by", "i",
        "mein", "ka", "ki", "ke", "ko", "se", "ne", "ho", "hoon", "raha", "gaya", "hua", "kar", "aa",
        "le", "liya", "lene", "pad", "pain", "dard", "have", "having", "had", "up", "out", "one",
        "side", "ek", "में", "की", "का", "के", "ने", "रहा", "गया", "नहीं", "आ", "हो", "दर्द",
    }
)  # fmt: skip

# Real words one typo away from a seed word ("cooking"/"choking", "overdone"/"overdose"): never
# treat them as typos. Found by running every dictionary word through the matcher.
_NEVER_FUZZ = frozenset(
    {
        "cooking", "overdone", "grasping", "chowing", "gaping", "stubbed", "swabbed", "scabbed", "stabled",
        "slabbed", "strike", "strobe", "strode", "strove", "stoke", "stroked", "downing", "droning", "drowsing",
        "gassing", "coking", "can",
    }
)  # fmt: skip


def _word_edits(word: str) -> int:
    """Typos allowed in one word of a phrase: "pian" is "pain", but "to" is never "do".

    One edit up to 13 letters: at two, "consulting" becomes "convulsing" and "print" "pain".
    """
    if len(word) <= 3:
        return 0
    return 1 if len(word) < 14 else 2


def _max_edits(text: str) -> int:
    """Typos allowed over a whole phrase (or lone word): grows with its length."""
    length = len(text)
    if length < 5:
        return 0  # a lone short word ("fits", "hart") has too many real neighbours
    if " " not in text:
        return _word_edits(text)
    if length < 10:
        return 1
    if length < 16:
        return 2
    return 3


@dataclass(frozen=True, slots=True)
class _Seed:
    category: str
    phrase: str  # as written in _SEEDS, reported back in EmergencyHit
    tokens: tuple[str, ...]
    text: str
    max_edits: int


def _compile_seeds() -> list[_Seed]:
    seeds: list[_Seed] = []
    for category, phrases in _SEEDS.items():
        for phrase in phrases:
            tokens = tuple(_canonical_tokens(phrase))
            forms = [tokens]
            # Also as one word, for "heartattack" or "chestpain" typed without the space.
            joined = "".join(tokens)
            if len(tokens) > 1 and len(joined) >= 8:
                forms.append((joined,))
            for form in forms:
                text = " ".join(form)
                seeds.append(_Seed(category, phrase, form, text, _max_edits(text)))
    return seeds


_SEED_LIST = _compile_seeds()


def _anchor_index(seeds: Iterable[_Seed]) -> dict[str, list[tuple[int, int]]]:
    """Map each distinctive word to the (seed number, word position) pairs it can start."""
    index: dict[str, list[tuple[int, int]]] = {}
    for number, seed in enumerate(seeds):
        anchors = [
            (offset, word)
            for offset, word in enumerate(seed.tokens)
            if len(seed.tokens) == 1 or (word not in _WEAK and len(word) >= 3)
        ]
        if not anchors:
            raise ValueError(f"seed {seed.phrase!r} has no distinctive word to anchor on")
        for offset, word in anchors:
            index.setdefault(word, []).append((number, offset))
    return index


_ANCHORS = _anchor_index(_SEED_LIST)
_PAIR_WORDS = frozenset().union(*(pair.first | pair.second for pair in _PAIRS))


def _vocab_buckets(words: Iterable[str]) -> dict[tuple[str, int], list[str]]:
    """Group the fuzzy-correctable vocabulary by (first letter, length) to keep comparisons few."""
    buckets: dict[tuple[str, int], list[str]] = {}
    for word in sorted(set(words)):
        if len(word) >= 4:
            buckets.setdefault((word[0], len(word)), []).append(word)
    return buckets


_BUCKETS = _vocab_buckets([*_ANCHORS, *_PAIR_WORDS])


@lru_cache(maxsize=16384)
def _near_words(word: str) -> tuple[str, ...]:
    """Vocabulary words within a typo or two of `word` (same first letter), excluding itself.

    Words shorter than five characters are never corrected: "pan", "hart" or "fits" have too many
    real neighbours. Their typos are still caught by the phrase-level comparison when another
    word of the phrase anchors it ("hart attack").
    """
    if len(word) < 5 or word in _NEVER_FUZZ or word.isdigit():
        return ()
    allowed = _max_edits(word)
    near: list[str] = []
    for length in range(len(word) - allowed, len(word) + allowed + 1):
        bucket = _BUCKETS.get((word[0], length))
        if bucket:
            matches = process.extract(word, bucket, scorer=OSA.distance, score_cutoff=allowed, limit=None)
            near.extend(match for match, _, _ in matches if match != word)
    return tuple(near)


def _window_matches(window: tuple[str, ...], seed: _Seed) -> bool:
    if window == seed.tokens:
        return True
    for got, want in zip(window, seed.tokens, strict=True):
        if got == want:
            continue
        # Each word stays within its own budget, so a phrase's allowance is not spent on one word
        # ("chest print"), and keeps its first letter: typos there are rare, real neighbours common.
        allowed = _word_edits(want)
        if not allowed or got[0] != want[0] or got in _NEVER_FUZZ:
            return False
        if OSA.distance(got, want, score_cutoff=allowed) > allowed:
            return False
    return OSA.distance(" ".join(window), seed.text, score_cutoff=seed.max_edits) <= seed.max_edits


def _seed_hits(tokens: list[str], forms: list[tuple[str, ...]], found: dict[str, str]) -> None:
    """Record in `found` (category -> phrase) every seed category matched in `tokens`."""
    tried: set[tuple[int, int]] = set()
    for position, words in enumerate(forms):
        for word in words:
            for number, offset in _ANCHORS.get(word, ()):
                seed = _SEED_LIST[number]
                start = position - offset
                end = start + len(seed.tokens)
                if seed.category in found or start < 0 or end > len(tokens) or (number, start) in tried:
                    continue
                tried.add((number, start))
                if _window_matches(tuple(tokens[start:end]), seed):
                    found[seed.category] = seed.phrase
                    if seed.category == "mental_health":
                        return  # nothing can outrank it


def _pair_hits(forms: list[tuple[str, ...]], found: dict[str, str]) -> None:
    """Record in `found` every two-idea red flag whose halves are at most `max_gap` words apart."""
    for pair in _PAIRS:
        if pair.category in found:
            continue
        firsts = [i for i, words in enumerate(forms) if pair.first.intersection(words)]
        if not firsts:
            continue
        distance = pair.max_gap + 1
        for j, words in enumerate(forms):
            if pair.second.intersection(words):
                # The first occurrence at or after j - distance is the only candidate worth checking;
                # bisecting keeps a long message full of both words linear rather than quadratic.
                k = bisect_left(firsts, j - distance)
                if k < len(firsts) and firsts[k] <= j + distance:
                    found[pair.category] = pair.phrase
                    break


def detect_emergency(text: str) -> EmergencyHit | None:
    """Return the red flag in `text`, or None.

    When several categories match, mental_health wins (its guidance differs), otherwise the first
    in CATEGORIES order.
    """
    if not text:
        return None
    tokens = _canonical_tokens(text)
    if not tokens:
        return None
    # Each word as typed plus the vocabulary words it could be a typo of.
    forms = [(word, *_near_words(word)) for word in tokens]
    found: dict[str, str] = {}
    _seed_hits(tokens, forms, found)
    if "mental_health" not in found:
        _pair_hits(forms, found)
    for category in ("mental_health", *CATEGORIES):
        if category in found:
            return EmergencyHit(category, found[category])
    return None


def detect_red_flag(text):
    return detect_emergency(text)
