"""What the answer path does at a newsroom's scale: the sentence chosen among passages, the
refusal model, figures that sources disagree on, repeated wires, causes answered with their
sentence. Scripted readers and fake stores; the real models are in test_integration.py."""

from __future__ import annotations

import json

import pytest

from rag.answer.checking import AnswerChecker
from rag.answer.choice import Overlap, rank_sentences
from rag.answer.compose import compose_span
from rag.answer.figures import figures_in
from rag.answer.reader import Reading
from rag.answer.reading import ReadingAnswerer
from rag.answer.refusal import FEATURES, REFUSAL_MODEL, RefusalModel
from rag.errors import ModelLoadError
from rag.search.evidence import gather_evidence
from rag.search.keyword import FrenchAnalyzer
from rag.search.repeats import cite_repeats, distinct
from rag.store.records import Passage
from tests.fakes import FakeGenerator


def passage(n: int, doc: str, text: str, title: str = "Gilets jaunes") -> Passage:
    return Passage(n, doc, title, "2018-11-18", "x", 0, len(text), text)


def reading_of(index: int, text: str, span: str, mass: float, margin: float = 5.0) -> Reading:
    start = text.index(span)
    sentence = next((s, e) for s, e in _sentences(text) if s <= start < e)
    return Reading(index, start, start + len(span), span, margin, 0.0, 0.5, sentence=sentence, mass=mass)


def _sentences(text: str):
    from rag.search.evidence import sentence_spans

    return sentence_spans(text)


class SentenceReader:
    """Scripted readings, one per (passage, span): what Reader.sentence_readings returns."""

    def __init__(self, spans: list[tuple[int, str, float]]) -> None:
        self.spans = spans

    def sentence_readings(self, question: str, passages):
        return [reading_of(i, passages[i], span, mass) for i, span, mass in self.spans if i < len(passages)]

    def confidence(self, reading, coverage: float, missing_name: bool) -> float:
        return 0.9


def test_the_sentence_sharing_the_question_words_wins_when_the_reader_hesitates():
    texts = [
        "Samedi, une douzaine de manifestants ont bloqué le rond-point. Le préfet a salué leur calme.",
        "Le commissaire Noël Fayet a été roué de coups à Valence, selon le parquet.",
    ]
    passages = [passage(1, "a", texts[0]), passage(2, "b", texts[1])]
    readings = [reading_of(0, texts[0], "douzaine", mass=6.0), reading_of(1, texts[1], "Noël Fayet", mass=4.5)]
    overlap = Overlap(FrenchAnalyzer(), "Quel commissaire a été roué de coups à Valence ?")
    ranked = rank_sentences(readings, passages, overlap)
    assert ranked[0].reading.text == "Noël Fayet" and ranked[0].sentence_share == 1.0
    assert ranked[1].sentence_share == 0.0


def test_rare_terms_weigh_more_when_the_index_gives_their_weights():
    weights = {"valenc": 5.0, "coup": 1.0}
    overlap = Overlap(FrenchAnalyzer(), "Combien de coups à Valence ?", lambda terms: weights)
    assert overlap.share("À Valence, rien.") == pytest.approx(5 / 6)
    assert overlap.share("Des coups, ailleurs.") == pytest.approx(1 / 6)


def test_the_refusal_model_weighs_every_feature_and_fails_in_one_line(tmp_path):
    model = RefusalModel.load()  # the committed one
    assert set(model.weights) == set(FEATURES) and 0 < model.threshold < 1
    saved = json.loads(REFUSAL_MODEL.read_text())
    assert saved["command"] == "python -m eval refusal --write" and "presse-1" in saved["figures"]
    broken = tmp_path / "refusal.json"
    broken.write_text('{"weights": {}}')
    with pytest.raises(ModelLoadError, match="refusal.json absent ou illisible : relancez `python -m eval refusal`"):
        RefusalModel.load(broken)


def answerer(spans, **options) -> ReadingAnswerer:
    return ReadingAnswerer(SentenceReader(spans), FakeGenerator(), AnswerChecker(), min_confidence=0.5, **options)


def answer(reading: ReadingAnswerer, question: str, passages: list[Passage]):
    return reading.answer(question, passages, gather_evidence(question, passages))


def test_figures_that_sources_disagree_on_are_each_given_with_their_sentence():
    texts = [
        "À Troyes, une centaine de personnes se sont introduites dans la préfecture, a déclaré la police.",
        "A Troyes, environ 200 manifestants se sont introduits dans la préfecture, selon un communiqué.",
    ]
    passages = [passage(1, "figaro", texts[0]), passage(2, "afp", texts[1])]
    read = answer(
        answerer([(0, "une centaine", 6.0), (1, "environ 200", 5.5)]),
        "Combien de manifestants se sont introduits dans la préfecture de Troyes ?",
        passages,
    )
    composed = read.composition
    assert sorted(composed.short.lower().split(" ; ")) == ["environ 200", "une centaine"]
    assert sorted(composed.citations) == [1, 2]
    assert "Selon [1] : « À Troyes, une centaine" in composed.text
    assert "Selon [2] : « A Troyes, environ 200" in composed.text
    # a question that names its source asks for one figure
    one = answer(
        answerer([(0, "une centaine", 6.0), (1, "environ 200", 5.5)]),
        "Selon la police, combien de manifestants se sont introduits dans la préfecture de Troyes ?",
        passages,
    )
    assert " ; " not in one.composition.short


def test_the_same_figure_in_two_articles_is_no_disagreement():
    texts = [
        "Samedi, 450 arrestations administratives ont été effectuées à Bruxelles par la police.",
        "La police a procédé samedi à 450 arrestations administratives à Bruxelles.",
    ]
    passages = [passage(1, "dh", texts[0]), passage(2, "libre", texts[1])]
    read = answer(answerer([(0, "450", 6.0), (1, "450", 5.8)]), "Combien d'arrestations à Bruxelles samedi ?", passages)
    assert read.composition.short == "450" and read.composition.citations == [1]


def test_a_repeated_wire_is_read_once_and_cited_with_the_others_named():
    quoted = "Vingt personnes ont été interpellées samedi à Paris, selon la préfecture de police."
    ranked = [
        passage(1, "figaro", f"Bilan de la journée. {quoted}"),
        passage(2, "point", f"Autre titre. {quoted}"),  # the same wire: set aside, not read
        passage(3, "libre", "Quarante personnes ont manifesté à Lyon dans le calme, selon les organisateurs."),
        passage(4, "dh", f"Encore. {quoted[:-1]}, a-t-on appris."),
    ]
    kept, repeated = distinct(ranked, 2)
    assert [p.doc_id for p in kept] == ["figaro", "libre"] and [p.doc_id for p in repeated[0]] == ["point", "dh"]
    start = kept[0].text.index("Vingt")
    composed, shown = cite_repeats(compose_span("Vingt", kept[0], 1, start, start + 5), kept, repeated)
    assert composed.text.endswith("» (aussi dans [3], [4])") and composed.citations == [1, 3, 4]
    assert [p.doc_id for p in shown] == ["figaro", "libre", "point", "dh"]


def test_a_cause_is_answered_with_its_sentence_not_a_clipped_span():
    text = "Le match a été reporté. La préfecture invoque les fortes chutes de neige sur le stade."
    read = answer(
        answerer([(0, "les fortes chutes", 6.0)]), "Pourquoi le match a-t-il été reporté ?", [passage(1, "a", text)]
    )
    assert read.composition.text == "« La préfecture invoque les fortes chutes de neige sur le stade. » [1]"


def test_a_figure_the_question_already_gives_is_no_answer():
    text = "Dix-sept personnes ont été interpellées et placées en garde à vue pour cet incendie."
    read = answer(
        answerer([(0, "Dix-sept", 6.0)]),
        "Combien des dix-sept personnes interpellées pour l'incendie ont été mises en examen ?",
        [passage(1, "a", text)],
    )
    assert read.composition is None


def test_figures_compare_whatever_their_thousands_separator():
    assert figures_in("137.200 personnes") == figures_in("137 200") == ("137200",)
