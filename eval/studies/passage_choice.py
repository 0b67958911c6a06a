"""Which passage the reader's answer is taken from, measured on PIAF searched as the product
searches: ``python -m eval passage-choice``.

All PIAF articles are indexed as the eval indexes a SQuAD file (:func:`eval.run.eval_index`);
the questions of the reader's held-out articles (calibration and test, never its training
ones) are searched and read as the chat reads them: each of the ``top_k`` passages gets its
best span (:meth:`rag.answer.reader.Reader.readings`). Then each rule of choice is scored
on the same readings:

- ``ordre``: the best-ranked passage whose confidence reaches the threshold, else the highest
  margin (the rule before :data:`rag.answer.reader.RANK_PENALTY`);
- ``rang λ``: the highest margin less λ per rank (:func:`rag.answer.reader.choose`; λ = 0 is
  the highest margin).

The penalty kept is the one with the best span F1 over both held-out halves; each half's
figures are shown, to see whether they agree. The gold sets (SPF-QR, seeds) are only measured
afterwards, by ``python -m eval``. The figures: span F1 over the questions (a refusal scores
0), the citation precision (the chosen passage is the gold's article's and holds its answer)
and the share answered.

Sets: ``RANK_PENALTY = 2.0`` (``rag/answer/reader.py``): span F1 over both held-out halves 0.397
(the search's order 0.383, the highest margin 0.381; penalties 1.5 to 4 within 0.004 of it).
``python -m eval passage-choice``, 2026-12-04. It still weighs :meth:`rag.answer.reader.Reader.read`
(a yes/no question's sentence, the author box); the answer's sentence is since chosen with the
question's words as well, by :mod:`rag.answer.choice` and its own ``RANK_PENALTY`` (3.0).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from tqdm import tqdm

from eval.answer_metrics import best_over, token_f1
from eval.metrics import normalize_text
from eval.squad import squad_articles
from eval.studies.piaf_examples import SEED, load_piaf, split_articles
from rag.answer.reader import RANK_PENALTY, Reading, choice_score
from rag.config import Settings
from rag.search.evidence import gather_evidence
from rag.search.followup import own_question

PENALTIES = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0)


@dataclass(frozen=True)
class Read:
    """One passage's best span for one question, with what a rule of choice may look at."""

    rank: int  # 0: the passage the search ranks first
    search_score: float
    margin: float
    confidence: float  # from the margin alone (what ``accept`` compares)
    final_confidence: float  # with the answer check's signals (what refuses)
    f1: float  # the span against the gold answers
    supports: bool  # the gold's article, and the passage holds a gold answer


@dataclass(frozen=True)
class Question:
    split: str  # "calibration" or "test"
    question: str
    refused_early: bool  # it names what no passage mentions
    reads: list[Read]


Rule = Callable[[Sequence[Read], float], Read | None]


def penalty_rule(penalty: float) -> Rule:
    """The highest margin less ``penalty`` per rank (:func:`rag.answer.reader.choose`)."""

    def rule(reads: Sequence[Read], accept: float) -> Read | None:
        return max(reads, key=lambda r: choice_score(r.margin, r.rank, penalty), default=None)

    return rule


def order_rule(reads: Sequence[Read], accept: float) -> Read | None:
    """The best-ranked read whose confidence reaches ``accept``, else the highest margin."""
    for read in sorted(reads, key=lambda r: r.rank):
        if read.confidence >= accept:
            return read
    return max(reads, key=lambda r: r.margin, default=None)


def score(questions: Sequence[Question], rule: Rule, accept: float) -> dict[str, float]:
    f1s, answered, supported = [], 0, 0
    for question in questions:
        chosen = None if question.refused_early else rule(question.reads, accept)
        if chosen is None or chosen.final_confidence < accept:
            f1s.append(0.0)
            continue
        answered += 1
        supported += chosen.supports
        f1s.append(chosen.f1)
    n = max(len(questions), 1)
    return {
        "f1": sum(f1s) / n,
        "answered": answered / n,
        "precision": supported / max(answered, 1),
    }


def read_questions(settings: Settings, seed: int) -> list[Question]:
    from eval.run import EvalParts
    from rag.answer.routing import route

    data = load_piaf()
    _, calibration, test = split_articles(data, seed)
    documents, golds = squad_articles(data, "piaf-v1.0.json")
    halves = (("calibration", calibration), ("test", test))
    splits = {documents[i].doc_id: name for name, indices in halves for i in indices}
    parts = EvalParts.load(settings, documents)
    pipeline, reading = parts.pipeline(settings), parts.reading
    asked = [g for g in golds if g.doc_id in splits]
    questions = []
    for gold in tqdm(asked, desc="Lecture", unit="question"):
        _, search = pipeline.search(gold.question)
        if route(own_question(search)) != "reader":
            continue
        passages = pipeline.retrieve(gold.question, (), settings.top_k)
        evidence = gather_evidence(search, passages)
        missing = reading.checker.missing_name(search, evidence)
        coverage = reading.checker.coverage(search, evidence)
        readings: dict[int, Reading] = reading.reader.readings(own_question(search), [p.text for p in passages])
        answers = [normalize_text(a) for a in gold.answers]
        reads = [
            Read(
                rank=index,
                search_score=float(passages[index].score),
                margin=r.margin,
                confidence=r.confidence,
                final_confidence=reading.reader.confidence(r, coverage, missing),
                f1=best_over(token_f1, r.text, gold.answers),
                supports=passages[index].doc_id == gold.doc_id
                and any(a in normalize_text(passages[index].text) for a in answers),
            )
            for index, r in readings.items()
        ]
        questions.append(Question(splits[gold.doc_id], gold.question, missing, reads))
    return questions


def main(argv: list[str]) -> int:
    from rag.components import resolved_min_confidence

    parser = argparse.ArgumentParser(
        prog="python -m eval passage-choice",
        description="Choisir le passage d'où la réponse est lue, mesuré sur PIAF.",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--save", type=str, default=None, help="écrire les lectures (JSON) dans ce fichier")
    parser.add_argument("--load", type=str, default=None, help="relire les lectures écrites par --save")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    accept = resolved_min_confidence(settings)
    if args.load:
        try:
            with open(args.load, encoding="utf-8") as saved:
                questions = [Question(**{**q, "reads": [Read(**r) for r in q["reads"]]}) for q in json.load(saved)]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
            print(f"{args.load} : lectures illisibles ({error}) ; relancez avec --save.", file=sys.stderr)
            return 1
    else:
        questions = read_questions(settings, args.seed)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as out:
            json.dump([asdict(q) for q in questions], out, ensure_ascii=False)
    halves = {name: [q for q in questions if q.split == name] for name in ("calibration", "test")}
    halves["les deux"] = questions
    print(f"seuil {accept:.3f} ; questions lues : " + ", ".join(f"{k} {len(v)}" for k, v in halves.items()))
    print(f"{'règle':<10}" + "".join(f" {'F1 ' + k:>14} {'préc.':>6} {'rép.':>6}" for k in halves))
    rules = [("ordre", order_rule)] + [(f"rang {p:g}", penalty_rule(p)) for p in PENALTIES]
    best = None
    for name, rule in rules:
        figures = {k: score(v, rule, accept) for k, v in halves.items()}
        print(
            f"{name:<10}"
            + "".join(f" {f['f1']:>14.3f} {f['precision']:>6.3f} {f['answered']:>6.3f}" for f in figures.values())
        )
        if name != "ordre" and (best is None or figures["les deux"]["f1"] > best[1] + 1e-9):
            best = (name, figures["les deux"]["f1"])
    print(f"Meilleure pénalité sur les deux moitiés : {best[0]} (F1 {best[1]:.3f}) ; en service : {RANK_PENALTY:g}")
    return 0
