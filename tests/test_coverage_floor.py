"""The answer check's coverage floor, calibrated on held-out PIAF (eval.studies.coverage_floor)."""

from __future__ import annotations

from eval.studies.coverage_floor import SHOWN, Covered, calibrate, choose_floor, covered, shown_paragraphs, sweep
from eval.studies.piaf_examples import Example

ARTICLES = [
    {
        "title": "Munich",
        "paragraphs": [
            {"context": "OpenAI ouvre un bureau à Munich en 2025."},
            {"context": "Le ministre Hubert Aiwanger salue l'arrivée de l'entreprise."},
            {"context": "La Bavière compte de nombreuses entreprises industrielles."},
            {"context": "Le datacenter européen servira ChatGPT et son API."},
        ],
    },
    {"title": "Blé", "paragraphs": [{"context": "La récolte de blé a baissé cette année en Beauce."}]},
]
QUESTION = "Où OpenAI ouvre-t-il un bureau en 2025 ?"


def test_the_product_is_shown_the_paragraph_and_the_next_ones_of_its_article():
    example = Example(QUESTION, ARTICLES[0]["paragraphs"][3]["context"], "", -1, "swapped", 0)
    shown = shown_paragraphs(ARTICLES, example, {})
    assert len(shown) == SHOWN and shown[0] == example.context
    assert shown[1:] == [ARTICLES[0]["paragraphs"][0]["context"], ARTICLES[0]["paragraphs"][1]["context"]]


def test_a_same_article_example_is_never_shown_the_paragraph_that_holds_the_answer():
    example = Example(QUESTION, ARTICLES[0]["paragraphs"][1]["context"], "", -1, "same_article", 0)
    shown = shown_paragraphs(ARTICLES, example, {(QUESTION, 0): "Munich"})
    assert not any("Munich" in text for text in shown)
    assert len(shown) == SHOWN


def test_an_other_article_example_is_shown_that_other_article_only():
    example = Example(QUESTION, ARTICLES[1]["paragraphs"][0]["context"], "", -1, "other_article", 0)
    assert shown_paragraphs(ARTICLES, example, {}) == [ARTICLES[1]["paragraphs"][0]["context"]]


def test_coverage_is_what_the_check_computes_over_the_shown_passages():
    answerable = Example(QUESTION, ARTICLES[0]["paragraphs"][0]["context"], "Munich", 26, "answerable", 0)
    other = Example(QUESTION, ARTICLES[1]["paragraphs"][0]["context"], "", -1, "other_article", 0)
    on_topic, off_topic = covered(ARTICLES, [answerable, other])
    assert on_topic.coverage == 1.0 and on_topic.kind == "answerable"
    assert off_topic.coverage == 0.0 and off_topic.kind == "other_article"


def test_the_floor_refuses_at_most_the_allowed_share_of_answerable_examples_and_is_measured_apart():
    calibration = [Covered(c, "answerable") for c in (0.1, 0.4, 0.5, 0.6, 0.8, 0.9, 1.0, 1.0, 1.0, 1.0)]
    calibration += [Covered(c, "same_article") for c in (0.0, 0.2, 0.45)]
    test = [Covered(0.3, "answerable"), Covered(0.9, "answerable"), Covered(0.2, "swapped")]
    assert choose_floor(sweep(calibration), max_refused=0.1).floor == 0.4
    result = calibrate(calibration, test, max_refused=0.1)
    assert result.floor == 0.4
    assert result.calibration.answerable_refused == 0.1
    assert result.calibration.by_kind["same_article"] == round(2 / 3, 4)
    assert result.test.answerable_refused == 0.5 and result.test.by_kind["swapped"] == 1.0
    assert [row.floor for row in result.sweep][:3] == [0.0, 0.05, 0.1]
