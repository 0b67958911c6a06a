"""The reader's confidence, calibrated on held-out PIAF, and its held-out figures.

A logistic regression maps the reader's margin (best span score minus no-answer score), with
what the answer check knows (the share of the question's terms the paragraph holds, and
whether the question names something it does not mention), to the probability that the
reading is right: an answerable question whose span has F1 ≥ 0.5 with the gold answer. The
refusal threshold is the highest confidence that refuses at most ``MAX_ANSWERABLE_REFUSED``
of the answerable calibration questions, counting as refused those that name something the
paragraph does not mention: the product refuses them whatever the confidence
(:class:`rag.answer.reading.ReadingAnswerer`), so they spend part of that budget.

Sets: the reader's confidence (slope, intercept, coverage and name weights) and its refusal
threshold 0.164, written in the manifest ``rag/answer/weights/e5-small-piaf-reader.json``
(``calibration``, ``threshold``), with ``MAX_ANSWERABLE_REFUSED = 0.10`` here. Held-out
figures: span F1 0.501, exact match 0.308, no-answer AUC 0.920; 17.0 % of answerable and
88.8 % of unanswerable examples refused. ``python -m eval train-reader --calibrate-only``,
2026-12-04.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from eval.answer_metrics import exact_match, token_f1
from eval.studies.piaf_examples import NEGATIVE_KINDS, Example, examples_for, shown_evidence
from rag.answer.reader import Calibration

MAX_ANSWERABLE_REFUSED = 0.10


@dataclass(frozen=True)
class Scored:
    """One held-out example as read: the reader's margin, what the answer check knows, and
    the span's F1 (None when the example has no answer)."""

    margin: float
    coverage: float  # share of the question's terms in the paragraph and its title
    missing_name: bool  # the question names something the paragraph does not mention
    f1: float | None
    text: str


def scored_examples(reader_like, data: list[dict], examples: Sequence[Example]) -> list[Scored]:
    """Each example read over its own paragraph (its article's title as the passage's title),
    and checked as the product checks 3 passages (:class:`rag.answer.checking.AnswerChecker`)."""
    from rag.answer.checking import AnswerChecker

    checker = AnswerChecker()
    out = []
    for example in tqdm(examples, desc="Lecture", unit="q", leave=False):
        evidence = shown_evidence(example.question, data[example.article].get("title", ""), [example.context])
        coverage = checker.coverage(example.question, evidence)
        missing = checker.missing_name(example.question, evidence)
        reading = reader_like.read(example.question, [example.context])
        if reading is None:
            out.append(Scored(-100.0, coverage, missing, 0.0 if example.answer else None, ""))
            continue
        f1 = token_f1(reading.text, example.answer) if example.answer else None
        out.append(Scored(reading.margin, coverage, missing, f1, reading.text))
    return out


def calibrate(scored: Sequence[Scored]) -> tuple[Calibration, float]:
    """The logistic fit of (margin, coverage, missing name) -> right answer (an answerable
    question whose span has F1 >= 0.5), and the refusal threshold: the highest confidence that
    refuses at most ``MAX_ANSWERABLE_REFUSED`` of the answerable calibration questions, those
    refused for a missing name included."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([[s.margin, s.coverage, float(s.missing_name)] for s in scored])
    y = np.array([s.f1 is not None and s.f1 >= 0.5 for s in scored])
    fit = LogisticRegression(C=1.0).fit(x, y)
    slope, coverage_weight, name_weight = (float(w) for w in fit.coef_[0])
    calibration = Calibration(slope, float(fit.intercept_[0]), coverage_weight, name_weight)
    answerable = [s for s in scored if s.f1 is not None]
    budget = int(MAX_ANSWERABLE_REFUSED * len(answerable)) - sum(s.missing_name for s in answerable)
    rest = sorted(confidence_of(calibration, s) for s in answerable if not s.missing_name)
    threshold = rest[min(max(0, budget), len(rest) - 1)]  # with the named ones, refuses at most that share
    return calibration, float(threshold)


def refused(calibration: Calibration, threshold: float, scored: Scored) -> bool:
    """Whether the product refuses this reading: a name the paragraph lacks, or too little confidence."""
    return scored.missing_name or confidence_of(calibration, scored) < threshold


def confidence_of(calibration: Calibration, scored: Scored) -> float:
    return calibration.probability(scored.margin, scored.coverage, scored.missing_name)


def figures(scored: Sequence[Scored], examples: Sequence[Example], calibration: Calibration, threshold: float) -> dict:
    """Span F1 and EM on the answerable examples; the no-answer AUC of the margin alone and of
    the combined confidence; refusals at the threshold, by kind of unanswerable example."""
    from sklearn.metrics import roc_auc_score

    pairs = list(zip(scored, examples, strict=True))
    answerable = [(s, e) for s, e in pairs if s.f1 is not None]
    unanswerable = [(s, e) for s, e in pairs if s.f1 is None]
    refusals = [refused(calibration, threshold, s) for s, _ in pairs]
    labels = [s.f1 is not None for s, _ in pairs]

    def share(chosen):
        return round(float(np.mean([refusals[i] for i in chosen])), 4) if chosen else None

    result = {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "span_f1": round(float(np.mean([s.f1 for s, _ in answerable])), 4),
        "span_em": round(float(np.mean([exact_match(s.text, e.answer) for s, e in answerable])), 4),
        "no_answer_auc.margin": round(float(roc_auc_score(labels, [s.margin for s, _ in pairs])), 4),
        "no_answer_auc": round(float(roc_auc_score(labels, [confidence_of(calibration, s) for s, _ in pairs])), 4),
        "answerable_refused": share([i for i, (s, _) in enumerate(pairs) if s.f1 is not None]),
        "unanswerable_refused": share([i for i, (s, _) in enumerate(pairs) if s.f1 is None]),
    }
    for kind in NEGATIVE_KINDS:
        result[f"unanswerable_refused.{kind}"] = share([i for i, (_, e) in enumerate(pairs) if e.kind == kind])
    return result


def calibrated(reader, data, calibration_articles, test_articles, seed: int) -> tuple[Calibration, float, dict]:
    """Fit the confidence and the threshold on the calibration articles; measure on the test ones."""
    calibration_examples = examples_for(data, calibration_articles, seed + 1)
    calibration, threshold = calibrate(scored_examples(reader, data, calibration_examples))
    logging.info("calibration %s, threshold %.4f", calibration, threshold)
    test_examples = examples_for(data, test_articles, seed + 2)
    held = figures(scored_examples(reader, data, test_examples), test_examples, calibration, threshold)
    logging.info("held-out PIAF test: %s", held)
    return calibration, threshold, held
