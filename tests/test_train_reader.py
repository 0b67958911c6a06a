"""The reader's training data and calibration: the split, the unanswerable examples and the
labels (eval.studies.piaf_examples, eval.studies.train_reader), the confidence fit (eval.studies.reader_calibration)."""

from __future__ import annotations

import random

import pytest

from eval.studies.piaf_examples import (
    NEGATIVE_SHARE,
    answerable_examples,
    examples_for,
    load_piaf,
    split_articles,
    unanswerable_examples,
)
from eval.studies.train_reader import features_for


@pytest.fixture(scope="module")
def piaf():
    return load_piaf()


def test_the_split_is_by_article_fixed_and_disjoint(piaf):
    train, calibration, test = split_articles(piaf)
    assert (train, calibration, test) == split_articles(piaf)
    assert not set(train) & set(calibration) and not set(train) & set(test) and not set(calibration) & set(test)
    assert len(train) + len(calibration) + len(test) == len(piaf)
    held = sum(len(p["qas"]) for a in calibration + test for p in piaf[a]["paragraphs"])
    assert 600 <= held <= 700  # about 600 questions held out, whole articles


def test_unanswerable_examples_are_mostly_hard_and_really_unanswerable(piaf):
    train, _, _ = split_articles(piaf)
    positives = answerable_examples(piaf, train[:40])
    negatives = unanswerable_examples(piaf, train[:40], positives, random.Random(0))
    share = len(negatives) / (len(negatives) + len(positives))
    assert abs(share - NEGATIVE_SHARE) < 0.02
    kinds = {n.kind for n in negatives}
    assert kinds == {"same_article", "swapped", "other_article"}
    by_question = {p.question: p for p in positives}
    for negative in negatives:
        assert negative.answer == "" and negative.answer_start == -1
        if negative.kind == "same_article":
            original = by_question[negative.question]
            assert original.answer not in negative.context and negative.article == original.article
        if negative.kind == "swapped":
            assert negative.question not in by_question  # a name or a number was replaced
    hard = sum(n.kind != "other_article" for n in negatives) / len(negatives)
    assert hard > 0.6


@pytest.mark.integration
def test_labels_point_at_the_answer_tokens(piaf):
    from transformers import AutoTokenizer

    from rag.config import Settings
    from rag.models.e5_convert import ensure_e5_model

    tokenizer = AutoTokenizer.from_pretrained(str(ensure_e5_model(Settings.from_env().cache)), local_files_only=True)
    train, _, _ = split_articles(piaf)
    examples = examples_for(piaf, train[:5], seed=1)
    features = features_for(tokenizer, examples)
    assert len(features) >= len(examples)
    labelled = 0
    for feature in features:
        example = examples[feature.example]
        if example.answer and feature.start:
            text = tokenizer.decode(feature.input_ids[feature.start : feature.end + 1]).strip()
            assert example.answer.replace(" ", "")[:10] in text.replace(" ", "") or text in example.answer
            labelled += 1
        if not example.answer:
            assert feature.start == feature.end == 0  # <s>: no answer
    assert labelled > 0


def test_the_calibration_learns_from_the_check_too_and_keeps_nine_answerable_in_ten():
    """Unanswerable examples with the same margins as answerable ones but a low coverage: the
    fit gives coverage a positive weight, and the threshold refuses at most 10% of the answerable."""
    from eval.studies.reader_calibration import Scored, calibrate, confidence_of

    rng = random.Random(3)
    scored = [Scored(rng.gauss(4, 2), rng.uniform(0.6, 1), False, 0.9, "x") for _ in range(200)]
    scored += [Scored(rng.gauss(4, 2), rng.uniform(0, 0.4), rng.random() < 0.3, None, "") for _ in range(100)]
    calibration, threshold = calibrate(scored)
    assert calibration.coverage_weight > 0 and calibration.name_weight < 0
    answerable = [confidence_of(calibration, s) < threshold for s in scored if s.f1 is not None]
    unanswerable = [confidence_of(calibration, s) < threshold for s in scored if s.f1 is None]
    assert sum(answerable) / len(answerable) <= 0.10
    assert sum(unanswerable) / len(unanswerable) > 0.8


def test_answerable_questions_refused_for_a_missing_name_spend_the_refusal_budget():
    """The product refuses a question naming what the passages lack, whatever the confidence:
    those count in the 10 % of answerable calibration questions refused, and the threshold
    goes down to make room for them."""
    from eval.studies.reader_calibration import Scored, calibrate, refused

    rng = random.Random(5)
    scored = [Scored(rng.gauss(4, 2), rng.uniform(0.6, 1), False, 0.9, "x") for _ in range(190)]
    scored += [Scored(rng.gauss(6, 1), 1.0, True, 0.9, "x") for _ in range(10)]  # named, yet answerable
    scored += [Scored(rng.gauss(0, 2), rng.uniform(0, 0.4), False, None, "") for _ in range(100)]
    calibration, threshold = calibrate(scored)
    answerable = [refused(calibration, threshold, s) for s in scored if s.f1 is not None]
    assert sum(answerable) <= 20 and all(refused(calibration, threshold, s) for s in scored if s.missing_name)
    without_names = calibrate([s for s in scored if not s.missing_name])[1]
    assert threshold < without_names
