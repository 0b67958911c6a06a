"""Evidence for an open question: the sentences that answer it, gathered across articles.

«Pourquoi…», «Comment…», «Que s'est-il passé…», «Résume…», «Quels sont les principaux…»: no
span answers these, and no single sentence either. The reader reads every sentence of the
top passages (:meth:`rag.answer.reader.Reader.sentence_readings`), each is scored as the
reader path scores them (its span probability mass plus the share of the question's rare
words it holds, less a penalty per rank: :func:`rag.answer.choice.rank_sentences`), and the
best are kept, at most :data:`PER_ARTICLE` from one article, none that repeats one kept
before (a wire run by three outlets is kept once), none far below the best (:data:`GAP`), no
heading and no half sentence. What is kept, in the order of the
articles and of their text, is the evidence the writer is shown (:mod:`rag.answer.writing`)
and the answer when it writes nothing worth keeping (:func:`compose_evidence`).

>>> from rag.answer.choice import Choice
>>> from rag.answer.reader import Reading
>>> text = "Les routiers bloquent le dépôt. Ils dénoncent la taxe sur le gazole. Il pleut."
>>> p = Passage(1, "a", "T", None, "", 0, len(text), text)
>>> def choice(sentence, score):
...     s = text.index(sentence)
...     return Choice(Reading(0, s, s + 3, sentence[:3], 0, 0, 0, (s, s + len(sentence))), 0, 0.5, 0.5, score)
>>> kept = gather([choice("Ils dénoncent la taxe sur le gazole.", 6.0), choice("Les routiers bloquent le dépôt.", 4.0),
...                choice("Il pleut.", -9.0)], [p])
>>> [g.text for g in kept]
['Les routiers bloquent le dépôt.', 'Ils dénoncent la taxe sur le gazole.']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.checking import AnswerSentence
from rag.answer.choice import Choice
from rag.answer.citations import content_words
from rag.answer.compose import Composition
from rag.search.evidence import Evidence
from rag.store.records import Passage

# Measured on the open set's first half (eval/gold/open.jsonl, docs/answering.md): 5 -> 8
# sentences took key-point recall 0.20 -> 0.27; every sentence of 10 passages holds 0.70.
MOST = 8  # sentences kept
# From one article at most. Key points gather in few articles (a summary's in one): a cap of 3
# held recall to 0.27, of 6 it is 0.34 (8 sentences, 1,090 characters at the median).
PER_ARTICLE = 6
# A sentence scored this far below the best says something else (8: 0.27, 12: 0.34, 20: 0.355
# in 1,270 characters).
GAP = 12.0
REPEAT_SHARE = 0.6  # of a sentence's content words already in a kept one: it says the same again
MIN_WORDS = 3  # content words a sentence needs to say something (not «Il pleut.»)
# A sentence ends with its punctuation: a line without is a heading («Un bureau à Munich pour
# consolider sa position»), and a passage's last words before its cut are half a sentence.
_ENDED = re.compile(r"[.!?…»\"]\W*$")


@dataclass(frozen=True)
class Gathered:
    """One sentence of the evidence: its passage (index among those read) and where it stands."""

    passage: int
    start: int
    end: int
    text: str
    score: float


def gather(
    ranked: Sequence[Choice],
    passages: Sequence[Passage],
    *,
    most: int = MOST,
    per_article: int = PER_ARTICLE,
    gap: float = GAP,
) -> list[Gathered]:
    """The sentences of ``ranked`` (best first) kept as evidence, in the passages' order and
    then the text's; see the module's docstring."""
    kept: list[Gathered] = []
    said: list[set[str]] = []
    per_doc: dict[str, int] = {}
    best: float | None = None  # the best sentence's score: a heading's is no measure
    for choice in ranked:
        reading = choice.reading
        passage = passages[reading.passage]
        start, end = reading.sentence or (reading.start, reading.end)
        text = passage.text[start:end].strip()
        words = content_words(text)
        if len(words) < MIN_WORDS or not _ENDED.search(text):
            continue
        best = choice.score if best is None else best
        if len(kept) >= most or choice.score < best - gap:
            break
        if per_doc.get(passage.doc_id, 0) >= per_article:
            continue
        if any(len(words & other) >= REPEAT_SHARE * len(words) for other in said):
            continue
        kept.append(Gathered(reading.passage, start, end, text, choice.score))
        said.append(words)
        per_doc[passage.doc_id] = per_doc.get(passage.doc_id, 0) + 1
    return sorted(kept, key=lambda g: (g.passage, g.start))


def as_evidence(gathered: Sequence[Gathered], passages: Sequence[Passage]) -> tuple[list[Passage], list[Evidence]]:
    """The passages the gathered sentences come from (marker [n] is the n-th, in the search's
    order) and each one's evidence: the sentences kept from it."""
    shown: list[Passage] = []
    sentences: dict[int, list[str]] = {}
    for item in gathered:
        if item.passage not in sentences:
            shown.append(passages[item.passage])
            sentences[item.passage] = []
        sentences[item.passage].append(item.text)
    evidence = [Evidence(n, p, sentences[i]) for n, (i, p) in enumerate(zip(sentences, shown, strict=True), 1)]
    return shown, evidence


EVIDENCE_HEADING = "Selon les articles :"


def compose_evidence(gathered: Sequence[Gathered], passages: Sequence[Passage], note: str = "") -> Composition:
    """The evidence itself as the answer: one quotation a line, each with its marker, under a
    heading (and ``note``, one line saying why the writer's prose is not shown, when it failed).

    >>> text = "Les routiers bloquent le dépôt. Ils dénoncent la taxe sur le gazole."
    >>> p = Passage(1, "a", "T", None, "", 0, len(text), text)
    >>> kept = [Gathered(0, 0, 31, text[:31], 1.0), Gathered(0, 32, len(text), text[32:], 1.0)]
    >>> print(compose_evidence(kept, [p]).text)
    Selon les articles :
    - « Les routiers bloquent le dépôt. » [1]
    - « Ils dénoncent la taxe sur le gazole. » [1]
    """
    order = list(dict.fromkeys(g.passage for g in gathered))
    number = {index: n for n, index in enumerate(order, 1)}
    lines = [note] if note else []
    lines.append(EVIDENCE_HEADING)
    sentences = []
    for item in gathered:
        lines.append(f"- « {item.text} » [{number[item.passage]}]")
        sentences.append(AnswerSentence(item.text, (number[item.passage],), 1.0, None, origin="quote"))
    return Composition(
        "\n".join(lines),
        "",
        sentences,
        list(dict.fromkeys(number[g.passage] for g in gathered)),
        tuple((number[g.passage], g.start, g.end) for g in gathered),
    )
