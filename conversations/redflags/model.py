"""A small statistical second reader for red flags, next to the rules: character n-grams of the
message (so "saans", "sans" and "breth" share most of their pieces), weighted by a logistic
regression trained on the development part of the evaluation set.

It only adds: when the rules find nothing and the model is confident enough, the message is a red
flag in the category it names; it never clears what a rule raised, and never overrides a rule's
"history". The weights are not committed: `make redflag-model` trains them from
eval/redflags/dev.csv (conversations/redflags/train.py) into model.json beside this file; without
that file the rules work alone.

Inference uses the exported weights with numpy (no scikit-learn at run time), the same
arithmetic as scikit-learn's TfidfVectorizer(analyzer="char_wb", sublinear_tf=True) followed by
LogisticRegression. Messages of fewer than MIN_WORDS words are left to the rules: a word or two
is too little text for n-grams to weigh (the model would read "his" as a red flag).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from conversations.textnorm import latin, words

MODEL_PATH = Path(__file__).resolve().parent / "model.json"
# Only the start of a long message is read: the rules read all of it, and n-grams of 10,000
# characters would cost milliseconds.
MAX_CHARS = 1000
MIN_WORDS = 4


def model_text(text: str) -> str:
    """What the model reads: normalised words in Latin letters (Devanagari transliterated)."""
    return " ".join(latin(word) for word in words(text[:MAX_CHARS]))


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


@dataclass(frozen=True, slots=True)
class Model:
    classes: tuple[str, ...]  # "none" and the categories
    ngram_range: tuple[int, int]
    index: dict[str, int]  # n-gram -> its row of `weights`
    idf: np.ndarray
    weights: np.ndarray  # one row per n-gram, one column per class
    intercepts: np.ndarray
    threshold: float  # P(not "none") at or above which the model raises a flag

    def probabilities(self, text: str) -> dict[str, float]:
        counts = Counter(g for g in char_ngrams(model_text(text), *self.ngram_range) if g in self.index)
        scores = self.intercepts.copy()
        if counts:
            rows = np.fromiter((self.index[gram] for gram in counts), dtype=np.int64, count=len(counts))
            values = (
                1 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            ) * self.idf[rows]
            values /= math.sqrt(float(values @ values))
            scores += values @ self.weights[rows]
        return dict(zip(self.classes, _softmax(list(scores)), strict=True))

    def flag(self, text: str) -> str | None:
        """The category the model reads in `text`, or None below its threshold or when the
        message is too short to read."""
        if len(words(text[:MAX_CHARS])) < MIN_WORDS:
            return None
        probabilities = self.probabilities(text)
        if 1 - probabilities["none"] < self.threshold:
            return None
        return max((p, c) for c, p in probabilities.items() if c != "none")[1]


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(score - top) for score in scores]
    total = sum(exps)
    return [value / total for value in exps]


def from_json(data: dict) -> Model:
    grams = list(data["idf"])
    return Model(
        classes=tuple(data["classes"]),
        ngram_range=(data["ngram_range"][0], data["ngram_range"][1]),
        index={gram: row for row, gram in enumerate(grams)},
        idf=np.array([data["idf"][gram] for gram in grams]),
        weights=np.array([data["weights"][gram] for gram in grams]),
        intercepts=np.array(data["intercepts"]),
        threshold=data["threshold"],
    )


@lru_cache(maxsize=1)
def load() -> Model | None:
    """The trained model, or None when it has not been built (the rules then work alone)."""
    if not MODEL_PATH.exists():
        return None
    return from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
