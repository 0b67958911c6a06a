"""Answer metrics, SQuAD-style, with a normalization for French.

>>> normalize_answer("l'Union européenne") == normalize_answer("Union europeenne")
True
>>> round(token_f1("Le bureau est à Munich", "à Munich"), 2)
0.67
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

from rag.text import fold_accents

# Articles and elided forms dropped before comparing, as SQuAD drops "a", "an", "the".
FRENCH_ARTICLES = frozenset("le la les l un une des du de d au aux".split())
_PUNCTUATION = set(string.punctuation) | set("«»“”’‘…–—")
_MARKER = re.compile(r"\[\d+\]")


def normalize_answer(text: str) -> str:
    """Lowercase, fold accents, drop citation markers, punctuation and articles, squeeze spaces."""
    text = _MARKER.sub(" ", text.lower())
    text = fold_accents(text)
    text = "".join(" " if c in _PUNCTUATION else c for c in text)
    return " ".join(w for w in text.split() if w not in FRENCH_ARTICLES)


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    predicted, expected = _tokens(prediction), _tokens(gold)
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def token_recall(prediction: str, gold: str) -> float:
    """Share of the gold answer's tokens found in the prediction (counted with multiplicity)."""
    predicted, expected = _tokens(prediction), _tokens(gold)
    if not expected:
        return float(not predicted)
    return sum((Counter(predicted) & Counter(expected)).values()) / len(expected)


def best_over(metric, prediction: str, golds: Sequence[str]) -> float:
    """SQuAD's rule: score against each accepted answer and keep the best."""
    return max((metric(prediction, g) for g in golds), default=0.0)
