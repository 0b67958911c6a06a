import pytest

from index.build import build_index
from rag.answer.prompting import REFUSAL, TITLE_CHARS
from rag.errors import EmptyQuestionError, QuestionTooLongError
from rag.pipeline import Pipeline
from rag.search.evidence import select_evidence
from rag.search.retrieval import DenseRetriever
from rag.store.embedded import IndexStore
from rag.store.records import IndexInfo
from tests.conftest import SEEDS
from tests.fakes import FakeGenerator

QUESTION = "Dans quelle ville OpenAI va-t-elle ouvrir un bureau en Allemagne ?"


@pytest.fixture
def store(settings, fake_embedder):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    return IndexStore.open(settings.index_dir, embed_model=fake_embedder.name)


def make_pipeline(store, embedder, pieces=("Munich", ".")):
    return Pipeline(DenseRetriever(store, embedder), FakeGenerator(pieces), top_k=3)


def test_answer_streams_and_cites_a_shown_passage(store, fake_embedder):
    pipeline = make_pipeline(store, fake_embedder, pieces=(" Hubert", " Aiwanger", "."))
    stream = pipeline.ask("Quel ministre bavarois de l'Économie a salué l'arrivée d'OpenAI ?")
    pieces = list(stream)
    answer = stream.answer
    assert "".join(pieces) == answer.text
    assert answer.text.startswith("Hubert Aiwanger [")
    assert len(answer.passages) == 3
    assert answer.citations and all(1 <= n <= 3 for n in answer.citations)
    assert "Aiwanger" in answer.cited_passages[0].text
    assert not answer.refused
    assert answer.first_token_s is not None and answer.total_s >= answer.first_token_s


def test_prompt_numbers_the_passages_and_holds_the_question(store, fake_embedder):
    pipeline = make_pipeline(store, fake_embedder)
    answer = pipeline.answer(QUESTION)
    prompt = pipeline.generator.prompts[0]
    for number, passage in enumerate(answer.passages, start=1):
        assert f"[{number}] {passage.title[:TITLE_CHARS]}" in prompt.text
        assert select_evidence(answer.question, passage.text) in prompt.text
    assert prompt.text.rstrip().endswith("Réponse :")
    assert QUESTION in prompt.text and QUESTION in prompt.messages[-1]["content"]


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "???", " … !« » - "])
def test_empty_question_never_reaches_the_model(store, fake_embedder, question):
    pipeline = make_pipeline(store, fake_embedder)
    calls = fake_embedder.calls
    with pytest.raises(EmptyQuestionError):
        pipeline.ask(question)
    assert pipeline.generator.prompts == [] and fake_embedder.calls == calls


def test_huge_question_is_refused(store, fake_embedder):
    with pytest.raises(QuestionTooLongError):
        make_pipeline(store, fake_embedder).ask("pourquoi " * 1000)


def test_empty_corpus_answers_with_the_refusal(settings, fake_embedder):
    info = IndexInfo(fake_embedder.name, fake_embedder.dimension, 400, 60)
    store = IndexStore.create(settings.index_dir, info)
    pipeline = make_pipeline(store, fake_embedder)
    answer = pipeline.answer(QUESTION)
    assert answer.text == REFUSAL and answer.refused and pipeline.generator.prompts == []


def test_refusal_gets_no_citation(store, fake_embedder):
    answer = make_pipeline(store, fake_embedder, pieces=(REFUSAL,)).answer("Quel temps fait-il à Tokyo ?")
    assert answer.refused and answer.citations == []


def test_silent_model_gives_the_refusal(store, fake_embedder):
    answer = make_pipeline(store, fake_embedder, pieces=()).answer(QUESTION)
    assert answer.text == REFUSAL and answer.refused


def test_passages_are_dropped_until_the_prompt_fits(store, fake_embedder):
    roomy = FakeGenerator(("Munich.",))
    Pipeline(DenseRetriever(store, fake_embedder), roomy, top_k=3).answer(QUESTION)
    limit = len(roomy.prompts[0].text) - 1  # three passages no longer fit
    generator = FakeGenerator(("Munich.",), context_chars=limit)
    answer = Pipeline(DenseRetriever(store, fake_embedder), generator, top_k=3).answer(QUESTION)
    assert 1 <= len(answer.passages) < 3
    assert len(generator.prompts[0].text) <= limit


def test_the_checked_answer_replaces_an_unsupported_draft(store, fake_embedder):
    pieces = ("Le ministre est Markus Söder", " [1].")
    stream = make_pipeline(store, fake_embedder, pieces=pieces).ask(
        "Quel ministre bavarois de l'Économie a salué l'arrivée d'OpenAI ?"
    )
    streamed = "".join(stream)
    answer = stream.answer
    assert streamed == answer.draft and "Söder" in answer.draft
    assert answer.revised and "Söder" not in answer.text
    assert answer.dropped == ["Le ministre est Markus Söder."]
    assert "Hubert Aiwanger" in answer.text and answer.sentences[0].origin == "quote"
    assert answer.citations and "Aiwanger" in answer.cited_passages[0].text


def test_an_invention_on_a_question_the_corpus_cannot_answer_becomes_a_refusal(store, fake_embedder):
    pieces = ("Le loyer du bureau est de 100 000 euros par an [1].",)
    answer = make_pipeline(store, fake_embedder, pieces=pieces).answer("Quel est le montant du loyer mensuel ?")
    assert answer.refused and answer.text == REFUSAL and answer.revised
    assert answer.citations == [] and len(answer.passages) == 3  # the closest passages, for the reader


def test_a_supported_draft_is_not_revised(store, fake_embedder):
    answer = make_pipeline(store, fake_embedder, pieces=("Hubert", " Aiwanger", ".")).answer(
        "Quel ministre bavarois de l'Économie a salué l'arrivée d'OpenAI ?"
    )
    assert not answer.revised and answer.text == answer.draft


class LoopingGenerator(FakeGenerator):
    def __init__(self):
        super().__init__(["Hubert Aiwanger a salué l'arrivée d'OpenAI [1]. "] * 50)
        self.closed = False
        self.yielded = 0

    def stream(self, prompt):
        try:
            for piece in super().stream(prompt):
                self.yielded += 1
                yield piece
        finally:
            self.closed = True


def test_generation_stops_when_the_model_repeats_itself(store, fake_embedder):
    generator = LoopingGenerator()
    answer = Pipeline(DenseRetriever(store, fake_embedder), generator, top_k=3).answer(
        "Quel ministre bavarois a salué l'arrivée d'OpenAI ?"
    )
    assert generator.yielded < 5 and generator.closed
    assert answer.text.count("Aiwanger") == 1


def test_a_follow_up_is_searched_with_the_conversation(store, fake_embedder):
    pipeline = make_pipeline(store, fake_embedder, pieces=("Hubert Aiwanger.",))
    answer = pipeline.answer("Qui l'a salué ?", ["Quand OpenAI ouvrira-t-elle son bureau de Munich ?"])
    assert answer.question == "Qui l'a salué ?"
    assert "Munich" in answer.search_question and "salué" in answer.search_question
    assert "Munich" in pipeline.generator.prompts[0].text.split("Question :")[-1]
