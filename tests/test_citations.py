import pytest

from rag.answer.citations import CitationStream, content_words, lexical_attributor

PASSAGES = [
    "OpenAI ouvre un bureau à Munich, en Bavière.",
    "OpenAI ouvre un bureau à Paris pour recruter des talents.",
    "Le ministre Hubert Aiwanger salue l'arrivée d'OpenAI.",
]


def run(pieces, passages=PASSAGES):
    stream = CitationStream(len(passages), lexical_attributor(passages))
    shown = [stream.feed(p) for p in pieces]
    shown.append(stream.finish())
    assert "".join(shown) == stream.text  # what was shown is the final text
    return stream


@pytest.mark.parametrize(
    ("pieces", "expected", "cited"),
    [
        (["Le bureau est à Munich [1]."], "Le bureau est à Munich [1].", [1]),
        (["Le bureau", " est à Munich", " [", "1", "]", "."], "Le bureau est à Munich [1].", [1]),
        # no marker: the passage sharing the sentence's words is cited
        (["Munich", "."], "Munich [1].", [1]),
        (["Un bureau à Paris."], "Un bureau à Paris [2].", [2]),
        # a number never shown is dropped; a marker after the stop moves before it
        (["Munich [7]."], "Munich [1].", [1]),
        (["Munich.[1]"], "Munich [1].", [1]),
        (["Munich et Paris [1, 2]."], "Munich et Paris [1][2].", [1, 2]),
        # no sentence punctuation at the end: still attributed
        (["Hubert Aiwanger"], "Hubert Aiwanger [3]", [3]),
        # decimals and abbreviations do not end a sentence
        (["Il a 3.5 bureaux à Munich [1]."], "Il a 3.5 bureaux à Munich [1].", [1]),
        # nothing in the passages supports it: no marker is invented
        (["Le Japon gagne la coupe."], "Le Japon gagne la coupe.", []),
        # a bracket that is not a marker passes through
        (["Voir [annexe] à Munich [1]."], "Voir [annexe] à Munich [1].", [1]),
    ],
)
def test_markers(pieces, expected, cited):
    stream = run(pieces)
    assert stream.text == expected
    assert stream.cited == cited


def test_two_sentences_each_get_their_own_marker():
    stream = run(["OpenAI ouvre un bureau à Munich. ", "Aiwanger salue l'arrivée", " d'OpenAI."])
    assert stream.text == "OpenAI ouvre un bureau à Munich [1]. Aiwanger salue l'arrivée d'OpenAI [3]."
    assert stream.cited == [1, 3]


def test_text_is_released_as_it_streams():
    stream = CitationStream(3, lexical_attributor(PASSAGES))
    assert stream.feed("Le bureau ") == "Le bureau "
    assert stream.feed("est à Munich") == "est à Munich"
    assert stream.feed(".") == ""  # the stop waits: a marker may go before it
    assert stream.feed(" Puis") == " [1]. Puis"
    assert stream.feed(" [") == " "
    assert stream.feed("2]") == "[2]"


def test_new_line_ends_a_sentence():
    stream = run(["Munich\nParis"])
    assert stream.text == "Munich [1]\nParis [2]"


def test_content_words_fold_case_accents_and_stopwords():
    assert content_words("L'Économie de la Bavière, en 2025") == {"economie", "baviere", "2025"}


def test_attributor_prefers_the_first_ranked_on_ties():
    attribute = lexical_attributor(["bureau Munich", "bureau Munich"])
    assert attribute("bureau Munich") == 1
    assert attribute("rien") is None
