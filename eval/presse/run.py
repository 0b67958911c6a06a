"""The newsroom gold set asked through the full pipeline, as the chat asks, and scored.

Per question (:class:`PresseResult`): the answer and its path, whether it is right
(:func:`eval.presse.scoring.is_right`), its F1, whether it cites an article that holds the
gold, whether the search put such an article in its top 5, whether a «qui», «combien» or
«quand» question got the wrong kind of words, and the time. :func:`summary` turns a list
of results into the figures of one column of the report; :func:`by_kind` and
:func:`by_path` into its tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from tqdm import tqdm

from eval.answer_metrics import token_f1
from eval.metrics import percentile
from eval.presse.gold import PresseItem
from eval.presse.scoring import is_right, type_error
from rag.pipeline import Answer, Pipeline

SEARCH_DEPTH = 5


@dataclass(frozen=True)
class PresseResult:
    id: str
    half: int | None
    kind: str
    answerable: bool
    question: str
    history: tuple[str, ...]
    gold: str
    answer: str
    short: str
    span: str  # the short answer as the passage writes it (read paths), "" otherwise
    path: str
    refused: bool
    right: bool | None  # answerable questions only
    f1: float | None
    cited: tuple[str, ...]  # the articles the answer cites, in order
    gold_cited: bool | None  # an answered answerable question: a cited article holds the gold
    searched: bool | None  # answerable: an article holding the gold among the search's first SEARCH_DEPTH
    type_error: bool | None
    confidence: float | None
    scope: str
    seconds: float

    def as_json(self) -> dict:
        return asdict(self)


def first_span(answer: Answer) -> str:
    """The first span of a read answer, as its passage writes it."""
    for marker, start, end in answer.spans:
        if 0 < marker <= len(answer.passages):
            return answer.passages[marker - 1].text[start:end]
    return ""


def score(item: PresseItem, answer: Answer, searched: Sequence[str]) -> PresseResult:
    cited = tuple(dict.fromkeys(p.doc_id for p in answer.cited_passages))
    short = answer.short or answer.text
    span = first_span(answer)
    answerable = item.answerable
    return PresseResult(
        id=item.id,
        half=item.half,
        kind=item.kind,
        answerable=answerable,
        question=item.question,
        history=item.history,
        gold=item.answer,
        answer=answer.text,
        short=answer.short,
        span=span,
        path=answer.path,
        refused=answer.refused,
        right=(not answer.refused and is_right(item.kind, item.answer, answer.short, answer.text))
        if answerable
        else None,
        f1=(0.0 if answer.refused else token_f1(short, item.answer)) if answerable else None,
        cited=cited,
        gold_cited=any(doc in item.doc_ids for doc in cited) if answerable and not answer.refused else None,
        searched=any(doc in item.doc_ids for doc in searched) if answerable else None,
        type_error=None if answer.refused else type_error(item.kind, span or answer.short),
        confidence=answer.confidence,
        scope=answer.scope,
        seconds=answer.total_s,
    )


def ask_all(items: Sequence[PresseItem], pipeline: Pipeline, *, progress: bool = True) -> list[PresseResult]:
    results = []
    for item in tqdm(items, desc="Questions", unit="question", disable=not progress):
        searched = [p.doc_id for p in pipeline.retrieve(item.question, item.history, SEARCH_DEPTH)]
        answer = pipeline.answer(item.question, item.history)
        results.append(score(item, answer, searched))
    return results


def _rate(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def summary(results: Sequence[PresseResult]) -> dict[str, float | int | None]:
    """The figures of one column: counts, rates, latency."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in answerable if not r.refused]
    typed = [r.type_error for r in results if r.type_error is not None]
    seconds = [r.seconds for r in results]
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answerable.right": _rate([bool(r.right) for r in answerable]),
        "answerable.f1": _rate([r.f1 for r in answerable]) if answerable else None,
        "answerable.gold_cited": _rate([bool(r.gold_cited) for r in answered]),
        "answerable.refused": _rate([r.refused for r in answerable]),
        "unanswerable.refused": _rate([r.refused for r in unanswerable]),
        "search.gold_in_top5": _rate([bool(r.searched) for r in answerable]),
        "type_errors": sum(typed),
        "typed_answers": len(typed),
        "latency.p50_s": percentile(seconds, 50) if seconds else None,
        "latency.p95_s": percentile(seconds, 95) if seconds else None,
    }


def by_kind(results: Sequence[PresseResult]) -> dict[str, dict[str, float | int | None]]:
    """Per kind: answerable questions right, unanswerable ones refused, and both together (the
    share of the kind's questions the bot got right, answering or refusing)."""
    table = {}
    for kind in sorted({r.kind for r in results}):
        group = [r for r in results if r.kind == kind]
        answerable = [r for r in group if r.answerable]
        unanswerable = [r for r in group if not r.answerable]
        table[kind] = {
            "answerable": len(answerable),
            "right": _rate([bool(r.right) for r in answerable]),
            "unanswerable": len(unanswerable),
            "refused": _rate([r.refused for r in unanswerable]),
            "overall": _rate([bool(r.right) if r.answerable else r.refused for r in group]),
        }
    return table


def by_path(results: Sequence[PresseResult]) -> dict[str, dict[str, float | int | None]]:
    table = {}
    for path in sorted({r.path for r in results}):
        group = [r for r in results if r.path == path]
        answerable = [r for r in group if r.answerable]
        table[path] = {
            "questions": len(group),
            "right": _rate([bool(r.right) for r in answerable]),
            "refused": _rate([r.refused for r in group]),
            "latency.p50_s": percentile([r.seconds for r in group], 50),
        }
    return table
