"""The red-flag model (conversations/redflags/model.py): its plain-numpy reading gives scikit-learn's
probabilities, it only adds to the rules, and the built model is there for the product to use."""

from __future__ import annotations

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from conversations import emergency
from conversations.emergency import MODEL_PHRASE, EmergencyHit, detect_red_flag
from conversations.redflags import model as redflag_model
from conversations.redflags import train
from conversations.redflags.model import MIN_WORDS, char_ngrams, from_json, model_text, word_ngrams

TEXTS = [
    ("my chest is crushing and i am sweating", "cardiac"),
    ("seene me bahut dabav aur pasina", "cardiac"),
    ("i cant get any air in at all", "breathing"),
    ("saans bilkul nahi aa rahi hai", "breathing"),
    ("i want to book a checkup for my mother", "none"),
    ("what is the dose of paracetamol for fever", "none"),
    ("mummy ki sugar report aa gayi dekh lo", "none"),
    ("appointment kal subah ka mil sakta hai kya", "none"),
]


@pytest.fixture(scope="module")
def tiny():
    texts = [model_text(text) for text, _ in TEXTS]
    vectorizer, fitted = train._fit(texts, [label for _, label in TEXTS])
    return vectorizer, fitted, from_json(train.to_json(vectorizer, fitted, 0.5, "tests"))


def test_char_ngrams_are_scikit_learns():
    text = model_text("Seene mein DARD, saans nahi aa rahi")
    analyser = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    assert char_ngrams(text, 2, 5) == analyser(text)


def test_word_ngrams_are_scikit_learns():
    text = model_text("Seene mein DARD, saans nahi aa rahi 🙏")
    analyser = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"\S+").build_analyzer()
    assert word_ngrams(text, 1, 2) == analyser(text)


@pytest.mark.parametrize("text", [text for text, _ in TEXTS] + ["a message the model never saw before, dard"])
def test_probabilities_are_scikit_learns(tiny, text):
    vectorizer, fitted, model = tiny
    expected = fitted.predict_proba(vectorizer.transform([model_text(text)]))[0]
    got = model.probabilities(text)
    for index, name in enumerate(fitted.classes_):
        assert got[name] == pytest.approx(expected[index], abs=1e-9)


def test_a_short_message_is_left_to_the_rules(tiny):
    *_, model = tiny
    short = " ".join(["chest", "crushing", "and", "sweating", "badly", "now"][: MIN_WORDS - 1])
    assert len(short.split()) == MIN_WORDS - 1
    assert model.flag(short) is None


class _Always:
    def __init__(self, category, probability=0.9):
        self.category = category
        self.probability = probability

    def flag(self, text):
        return self.category

    def emergency_probability(self, text):
        return self.probability if redflag_model.readable(text) else None


def test_a_message_longer_than_the_model_reads_is_never_doubted(tiny):
    *_, model = tiny
    tail = " and now crushing chest pain and sweating"
    text = "we spoke about the garden and the school fees. " * 30 + tail
    assert len(text) > redflag_model.MAX_CHARS
    assert model.emergency_probability(text) is None, "the flag lies past what the model read"
    assert model.emergency_probability(tail) is not None


def test_the_model_adds_a_flag_the_rules_miss(monkeypatch):
    text = "the lady next door is not herself today, please advise"
    assert detect_red_flag(text, model=False) is None
    monkeypatch.setattr(redflag_model, "load", lambda: _Always("neuro"))
    assert detect_red_flag(text) == EmergencyHit("neuro", MODEL_PHRASE)


def test_a_denied_category_is_never_the_models_but_another_may_be(monkeypatch):
    text = "there is no chest pain at all, I just feel strange and far away today"
    assert detect_red_flag(text, model=False) is None
    monkeypatch.setattr(redflag_model, "load", lambda: _Always("cardiac"))
    assert detect_red_flag(text) is None, "the rules denied cardiac in this message"
    monkeypatch.setattr(redflag_model, "load", lambda: _Always("neuro"))
    assert detect_red_flag(text) == EmergencyHit("neuro", MODEL_PHRASE)


def test_the_model_never_clears_or_changes_a_rule_hit(monkeypatch):
    monkeypatch.setattr(redflag_model, "load", lambda: _Always(None))
    assert detect_red_flag("chest pain since an hour") == EmergencyHit("cardiac", "chest + pain")
    monkeypatch.setattr(redflag_model, "load", lambda: _Always("mental_health"))
    history = "last year i had chest pain and got a stent, now fine, need a refill"
    assert detect_red_flag(history) == detect_red_flag(history, model=False)
    assert detect_red_flag(history).history


def test_the_model_is_built_for_the_product():
    # `make test` builds it (make redflag-model) from eval/redflags/dev.csv before the tests run.
    assert redflag_model.MODEL_PATH.exists(), "run `make redflag-model`"
    model = redflag_model.load()
    assert model is not None and set(model.classes) == {"none", *emergency.CATEGORIES}
    assert 0.5 <= model.threshold < 1


# The flag of a rule joining two concepts that the model finds very unlikely an emergency is
# doubtful (the note, not the card): below DOUBTFUL_BELOW. Never a rule naming the emergency, nor
# suicide, violence, chest pain, breathing or stroke, nor a message too short for the model.
@pytest.mark.parametrize(
    ("text", "probability", "doubtful"),
    [
        ("my 8 month old crawls on the floor, is phenyl ok for mopping", 0.09, True),  # joined, < 0.10
        ("my 8 month old crawls on the floor, is phenyl ok for mopping", 0.10, False),  # joined, >= 0.10
        ("I have chest pain, can I book a consultation with a cardiologist today", 0.0, False),  # cardiac
        ("my neighbour is having a heart attack right now", 0.0, False),  # names the emergency
        ("i think he had a stroke", 0.0, False),  # names the emergency
        ("i will end my life tonight, i have the pills ready", 0.0, False),  # suicide: never doubted
        ("he beat me again and locked me in the room", 0.0, False),  # violence: never doubted
        ("chest pain since morning", 0.0, False),  # under five words: the rules alone
    ],
)
def test_a_joined_rule_flag_the_model_finds_very_unlikely_is_doubtful(
    monkeypatch, text, probability, doubtful
):
    rules = detect_red_flag(text, model=False)
    assert rules is not None and rules.urgent, "the rules flag it for now"
    monkeypatch.setattr(redflag_model, "load", lambda: _Always(None, probability))
    hit = detect_red_flag(text)
    assert (hit.category, hit.phrase, hit.history) == (rules.category, rules.phrase, False)
    assert hit.doubtful is doubtful and hit.urgent is not doubtful
    assert (emergency.detect_emergency(text) is None) is doubtful


@pytest.mark.parametrize(
    "text",
    [
        "chest pain since an hour, i think it is a heart attack",  # the named rule fires too
        "my husband has chest pain and is unconscious now not responding",
        "mera beta phenyl pi gaya kya doodh dena safe hai",  # a swallowing asserted (`sure`)
    ],
)
def test_a_flag_is_never_doubted_where_a_rule_beyond_doubt_also_fires(monkeypatch, text):
    monkeypatch.setattr(redflag_model, "load", lambda: _Always(None, 0.0))
    hit = detect_red_flag(text)
    assert hit is not None and hit.urgent, hit


def _model_saying(monkeypatch, probabilities):
    model = from_json(train.to_json(*_TINY_FIT, 0.8, "tests"))
    monkeypatch.setattr(redflag_model.Model, "probabilities", lambda self, text: probabilities)
    return model


_TINY_FIT = train._fit([model_text(text) for text, _ in TEXTS], [label for _, label in TEXTS])


# Suicide risk is flagged at a lower bar than "any emergency": its own probability alone.
@pytest.mark.parametrize(
    ("none", "mental_health", "flag"),
    [
        (0.1, 0.05, "cardiac"),  # P(any) 0.9 >= 0.8: the likeliest category
        (0.5, 0.45, "mental_health"),  # P(any) 0.5 < 0.8, but P(crisis) >= MENTAL_HEALTH_ALONE
        (0.5, 0.39, None),  # neither
    ],
)
def test_suicide_risk_is_flagged_at_its_own_lower_bar(monkeypatch, none, mental_health, flag):
    rest = {category: 0.0 for category in emergency.CATEGORIES}
    probabilities = {
        **rest,
        "none": none,
        "mental_health": mental_health,
        "cardiac": 1 - none - mental_health,
    }
    model = _model_saying(monkeypatch, probabilities)
    assert redflag_model.MENTAL_HEALTH_ALONE == 0.4
    assert model.flag("we talked for a while this evening and then she left") == flag
