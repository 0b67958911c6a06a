"""Evidence first: from each retrieved passage, only the sentences that bear on the question.

Retrieval works best on passages of ~800 characters (docs/search.md), but a small
generator answers better, and faster, from a few hundred characters of focused text. For
each passage we keep the sentence sharing most stemmed words with the question, then its
neighbours while they fit in ``max_chars``:

>>> text = "Le ministre salue le projet. OpenAI ouvrira un bureau à Munich. Il recrutera."
>>> select_evidence("Où OpenAI ouvrira-t-elle un bureau ?", text, max_chars=70)
'OpenAI ouvrira un bureau à Munich. Il recrutera.'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.search.keyword import FrenchAnalyzer
from rag.store.records import Passage

# A break after . ! ? … or », before a capital, a quote or a digit; not after an initial ("M.").
# Scraped text often lost the space after a full stop («…arrestations.Le mouvement…»): a word
# of two lowercase letters or more, its stop, then a capitalised word is a break too (not
# «M.Dupont», «U.S.A», nor a web address, whose next word is lowercase).
_SENTENCE_BREAK = re.compile(
    r"(?<=[.!?…»])(?<!\b[A-Z]\.)\s+(?=[A-ZÀ-ÖØ-Þ«\"0-9])|(?<=[a-zà-ÿ]{2}[.!?…])(?=[A-ZÀ-ÖØ-Þ][a-zà-ÿ])|\n+"
)
MAX_EVIDENCE_CHARS = 300
# Text addressed to the assistant rather than to a reader: documents are data, not orders.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|ignorez|oublie|oubliez|disregard)\s+(?:all\s+|toutes\s+|les\s+|tes\s+|vos\s+|the\s+|your\s+)*"
    r"(?:previous\s+)?(?:instructions?|consignes?|directives?)"
    r"|\b(?:réponds|répondez|answer|respond)\b.{0,40}\b(?:en anglais|in english|uniquement que|only that)\b"
    r"|\b(?:tu es|vous êtes|you are) (?:désormais |maintenant |now )?(?:un|une|an?) (?:assistant|ia|ai|chatbot)\b"
    r"|\bsystem prompt\b|\bprompt système\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Evidence:
    """What the model is shown of one passage: its marker ``[number]``, the passage, the sentences kept."""

    number: int
    passage: Passage
    sentences: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    @property
    def all_sentences(self) -> list[str]:
        """Every sentence of the passage (instructions to an assistant left out): what a quotation may use."""
        return [s for s in split_sentences(self.passage.text) if not looks_like_instruction(s)]


@lru_cache(maxsize=1)
def _analyzer() -> FrenchAnalyzer:
    return FrenchAnalyzer()


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, scraped text included.

    >>> split_sentences("Vingt arrestations.Le mouvement continue. M. Dupont parle à M.Martin sur lefigaro.fr.")
    ['Vingt arrestations.', 'Le mouvement continue.', 'M. Dupont parle à M.Martin sur lefigaro.fr.']
    """
    return [s.strip() for s in _SENTENCE_BREAK.split(text) if s.strip()]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, as :func:`split_sentences` cuts them.

    >>> sentence_spans("Un bureau à Munich. Il recrutera.")
    [(0, 19), (20, 33)]
    """
    spans, position = [], 0
    for sentence in split_sentences(text):
        start = text.find(sentence, position)
        if start < 0:  # the sentences are stripped slices of the text
            continue
        spans.append((start, start + len(sentence)))
        position = start + len(sentence)
    return spans


def looks_like_instruction(sentence: str) -> bool:
    """Whether a sentence gives orders to an assistant (``Ignore les instructions précédentes…``)."""
    return bool(_INSTRUCTION.search(sentence))


def gather_evidence(question: str, passages: Sequence[Passage]) -> list[Evidence]:
    """One :class:`Evidence` per passage, numbered from 1 in rank order."""
    return [Evidence(n, p, select_sentences(question, p.text)) for n, p in enumerate(passages, start=1)]


def select_evidence(question: str, text: str, max_chars: int = MAX_EVIDENCE_CHARS) -> str:
    return " ".join(select_sentences(question, text, max_chars))


def select_sentences(question: str, text: str, max_chars: int = MAX_EVIDENCE_CHARS) -> list[str]:
    """The best-matching sentence of ``text`` and its neighbours, at most ``max_chars`` long
    (a longer single sentence is kept whole). Sentences addressed to an assistant are left out."""
    sentences = [s for s in split_sentences(text) if not looks_like_instruction(s)]
    if sum(len(s) + 1 for s in sentences) <= max_chars or len(sentences) <= 1:
        return sentences
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
    return sentences[first : last + 1]
