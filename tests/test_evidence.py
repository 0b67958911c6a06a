from rag.documents import read_document
from rag.evidence import MAX_EVIDENCE_CHARS, select_evidence, split_sentences
from tests.conftest import MUNICH_SEED


def test_split_sentences_keeps_abbreviations_and_decimals_together():
    text = "Le taux est de 3.5 %. M. Dupont l'a dit.\nNouveau paragraphe « Citation. » Fin"
    assert split_sentences(text) == [
        "Le taux est de 3.5 %.",
        "M. Dupont l'a dit.",
        "Nouveau paragraphe « Citation. »",
        "Fin",
    ]


def test_short_passages_are_kept_whole():
    assert select_evidence("Munich ?", "Une phrase. Une autre.") == "Une phrase. Une autre."


def test_the_matching_sentence_is_kept_from_a_long_passage():
    body = read_document(MUNICH_SEED).body
    evidence = select_evidence("Quel ministre bavarois a salué l'arrivée d'OpenAI ?", body)
    assert "Hubert Aiwanger" in evidence
    assert len(evidence) <= MAX_EVIDENCE_CHARS
    assert evidence in " ".join(split_sentences(body))  # whole sentences, in order, unchanged


def test_a_long_single_sentence_is_kept_whole():
    sentence = ("mot " * 200).strip() + "."
    assert select_evidence("mot", sentence + " Autre phrase.") == sentence
