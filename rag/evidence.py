"""Evidence first: from each retrieved passage, only the sentences that bear on the question.

Retrieval works best on passages of ~800 characters (README, "Retrieval"), but a small
generator answers better, and faster, from a few hundred characters of focused text. For
each passage we keep the sentence sharing most stemmed words with the question, then its
neighbours while they fit in ``max_chars``:

>>> text = "Le ministre salue le projet. OpenAI ouvrira un bureau à Munich. Il recrutera."
>>> select_evidence("Où OpenAI ouvrira-t-elle un bureau ?", text, max_chars=70)
'OpenAI ouvrira un bureau à Munich. Il recrutera.'
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.keyword import FrenchAnalyzer

# A break after . ! ? … or », before a capital, a quote or a digit; not after an initial ("M.").
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…»])(?<!\b[A-Z]\.)\s+(?=[A-ZÀ-ÖØ-Þ«\"0-9])|\n+")
MAX_EVIDENCE_CHARS = 450


@lru_cache(maxsize=1)
def _analyzer() -> FrenchAnalyzer:
    return FrenchAnalyzer()


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_BREAK.split(text) if s.strip()]


def select_evidence(question: str, text: str, max_chars: int = MAX_EVIDENCE_CHARS) -> str:
    """The best-matching sentence of ``text`` and its neighbours, at most ``max_chars`` long
    (a longer single sentence is kept whole)."""
    sentences = split_sentences(text)
    if len(text) <= max_chars or len(sentences) <= 1:
        return text.strip()
    terms = set(_analyzer().terms(question))
    overlaps = [len(terms & set(_analyzer().terms(s))) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (overlaps[i], -i))
    first = last = best
    size = len(sentences[best])
    while True:  # grow forward first: what follows a match usually completes it
        if last + 1 < len(sentences) and size + 1 + len(sentences[last + 1]) <= max_chars:
            last += 1
            size += 1 + len(sentences[last])
        elif first > 0 and size + 1 + len(sentences[first - 1]) <= max_chars:
            first -= 1
            size += 1 + len(sentences[first])
        else:
            break
    return " ".join(sentences[first : last + 1])
