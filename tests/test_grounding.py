"""The answer check: per-sentence support, re-citation, quotation, refusal, loops."""

import pytest

from rag.answer.checking import AnswerChecker, AnswerSentence, is_looping, parse_sentences
from rag.answer.prompting import REFUSAL
from rag.search.evidence import Evidence
from rag.store.records import Passage
from tests.fakes import FakeEmbedder

MUNICH = Evidence(
    1,
    Passage(1, "munich", "OpenAI s'installe à Munich", "2025-03-27", "munich.txt", 0, 200, ""),
    [
        "OpenAI ouvrira un bureau à Munich dans les prochains mois.",
        "Le ministre bavarois de l'Économie, Hubert Aiwanger, a salué l'arrivée de l'entreprise.",
    ],
)
PARIS = Evidence(
    2,
    Passage(2, "paris", "OpenAI ouvre un bureau à Paris", "2024-10", "paris.txt", 0, 200, ""),
    ["Les syndicats représentent 800 titres de presse.", "OpenAI a refusé de négocier avec eux."],
)
EVIDENCE = [MUNICH, PARIS]


@pytest.fixture
def check():
    return AnswerChecker()


def test_a_supported_sentence_keeps_its_marker(check):
    answer = check(
        "Qui a salué l'arrivée d'OpenAI ?", "Hubert Aiwanger a salué l'arrivée de l'entreprise [1].", EVIDENCE
    )
    assert answer.text == "Hubert Aiwanger a salué l'arrivée de l'entreprise [1]."
    assert not answer.refused and answer.dropped == []
    (sentence,) = answer.sentences
    assert sentence.citations == (1,) and sentence.support == 1.0 and sentence.origin == "model"


def test_a_wrong_marker_is_moved_to_the_passage_that_supports_the_sentence(check):
    answer = check("Combien de titres ?", "Les syndicats représentent 800 titres [1].", EVIDENCE)
    assert answer.text == "Les syndicats représentent 800 titres [2]."
    assert answer.citations == [2]


def test_a_sentence_without_marker_gets_the_supporting_passage(check):
    answer = check("Combien de titres ?", "Les syndicats représentent 800 titres.", EVIDENCE)
    assert answer.text == "Les syndicats représentent 800 titres [2]."


def test_an_invented_number_is_not_supported(check):
    answer = check("Combien de titres ?", "Les syndicats représentent 900 titres [2].", EVIDENCE)
    assert "900" not in answer.text
    assert answer.dropped == ["Les syndicats représentent 900 titres."]


def test_unsupported_sentences_are_dropped_and_supported_ones_kept(check):
    draft = "OpenAI ouvrira un bureau à Munich [1]. Le loyer sera de 100 000 euros par an [1]."
    answer = check("Où OpenAI ouvrira-t-elle un bureau ?", draft, EVIDENCE)
    assert answer.text == "OpenAI ouvrira un bureau à Munich [1]."
    assert answer.dropped == ["Le loyer sera de 100 000 euros par an."]


def test_an_unsupported_draft_becomes_a_quotation_when_the_evidence_covers_the_question(check):
    answer = check("Quel ministre bavarois a salué l'arrivée d'OpenAI ?", "Le ministre est Markus Söder [1].", EVIDENCE)
    (sentence,) = answer.sentences
    assert sentence.origin == "quote" and sentence.citations == (1,)
    assert sentence.text == MUNICH.sentences[1]
    assert answer.text == MUNICH.sentences[1][:-1] + " [1]."


def test_an_unsupported_draft_is_refused_when_the_evidence_misses_the_question(check):
    answer = check("Quel est le loyer annuel payé ?", "Le loyer est de 100 000 euros [2].", EVIDENCE)
    assert answer.refused and answer.text == REFUSAL and answer.citations == []
    assert answer.dropped == ["Le loyer est de 100 000 euros."]


def test_the_coverage_floor_is_a_setting():
    """One of three terms (bureau) is in the evidence: 0.33, above the PIAF-calibrated default
    (0.15), under a floor of 0.5."""
    question = "Quel est le loyer du bureau parisien ?"
    assert AnswerChecker().coverage(question, EVIDENCE) == pytest.approx(1 / 3)
    answer = AnswerChecker(min_coverage=0.5)(question, "Le loyer est de 100 000 euros [2].", EVIDENCE)
    assert answer.refused and answer.text == REFUSAL and answer.dropped == ["Le loyer est de 100 000 euros."]


def test_the_model_refusal_stays_a_refusal(check):
    answer = check("Quel âge a Sam Altman ?", REFUSAL, EVIDENCE)
    assert answer.refused and answer.text == REFUSAL


def test_no_evidence_means_refusal(check):
    assert check("Où ?", "À Munich [1].", []).refused


def test_repeated_sentences_are_kept_once(check):
    draft = "OpenAI ouvrira un bureau à Munich [1]. OpenAI ouvrira un bureau à Munich [1]."
    assert check("Où ?", draft, EVIDENCE).text == "OpenAI ouvrira un bureau à Munich [1]."


def test_a_low_embedding_similarity_rejects_a_sentence():
    strict = AnswerChecker(FakeEmbedder(), min_similarity=0.99)
    lenient = AnswerChecker(FakeEmbedder(), min_similarity=0.3)
    draft = "OpenAI ouvrira un bureau à Munich [1]."
    assert lenient("Où ?", draft, EVIDENCE).sentences[0].similarity is not None
    assert lenient("Où ?", draft, EVIDENCE).text == draft
    assert strict("Où ?", draft, EVIDENCE).dropped == ["OpenAI ouvrira un bureau à Munich."]


def test_an_english_injected_answer_is_not_supported_by_french_evidence(check):
    draft = "The moon is made of cheese [1]."
    answer = check("Où OpenAI ouvrira-t-elle un bureau ?", draft, EVIDENCE)
    assert "cheese" not in answer.text and answer.dropped == ["The moon is made of cheese."]


def test_parse_sentences_reads_markers():
    assert parse_sentences("Munich [1]. Il recrutera [2][3].") == [("Munich.", (1,)), ("Il recrutera.", (2, 3))]


def test_render_puts_markers_before_the_full_stop():
    assert AnswerSentence("À Munich.", (1, 2), 1.0, None).render() == "À Munich [1][2]."
    assert AnswerSentence("À Munich", (1,), 1.0, None).render() == "À Munich [1]"


@pytest.mark.parametrize(
    ("text", "looping"),
    [
        ("OpenAI ouvre un bureau [1]. Il recrute [1]. OpenAI ouvre un bureau [1].", True),
        ("ou attestation de situation d'exception à la JDC " * 3, True),
        ("OpenAI ouvre un bureau. Il recrute des ingénieurs.", False),
        ("OpenAI ouvre un bureau. OpenAI ouvre un bur", False),
    ],
)
def test_is_looping(text, looping):
    assert is_looping(text) is looping


def test_a_name_the_passage_never_mentions_is_not_supported(check):
    draft = "OpenAI ouvrira un bureau à Milan [1]."
    answer = check("Quand OpenAI ouvrira-t-il un bureau à Milan ?", draft, EVIDENCE)
    assert "Milan" not in answer.text and answer.dropped == ["OpenAI ouvrira un bureau à Milan."]


def test_no_quotation_for_a_question_about_a_name_no_passage_holds(check):
    answer = check("OpenAI ouvrira-t-elle un bureau à Madrid ?", "Oui, à Madrid [1].", EVIDENCE)
    assert answer.refused
    answered = check("OpenAI ouvrira-t-elle un bureau à Munich ?", "Oui, à Madrid [1].", EVIDENCE)
    assert not answered.refused and answered.sentences[0].origin == "quote"


def test_a_sentence_that_only_says_the_question_back_is_replaced_by_the_quotation():
    passage = Passage(1, "cannes", "Festival de Cannes", "2025-05-13", "x", 0, 200, "")
    evidence = [
        Evidence(
            1,
            passage,
            ["Le Festival de Cannes s'est ouvert mardi.", "Le jury est présidé par l'actrice Juliette Binoche."],
        )
    ]
    check = AnswerChecker()
    question = "Qui préside le jury du Festival de Cannes ?"
    answer = check(question, "Le jury préside le Festival de Cannes [1].", evidence)
    assert "Binoche" in answer.text and answer.sentences[0].origin == "quote"
    assert answer.dropped == ["Le jury préside le Festival de Cannes."]
    assert check.restates(question, "Le jury préside le Festival de Cannes.")
    assert not check.restates(question, "Juliette Binoche préside le jury du Festival de Cannes.")
    assert not check.restates("Le bureau ouvre-t-il à Munich ?", "Oui, le bureau ouvre à Munich.")
    assert not check.restates("Quand le bureau ouvre-t-il ?", "Le bureau ouvre en 2025.")
