"""A small statistical second reader for red flags, next to the rules: character n-grams of the
message's sound keys (so "saans", "sans", "सांस" are one word, and "breth" shares most of its
pieces) and its words and word pairs ("not waking", "goodbye"), weighted by a logistic
regression trained on the development part of the evaluation set.

When the rules find nothing and the model is confident enough, the message is a red flag in the
category it names (a suicide risk at a lower bar, MENTAL_HEALTH_ALONE). It never clears what a
rule raised and never overrides a rule's "history"; where it finds a rule's flag very unlikely an
emergency, conversations/emergency.py may answer it with the note instead of the card (a doubtful
flag). The weights are not committed: `make redflag-model` trains them from
eval/redflags/dev.csv (conversations/redflags/train.py) into model.json beside this file; without
that file the rules work alone.

Inference uses the exported weights with numpy (no scikit-learn at run time), the same
arithmetic as scikit-learn's FeatureUnion of TfidfVectorizer(analyzer="char_wb",
sublinear_tf=True) and TfidfVectorizer(analyzer="word", token_pattern=r"\\S+", sublinear_tf=True),
each normalised on its own, followed by LogisticRegression. Messages of fewer than MIN_WORDS
words are left to the rules: a few words are too little text for n-grams to weigh (the model
would read "his" as a red flag, and "chest congestion and cold" as a cardiac one; the development
part holds only 16 messages of four words, 15 of them ordinary).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from conversations.textnorm import sound_key, words

MODEL_PATH = Path(__file__).resolve().parent / "model.json"
# Only the start of a long message is read: the rules read all of it, and n-grams of 10,000
# characters would cost milliseconds.
MAX_CHARS = 1000
MIN_WORDS = 5
# A suicide-risk message is flagged when the model gives that category alone this probability, below
# the threshold for "any emergency": scored on each development batch held out in turn, the
# threshold at 1% false alarms with this bar caught 94.1% of emergencies and 95.0% of suicide risk
# at 2.1% false alarms, against 94.4% and 90.1% at 2.0% for the threshold at 2% alone. Indirect
# suicide risk is what the model reads least surely; its card (Tele-MANAS) is a gentle one.
MENTAL_HEALTH_ALONE = 0.4
# Words whose character n-grams are kept as rows, and the longest word kept (a pasted blob is
# not): a few MB at most, about 80 rows a word.
WORD_CACHE = 50_000
CACHED_WORD_CHARS = 24


def model_text(text: str) -> str:
    """What the model reads: each word's sound key (conversations/textnorm.py), so the spellings
    of one word ("saans", "sans", "सांस") are one to it as they are to the rules."""
    return " ".join(sound_key(word) for word in words(text[:MAX_CHARS]))


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's "char_wb" analyser: n-grams inside each word padded with one space."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        for n in range(low, high + 1):
            if len(padded) < n:
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def word_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's "word" analyser with token_pattern r"\\S+": words and runs of them."""
    tokens = text.split()
    return [" ".join(tokens[i : i + n]) for n in range(low, high + 1) for i in range(len(tokens) - n + 1)]


@dataclass(frozen=True, slots=True)
class Part:
    """One tf-idf block of the features (character n-grams, or words), normalised on its own."""

    ngram_range: tuple[int, int]
    index: dict[str, int]  # n-gram -> its row of `weights`
    idf: np.ndarray
    weights: np.ndarray  # one row per n-gram, one column per class
    # A word's known character n-grams, as rows: words repeat from message to message. Bounded:
    # emptied when full, so words nobody repeats cannot grow it without end.
    word_rows: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False)

    def char_rows(self, text: str) -> list[int]:
        rows: list[int] = []
        for word in text.split():
            known = self.word_rows.get(word)
            rows.extend(known if known is not None else self._rows_of_new_word(word))
        return rows

    def _rows_of_new_word(self, word: str) -> tuple[int, ...]:
        known = tuple(self.gram_rows(char_ngrams(word, *self.ngram_range)))
        if len(word) <= CACHED_WORD_CHARS:
            if len(self.word_rows) >= WORD_CACHE:
                self.word_rows.clear()
            self.word_rows[word] = known
        return known

    def gram_rows(self, grams: list[str]) -> list[int]:
        index = self.index
        return [index[gram] for gram in grams if gram in index]

    def scores(self, rows: list[int]) -> np.ndarray | None:
        if not rows:
            return None
        found, counts = np.unique(np.array(rows, dtype=np.int64), return_counts=True)
        values = (1 + np.log(counts)) * self.idf[found]
        values /= math.sqrt(float(values @ values))
        return values @ self.weights[found]


@dataclass(frozen=True, slots=True)
class Model:
    classes: tuple[str, ...]  # "none" and the categories
    chars: Part
    words: Part
    intercepts: np.ndarray
    threshold: float  # P(not "none") at or above which the model raises a flag

    def probabilities(self, text: str) -> dict[str, float]:
        read = model_text(text)
        scores = self.intercepts.copy()
        for part, rows in (
            (self.chars, self.chars.char_rows(read)),
            (self.words, self.words.gram_rows(word_ngrams(read, *self.words.ngram_range))),
        ):
            if (found := part.scores(rows)) is not None:
                scores += found
        return dict(zip(self.classes, _softmax(list(scores)), strict=True))

    def flag(self, text: str) -> str | None:
        """The category the model reads in `text`, or None below its threshold or when the
        message is too short to read."""
        if not readable(text):
            return None
        probabilities = self.probabilities(text)
        if 1 - probabilities["none"] >= self.threshold:
            return max((p, c) for c, p in probabilities.items() if c != "none")[1]
        return "mental_health" if probabilities["mental_health"] >= MENTAL_HEALTH_ALONE else None

    def emergency_probability(self, text: str) -> float | None:
        """How likely the model finds `text` an emergency of any kind, or None when the message
        is too short to read, or longer than it reads (a red flag may lie past MAX_CHARS)."""
        if len(text) > MAX_CHARS or not readable(text):
            return None
        return 1 - self.probabilities(text)["none"]


def readable(text: str) -> bool:
    """Whether a message has words enough for the model: under MIN_WORDS it leaves it to the rules."""
    return len(words(text[:MAX_CHARS])) >= MIN_WORDS


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(score - top) for score in scores]
    total = sum(exps)
    return [value / total for value in exps]


def _part(data: dict) -> Part:
    grams = list(data["idf"])
    return Part(
        ngram_range=(data["ngram_range"][0], data["ngram_range"][1]),
        index={gram: row for row, gram in enumerate(grams)},
        idf=np.array([data["idf"][gram] for gram in grams]),
        weights=np.array([data["weights"][gram] for gram in grams]),
    )


def from_json(data: dict) -> Model:
    return Model(
        classes=tuple(data["classes"]),
        chars=_part(data["chars"]),
        words=_part(data["words"]),
        intercepts=np.array(data["intercepts"]),
        threshold=data["threshold"],
    )


@lru_cache(maxsize=1)
def load() -> Model | None:
    """The trained model, or None when it has not been built (the rules then work alone)."""
    if not MODEL_PATH.exists():
        return None
    return from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
