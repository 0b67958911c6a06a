"""The answer check's coverage floor, calibrated on held-out PIAF.

``python -m eval coverage-floor [--max-refused 0.03] [--json]``

Before a yes/no question, an open question or the LLM's quotation reads the evidence, the check
refuses when the passages shown hold less than ``MIN_COVERAGE`` of the question's own terms
(:meth:`rag.answer.checking.AnswerChecker.coverage`); on the reader's path the coverage is one
of the refusal model's features instead (:mod:`rag.answer.refusal`).
That floor was first set at 0.5 by looking at the seeds gold set, an eval set of the product;
this command sets it on PIAF instead, on the reader's calibration articles
(:func:`eval.studies.piaf_examples.split_articles`, never seen in training), with the same answerable
and unanswerable examples as the reader's confidence (:mod:`eval.studies.reader_calibration`).

The floor is the highest that refuses at most ``--max-refused`` of the answerable calibration
questions: the coverage gate is a first, coarse refusal, and the reader's calibrated confidence
keeps most of the answerable-refused budget (10 %). The figures at that floor are then measured
on the test articles, by kind of unanswerable example.

The coverage is computed over what the product would show: three passages (``SHOWN``), here the
example's paragraph and the next paragraphs of the same article, as a search over news finds
neighbouring passages of the article that holds the answer. For a *same article* example, none
of the three holds the answer; for an *other article* one, all three come from that other
article.

Sets: ``MIN_COVERAGE = 0.15`` (``rag/answer/checking.py``; ``DEPECHE_MIN_COVERAGE``): the
highest floor refusing at most 3 % of the answerable calibration questions; on the test
articles it refuses 4.0 % of the answerable and 37.7 % of the unanswerable ones (0.5, the
floor it replaced, refused 22 % of the answerable). ``python -m eval coverage-floor``, 2026-12-04.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from eval.studies.piaf_examples import (
    NEGATIVE_KINDS,
    SEED,
    Example,
    examples_for,
    load_piaf,
    shown_evidence,
    split_articles,
)

MAX_ANSWERABLE_REFUSED = 0.03
SHOWN = 3  # passages the product shows (DEPECHE_TOP_K)
STEP = 0.05
GRID = [round(i * STEP, 2) for i in range(round(1 / STEP) + 1)]  # 0, 0.05, … 1


@dataclass(frozen=True)
class Covered:
    """One example: the share of its question's terms its paragraph holds, and its kind."""

    coverage: float
    kind: str  # "answerable", or how the unanswerable example was made


@dataclass(frozen=True)
class FloorFigures:
    floor: float
    answerable_refused: float
    unanswerable_refused: float
    by_kind: dict[str, float]  # unanswerable refused, by how the example was made


@dataclass(frozen=True)
class CoverageCalibration:
    floor: float
    max_answerable_refused: float
    calibration: FloorFigures  # on the calibration articles
    test: FloorFigures  # on the test articles, at the same floor
    sweep: list[FloorFigures]  # the calibration articles at every floor from 0 to 1
    examples: dict[str, int]  # calibration and test examples


def shown_paragraphs(data: list[dict], example: Example, answers: dict[tuple[str, int], str]) -> list[str]:
    """The example's paragraph, then the next ones of its article (wrapping round) up to ``SHOWN``,
    leaving out those that hold the answer when the example must not have one."""

    def holds(article: int) -> bool:
        return any(p["context"] == example.context for p in data[article]["paragraphs"])

    article = next((a for a in (example.article, *range(len(data))) if holds(a)), example.article)
    contexts = [p["context"] for p in data[article]["paragraphs"]]
    start = contexts.index(example.context) if example.context in contexts else 0
    answer = answers.get((example.question, example.article), "") if example.kind == "same_article" else ""
    shown = [example.context]
    for context in contexts[start + 1 :] + contexts[:start]:
        if len(shown) == SHOWN:
            break
        if context != example.context and not (answer and answer in context):
            shown.append(context)
    return shown


def covered(data: list[dict], examples: Sequence[Example]) -> list[Covered]:
    """Each example's coverage over what the product would show, computed as the product does."""
    from rag.answer.checking import AnswerChecker

    checker = AnswerChecker()
    answers = {(e.question, e.article): e.answer for e in examples if e.kind == "answerable"}
    out = []
    for example in examples:
        shown = shown_paragraphs(data, example, answers)
        evidence = shown_evidence(example.question, data[example.article].get("title", ""), shown)
        out.append(Covered(checker.coverage(example.question, evidence), example.kind))
    return out


def figures_at(floor: float, examples: Sequence[Covered]) -> FloorFigures:
    """What a coverage floor refuses: answerable, unanswerable, and unanswerable by kind.

    >>> f = figures_at(0.5, [Covered(0.4, "answerable"), Covered(0.6, "answerable"), Covered(0.2, "swapped")])
    >>> f.answerable_refused, f.unanswerable_refused, f.by_kind["swapped"]
    (0.5, 1.0, 1.0)
    """

    def refused(chosen: list[Covered]) -> float:
        return round(float(np.mean([c.coverage < floor for c in chosen])), 4) if chosen else 0.0

    unanswerable = [c for c in examples if c.kind != "answerable"]
    return FloorFigures(
        floor=round(floor, 2),
        answerable_refused=refused([c for c in examples if c.kind == "answerable"]),
        unanswerable_refused=refused(unanswerable),
        by_kind={kind: refused([c for c in unanswerable if c.kind == kind]) for kind in NEGATIVE_KINDS},
    )


def sweep(examples: Sequence[Covered]) -> list[FloorFigures]:
    """What every floor of the grid (0 to 1 by ``STEP``) refuses."""
    return [figures_at(floor, examples) for floor in GRID]


def choose_floor(rows: Sequence[FloorFigures], max_refused: float = MAX_ANSWERABLE_REFUSED) -> FloorFigures:
    """The row of the highest floor that refuses at most ``max_refused`` of the answerable
    examples.

    >>> choose_floor(sweep([Covered(c, "answerable") for c in (0.3, 0.6, 0.7, 0.8)]), max_refused=0.25).floor
    0.6
    >>> choose_floor(sweep([Covered(0.0, "answerable")]), max_refused=0.0).floor
    0.0
    """
    return max((row for row in rows if row.answerable_refused <= max_refused), key=lambda row: row.floor)


def calibrate(
    calibration: Sequence[Covered], test: Sequence[Covered], max_refused: float = MAX_ANSWERABLE_REFUSED
) -> CoverageCalibration:
    rows = sweep(calibration)
    chosen = choose_floor(rows, max_refused)
    return CoverageCalibration(
        floor=chosen.floor,
        max_answerable_refused=max_refused,
        calibration=chosen,
        test=figures_at(chosen.floor, test),
        sweep=rows,
        examples={"calibration": len(calibration), "test": len(test)},
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval coverage-floor", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--max-refused",
        type=float,
        default=MAX_ANSWERABLE_REFUSED,
        help="part des questions avec réponse que le plancher peut refuser",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data = load_piaf()
    _, calibration_articles, test_articles = split_articles(data, SEED)
    result = calibrate(
        covered(data, examples_for(data, calibration_articles, SEED + 1)),
        covered(data, examples_for(data, test_articles, SEED + 2)),
        args.max_refused,
    )
    if args.json:
        print(json.dumps(asdict(result), ensure_ascii=False))
        return 0
    print("plancher  avec réponse refusées  sans réponse refusées  " + "  ".join(NEGATIVE_KINDS))
    for row in result.sweep:
        kinds = "  ".join(f"{row.by_kind[k]:.3f}".rjust(len(k)) for k in NEGATIVE_KINDS)
        mark = "  <-" if row.floor == result.floor else ""
        print(f"{row.floor:>8.2f}  {row.answerable_refused:>21.3f}  {row.unanswerable_refused:>21.3f}  {kinds}{mark}")
    test = result.test
    print(
        f"\nPlancher de couverture {result.floor} (au plus {result.max_answerable_refused:.0%} des questions avec "
        f"réponse refusées, {result.examples['calibration']} exemples de calibration) ; sur les "
        f"{result.examples['test']} exemples de test : {test.answerable_refused:.1%} des questions avec réponse "
        f"refusées, {test.unanswerable_refused:.1%} des sans-réponse "
        f"({', '.join(f'{k} {v:.1%}' for k, v in test.by_kind.items())})."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
