"""Which sentences of a cited passage support the answer: the spans the sources panel highlights.

An answer sentence citing ``[n]`` was either written by the model and checked against
passage ``n`` (its content words are mostly there) or quoted from it word for word. So in
passage ``n`` we mark, for each answer sentence citing it, the passage sentence that holds
the quotation, or the one sharing most of its content words.

>>> from rag.answer.checking import AnswerSentence
>>> from rag.pipeline import Answer
>>> from rag.store.records import Passage
>>> text = "Le ministre salue le projet. OpenAI ouvrira un bureau à Munich. Il recrutera."
>>> passage = Passage(1, "munich", "OpenAI à Munich", None, "x", 0, len(text), text)
>>> sentence = AnswerSentence("OpenAI ouvrira un bureau à Munich.", (1,), 1.0, None)
>>> answer = Answer("q", "OpenAI ouvrira un bureau à Munich [1].", [passage], [1], False, 0.1, 0.2,
...                 sentences=[sentence])
>>> [text[start:end] for start, end in supporting_spans(answer, 1)]
['OpenAI ouvrira un bureau à Munich.']
"""

from __future__ import annotations

from rag.answer.citations import content_words
from rag.pipeline import Answer
from rag.search.evidence import sentence_spans

MIN_OVERLAP = 0.5  # share of an answer sentence's content words a passage sentence must hold


def _squeezed(text: str) -> str:
    return " ".join(text.split())


def supporting_spans(answer: Answer, number: int) -> list[tuple[int, int]]:
    """Character spans in ``answer.passages[number - 1].text`` of the sentences that support
    the answer sentences citing ``[number]``, in text order, without duplicates."""
    if not 1 <= number <= len(answer.passages):
        return []
    text = answer.passages[number - 1].text
    spans = sentence_spans(text)
    words = [content_words(text[start:end]) for start, end in spans]
    chosen: set[tuple[int, int]] = set()
    for sentence in answer.sentences:
        if number not in sentence.citations:
            continue
        if sentence.origin == "quote":
            quoted = _squeezed(sentence.text).rstrip(".!?…")
            chosen.update(span for span in spans if quoted and quoted in _squeezed(text[span[0] : span[1]]))
            continue
        wanted = content_words(sentence.text)
        if not wanted:
            continue
        shares = [len(wanted & found) / len(wanted) for found in words]
        best = max(range(len(spans)), key=lambda i: shares[i], default=None)
        if best is not None and shares[best] >= MIN_OVERLAP:
            chosen.add(spans[best])
    return sorted(chosen)
