"""The red-flag matcher: what must hit, in which category, and what must not."""

from __future__ import annotations

from collections import Counter
from dataclasses import FrozenInstanceError

import pytest

from conversations.emergency import CATEGORIES, EmergencyHit, detect_emergency, detect_red_flag

# (text, expected category). English, Hinglish, Devanagari and typos for every category.
POSITIVES: list[tuple[str, str]] = [
    # a question asked in an emergency is no story; "nobody at home" is no denial
    ("mummy behosh hai kuch karna ho to batao", "neuro"),
    ("papa behosh koi nahi hai ghar pe", "neuro"),
    ("assignment ke baad suicide kar lunga", "mental_health"),
    ("he is beating my mum with a cricket bat", "violence_abuse"),
    # cardiac
    ("I have chest pain since an hour", "cardiac"),
    ("chest pian and sweating", "cardiac"),
    ("severe pain in my chest", "cardiac"),
    ("tightness in chest, feels like an elephant sitting", "cardiac"),
    ("crushing chest pressure", "cardiac"),
    ("pain radiating to my left arm and jaw", "cardiac"),
    ("I think my father is having a hart attack!!", "cardiac"),
    ("heartattack", "cardiac"),
    ("seene mein dardh ho raha hai", "cardiac"),
    ("sine me bahut dard", "cardiac"),
    ("chhati mein dard", "cardiac"),
    ("papa ko dil ka daura pada", "cardiac"),
    ("सीने में दर्द हो रहा है", "cardiac"),
    ("दिल का दौरा", "cardiac"),
    # breathing
    ("I can't breathe", "breathing"),
    ("cant breath", "breathing"),
    ("cannot breathe properly", "breathing"),
    ("difficulty breathing since morning", "breathing"),
    ("very short of breath", "breathing"),
    ("my son is choking on a coin", "breathing"),
    ("her lips are turning blue", "breathing"),
    ("gasping for air", "breathing"),
    ("saans nahi aa rahi", "breathing"),
    ("sans nhi aa rhi hai", "breathing"),
    ("saas lene me takleef", "breathing"),
    ("सांस नहीं आ रही", "breathing"),
    ("साँस लेने में तकलीफ़", "breathing"),
    # stroke
    ("her face is drooping on one side", "stroke"),
    ("sudden weakness on one side of the body", "stroke"),
    ("slurred speech and confusion", "stroke"),
    ("slured speach", "stroke"),
    ("sudden vision loss in right eye", "stroke"),
    ("arm weakness since 10 minutes", "stroke"),
    ("dadi ka muh tedha ho gaya", "stroke"),
    ("lakwa maar gaya", "stroke"),
    ("उन्हें लकवा मार गया", "stroke"),
    ("I think he had a stroke", "stroke"),
    # neuro
    ("my brother is unconscious", "neuro"),
    ("he is unresponsive", "neuro"),
    ("she fainted and is not waking up", "neuro"),
    ("having a seizure right now", "neuro"),
    ("convulsions for 5 minutes", "neuro"),
    ("worst headache of my life", "neuro"),
    ("head injury and vomiting after fall", "neuro"),
    ("unconcious", "neuro"),
    ("papa behosh ho gaye", "neuro"),
    ("mirgi ka dora pad raha hai", "neuro"),
    ("वो बेहोश है", "neuro"),
    # bleeding_trauma
    ("heavy bleeding from the wound", "bleeding_trauma"),
    ("bleeding won't stop", "bleeding_trauma"),
    ("vomiting blood", "bleeding_trauma"),
    ("coughing up blood since morning", "bleeding_trauma"),
    ("major accident on the highway", "bleeding_trauma"),
    ("he took an overdose of sleeping pills", "poisoning"),
    ("my kid swallowed poison", "poisoning"),
    ("snake bite on leg", "bleeding_trauma"),
    ("severe burns on arm", "bleeding_trauma"),
    ("khoon nahi ruk raha", "bleeding_trauma"),
    ("khun nhi ruk rha", "bleeding_trauma"),
    ("usne zehar kha liya", "poisoning"),
    ("saap ne kata", "bleeding_trauma"),
    ("खून नहीं रुक रहा", "bleeding_trauma"),
    ("ज़हर खा लिया", "poisoning"),
    # anaphylaxis
    ("my face and lips are swelling after eating peanuts", "anaphylaxis"),
    ("swollen tongue", "anaphylaxis"),
    ("throat is closing up", "anaphylaxis"),
    ("severe allergic reaction to bee sting", "anaphylaxis"),
    ("severe alergic reaction", "anaphylaxis"),
    ("anaphylaxis", "anaphylaxis"),
    ("anaphylactic shock", "anaphylaxis"),
    ("swelling of lips and tongue", "anaphylaxis"),
    ("chehra sooj gaya aur gala band ho raha hai", "anaphylaxis"),
    ("गला बंद हो रहा है", "anaphylaxis"),
    # obstetric
    ("I'm 7 months pregnant and bleeding", "obstetric"),
    ("bleeding during pregnancy", "obstetric"),
    ("pregnant, spotting since morning", "obstetric"),
    ("baby not moving since yesterday, I am 34 weeks", "obstetric"),
    ("reduced fetal movements", "obstetric"),
    ("fits in pregnancy", "neuro"),
    ("pregnant lady with fits", "neuro"),
    ("my water broke", "obstetric"),
    ("pregnancy me bleeding ho rahi hai", "obstetric"),
    ("pet mein bacha hil nahi raha", "obstetric"),
    ("बच्चा हिल नहीं रहा", "obstetric"),
    # paediatric
    ("my baby is not feeding since morning", "paediatric"),
    ("baby is limp", "paediatric"),
    ("the baby is very lethargic", "paediatric"),
    ("my 2 month old son is floppy", "paediatric"),
    ("severe dehydration in child", "paediatric"),
    ("no wet nappies since yesterday", "paediatric"),
    ("sunken fontanelle", "paediatric"),
    ("fever in newborn", "paediatric"),
    ("bacha doodh nahi pi raha", "paediatric"),
    ("baccha sust pad gaya hai", "paediatric"),
    ("बच्चा दूध नहीं पी रहा", "paediatric"),
    # mental_health
    ("I want to die", "mental_health"),
    ("i feel suicidal", "mental_health"),
    ("thinking of suicde", "mental_health"),
    ("I'm going to kill myself", "mental_health"),
    ("i want to end my life", "mental_health"),
    ("everyone would be better off without me", "mental_health"),
    ("I cut myself again", "mental_health"),
    ("self-harm", "mental_health"),
    ("main marna chahta hoon", "mental_health"),
    ("marna chahti hu", "mental_health"),
    ("ab jeena nahi chahta", "mental_health"),
    ("khudkushi karne ka mann hai", "mental_health"),
    ("atmahatya", "mental_health"),
    ("मैं आत्महत्या करना चाहता हूँ", "mental_health"),
    ("मरना चाहता हूं", "mental_health"),
    # poisoning
    ("she drank phenyl", "poisoning"),
    ("my 2 yr old swallowed a button battery", "poisoning"),
    ("papa ne keedemar dawai pee li", "poisoning"),
    ("बच्चे ने फिनाइल पी लिया है", "poisoning"),
    ("took a whole strip of sleeping pills", "poisoning"),
    # violence_abuse
    ("my husband is beating me right now", "violence_abuse"),
    ("he has a knife and says he will kill me", "violence_abuse"),
    ("pati abhi mujhe maar raha hai", "violence_abuse"),
    ("उसके हाथ में चाकू है और जान से मारने की धमकी दे रहा है", "violence_abuse"),
    ("mere saath zabardasti hui kal raat", "violence_abuse"),
    ("i was raped last night", "violence_abuse"),
    ("someone is banging on my door and following me", "violence_abuse"),
    ("ससुराल वाले दहेज के लिए जलाने की धमकी दे रहे हैं", "violence_abuse"),
]

# Ordinary messages that share words with red flags. None of them may raise an alarm.
BENIGN: list[str] = [
    # Hindi negation with words between the symptom and "nahi"
    "dard wala kuch nahi hai chest mein, bas gas ban rahi hai",
    # a bite by an animal is not self-harm; "roz peeta" is drinking daily, not beating
    "मधुमक्खी ने हाथ पर काटा, सिर्फ़ उसी जगह हल्की सूजन है",
    "karela juice roz peeta hu sugar ke liye, kya kaam karta hai",
    # a number of weeks is not a pregnancy; everyday words that sound like a rule's
    "mummy ki fasting sugar 140 aa rahi hai 2 hafte se, medicine badhani padegi kya",
    "does this fit my schedule",
    "please send a weeks supply of my bp tablets",
    "the chemo is hitting him hard",
    "nas dab gayi hai dawa ka koi fayda nahi",
    "chest x-ray report",
    "my heart is full of joy",
    "I want to book a cardiologist",
    "breathing exercises for yoga",
    "my blood test results",
    "burning sensation while urinating",
    "headache since yesterday",
    "allergy to penicillin",
    "I am pregnant, want a checkup",
    "pregnancy test positive",
    "2",
    "menu",
    "hello",
    "Hi, good morning!",
    "I can breathe fine now",
    "panic attack yesterday",
    "I had a cold and cough",
    "I was cooking dinner",
    "the app is not responding",
    "my baby has a mild cold",
    "swollen ankle after running",
    "I need an epipen prescription refill",
    "blood pressure 130/80",
    "heartburn after eating spicy food",
    "chest congestion and cold",
    "pain in my cheek after the dentist",
    "knee pain while climbing stairs",
    "I want to diet",
    "I want to do a checkup",
    "I cut my hair short",
    "the dress fits well",
    "I stubbed my toe",
    "covid swabbed yesterday, result pending",
    "can I get a sick note",
    "consulting fee kitna hai",
    "seene mein jalan",
    "sar dard ho raha hai",
    "pet mein dard hai",
    "mujhe bukhar hai",
    "appointment kab hai",
    "मुझे सिर दर्द है",
    "दवाई कब लेनी है",
    # a diagnosis is not an attack happening now; a question for information is not an emergency
    "mummy ko mirgi hai, dawai refill chahiye",
    "What are the usual signs of a heart attack in women?",
    "heart attack aur cardiac arrest me kya farak hai?",
    "face is swollen from a wisdom tooth, dentist appointment is on monday",
    "Can an overdose of vitamin D happen from those weekly sachets?",
    "bhai 6 mahine blood thinner chala, ab band hai",
]


@pytest.mark.parametrize(("text", "category"), POSITIVES)
def test_red_flag_is_detected_in_its_category(text: str, category: str) -> None:
    hit = detect_emergency(text)
    assert hit is not None, text
    assert hit.category == category


@pytest.mark.parametrize("text", BENIGN)
def test_benign_near_miss_is_not_an_emergency(text: str) -> None:
    assert detect_emergency(text) is None


def test_every_category_has_enough_positive_cases() -> None:
    counts = Counter(category for _, category in POSITIVES)
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 8
    assert len(POSITIVES) >= 80


@pytest.mark.parametrize(
    ("typo", "phrase"),
    [
        ("chest pian", "chest + pain"),
        ("cant breath", "breath + difficulty"),
        ("suicde", "suicide or self-harm"),
        ("hart attack", "heart attack"),
        ("heart atack", "heart attack"),
        ("bleding heavily", "heavy bleeding"),
    ],
)
def test_typos_report_the_rule_of_the_word_they_misspell(typo: str, phrase: str) -> None:
    hit = detect_emergency(typo)
    assert hit is not None
    assert hit.phrase == phrase


@pytest.mark.parametrize(
    "text",
    [
        "seene mein dard",
        "seene mein dardh",
        "seene me dard",
        "sine main dard",
        "saans nahi aa rahi",
        "sans nhi aa rahi",
        "saas nahin aa rahi",
        "saaaans nahi aa rahi",
    ],
)
def test_hinglish_spelling_variants(text: str) -> None:
    assert detect_emergency(text) is not None


@pytest.mark.parametrize(
    "text",
    ["CHEST PAIN", "Chest   pain!!!", "chest-pain", "chest pain 😰😰", "\tchest\npain "],
)
def test_case_punctuation_emoji_and_whitespace_are_ignored(text: str) -> None:
    hit = detect_emergency(text)
    assert hit == EmergencyHit("cardiac", "chest + pain")


@pytest.mark.parametrize(
    "text",
    [
        "सांस नहीं आ रही",  # anusvara
        "साँस नहीं आ रही",  # chandrabindu
        "स\u093e\u0901स नहीं आ रही",  # decomposed
    ],
)
def test_devanagari_spelling_variants(text: str) -> None:
    hit = detect_emergency(text)
    assert hit is not None
    assert hit.category == "breathing"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # mental_health outranks everything, wherever it appears
        ("I have chest pain and I want to die", "mental_health"),
        ("I want to die, and my chest pain is bad", "mental_health"),
        ("took an overdose because I want to kill myself", "mental_health"),
        # otherwise the first category in CATEGORIES order, not the first in the text
        ("vomiting blood and chest pain", "cardiac"),
        ("can't breathe and chest pain", "cardiac"),
        ("vomiting blood and face drooping", "stroke"),
        ("baby not feeding and having a seizure", "neuro"),
        ("infant not breathing", "breathing"),
        ("pregnant and heavy bleeding", "bleeding_trauma"),
        ("took an overdose and he is beating me", "violence_abuse"),
    ],
)
def test_category_preference(text: str, category: str) -> None:
    hit = detect_emergency(text)
    assert hit is not None
    assert hit.category == category


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("no chest pain", False),
        ("not suicidal", False),
        ("no chest pain, just acidity after biryani", False),
        ("सीने में दर्द नहीं है, बस जलन", False),
        ("seene mein koi dard nahi hai", False),
        # a negation that is the symptom, or that only hedges, is no negation
        ("I can't breathe", True),
        ("he is not breathing", True),
        ("saans nahi aa rahi", True),
        ("not sure if it is chest pain", True),
        ("I don't think it's a heart attack", True),
        ("chest m jalan nahi h, pressure jaisa h, 30 min se", True),
        # "nahi aaya": no fit came is a denial; no consciousness came back is the emergency
        ("5 saal se koi daura nahi aaya, dawai kam ho sakti hai?", False),
        ("papa gir gaye aur abhi tak hosh nahi aaya", True),
        # words that make a match ordinary must not hide a person collapsing or swelling
        ("he collapsed while talking on the phone", True),
        ("chai peete peete papa gir pade, hosh nahi", True),
        ("ate peanuts, now lips and gums are swelling fast", True),
        ("दौरा पड़ा और होश नहीं आया", True),
    ],
)
def test_negation_cancels_a_red_flag_only_where_it_negates_the_symptom(text: str, flagged: bool) -> None:
    assert (detect_emergency(text) is not None) is flagged


def test_burns_are_injuries_not_urinary_symptoms() -> None:
    assert detect_emergency("burning sensation while urinating") is None
    hit = detect_emergency("badly burned in a kitchen fire")
    assert hit is not None
    assert hit.category == "bleeding_trauma"


@pytest.mark.parametrize("text", ["", " ", "\n\t", "😀", "🙏🙏🙏", "❤️", "...", "?!", "।"])
def test_empty_and_symbol_only_input(text: str) -> None:
    assert detect_emergency(text) is None


def _ten_thousand(filler: str, tail: str = "") -> str:
    body = (filler * (10_000 // len(filler) + 1))[: 10_000 - len(tail)]
    return body + tail


BENIGN_FILLER = (
    "I would like to book an appointment for my mother, she has knee pain and a mild fever "
    "since two days. kya doctor se baat ho sakti hai? दवाई कब लेनी है? "
)


def test_long_benign_message_is_not_an_emergency() -> None:
    text = _ten_thousand(BENIGN_FILLER)
    assert len(text) == 10_000
    assert detect_emergency(text) is None


@pytest.mark.parametrize(
    ("tail", "category"),
    [(" and now chest pain", "cardiac"), (" sach mein marna chahta hoon", "mental_health")],
)
def test_long_message_with_a_red_flag_at_the_end(tail: str, category: str) -> None:
    text = _ten_thousand(BENIGN_FILLER, tail)
    assert len(text) == 10_000
    hit = detect_emergency(text)
    assert hit is not None
    assert hit.category == category


@pytest.mark.parametrize("text", ["x" * 10_000, "ab" * 5_000, "😀" * 10_000, "अ" * 10_000])
def test_long_single_token_is_not_an_emergency(text: str) -> None:
    assert detect_emergency(text) is None


def test_hit_value_object() -> None:
    hit = detect_emergency("i want to end my life")
    assert hit == EmergencyHit("mental_health", "suicide or self-harm")
    assert hit.mental_health
    assert not EmergencyHit("cardiac", "chest pain").mental_health
    with pytest.raises(FrozenInstanceError):
        hit.category = "cardiac"  # type: ignore[misc]


def test_categories_are_the_documented_eleven() -> None:
    assert CATEGORIES == (
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


# Preparations for suicide are told in the past ("he paid off his loans") and are a crisis now,
# even where the message says all is well again. Other rules date a match by its clause.
@pytest.mark.parametrize(
    ("text", "history"),
    [
        ("my dad paid off all his loans yesterday and gave mom the locker keys", False),
        ("पति ने लिखा बच्चों का ध्यान रखना, बीमा के कागज़ अलमारी में हैं. तब से फ़ोन नहीं उठा रहे", False),
        ("last week dad paid off all his loans and gave mom the locker keys, he says he is fine now", False),
        ("had a heart attack in 2019, now fine, need a refill", True),
    ],
)
def test_preparations_told_in_the_past_are_a_crisis_now(text: str, history: bool) -> None:
    hit = detect_red_flag(text, model=False)
    assert hit is not None and hit.history is history


# A common English word is only ever itself, never another word by sound: "hot" is not "hoth"
# (lips), "by" not "baya" (left), "day" not "daya" (right); "kya" (what) is not "khaya" (ate).
@pytest.mark.parametrize(
    "text",
    [
        "nosebleed after a hot dusty day, stopped in 5 mins by pinching, should i see an ENT",
        "2 saal pehle pathri ka dard hua tha, nikal gayi, ab khane me kya parhez karu",
    ],
)
def test_common_words_do_not_stand_for_lexicon_words_by_sound(text: str) -> None:
    assert detect_red_flag(text, model=False) is None


# Words for information, jokes or the ordinary sense must not hide the emergency told beside them.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("mujhe heart attack ke symptoms ho rahe hain chest pain aur pasina", "cardiac"),
        ("अगर कोई है तो मदद करो मम्मी की साँस नहीं आ रही", "breathing"),
        ("he beats me every time i fail an exam", "violence_abuse"),
        ("my 2 year old drank the phenyl i use for mopping", "poisoning"),
        ("he was seizure free for 2 years but now a fit for 10 minutes that wont stop", "neuro"),
        ("papa behosh ho gaye chat pe doctor bhejo", "neuro"),
        ("accident at the construction site, a worker is badly hurt", "bleeding_trauma"),
        ("my toddler chewed a tablet of my blood thinner, is that dangerous?", "poisoning"),
        ("is it ok if my baby ate a bit of mosquito coil", "poisoning"),
    ],
)
def test_ordinary_words_beside_an_emergency_do_not_hide_it(text: str, category: str) -> None:
    hit = detect_red_flag(text, model=False)
    assert hit is not None and not hit.history and hit.category == category, hit
