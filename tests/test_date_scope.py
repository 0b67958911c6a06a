"""A question's dates scope the search, the answer says so, and names its sources' dates."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from eval.dated import DATED_CORPUS, DATED_GOLD, date_metrics, load_scopes, parse_accuracy
from eval.gold import load_gold_jsonl
from index.build import build_index
from rag.answer.checking import AnswerChecker
from rag.answer.reading import ReadingAnswerer
from rag.answer.source_dates import source_dates
from rag.config import Settings
from rag.pipeline import Pipeline
from rag.search.retrieval import DenseRetriever, HybridRetriever, KeywordRetriever
from rag.search.temporal import DateScope
from rag.search.temporal.retrieval import DatedRetrieval
from rag.store.embedded import IndexStore
from rag.store.records import Passage
from tests.fakes import FakeGenerator, FakeReader
from ui.render import answer_message, scope_markdown

TODAY = date(2025, 6, 15)
BUDGETS = [
    "2023-03-28-montclair-budget-2023.txt",
    "2024-03-26-montclair-budget-2024.txt",
    "2025-03-25-montclair-budget-2025.txt",
    "2024-10-31-inflation-octobre.txt",
    "2024-11-29-inflation-novembre.txt",
]


@pytest.fixture
def store(settings, fake_embedder, tmp_path):
    corpus = tmp_path / "dated"
    corpus.mkdir()
    for name in BUDGETS:
        shutil.copy(DATED_CORPUS / name, corpus / name)
    build_index(settings, [corpus], fake_embedder, progress=False)
    return IndexStore.open(settings.index_dir, embed_model=fake_embedder.name)


def llm_pipeline(store, embedder, pieces=("Le budget est voté.",), **options):
    return Pipeline(HybridRetriever(store, embedder), FakeGenerator(pieces), top_k=3, today=lambda: TODAY, **options)


def reading_pipeline(store, embedder, span, **options):
    reading = ReadingAnswerer(FakeReader(span), FakeGenerator(), AnswerChecker(), min_confidence=0.5)
    return Pipeline(
        HybridRetriever(store, embedder), FakeGenerator(), top_k=3, reading=reading, today=lambda: TODAY, **options
    )


QUESTION = "Quel budget le conseil municipal de Montclair a-t-il adopté"


@pytest.mark.parametrize("make", [DenseRetriever, KeywordRetriever, HybridRetriever])
def test_every_retriever_ranks_only_the_articles_of_the_range(store, fake_embedder, make):
    retriever = make(store) if make is KeywordRetriever else make(store, fake_embedder)
    dated = DatedRetrieval(retriever)
    scope = DateScope("2024-01-01", "2024-12-31")
    passages = dated.retrieve(QUESTION + " ?", 3, scope)
    assert passages and {p.doc_id for p in passages} <= {
        "2024-03-26-montclair-budget-2024",
        "2024-10-31-inflation-octobre",
        "2024-11-29-inflation-novembre",
    }
    assert passages[0].doc_id == "2024-03-26-montclair-budget-2024"
    assert dated.documents_in(DateScope("2022-01-01", "2022-12-31")) == set()
    assert dated.documents_in(DateScope(order="latest")) is None


def test_the_latest_relevant_article_is_preferred(store, fake_embedder):
    dated = DatedRetrieval(HybridRetriever(store, fake_embedder))
    latest = dated.retrieve(QUESTION + " ?", 3, DateScope(order="latest"))
    assert {p.doc_id for p in latest} == {"2025-03-25-montclair-budget-2025"}
    earliest = dated.retrieve(QUESTION + " ?", 3, DateScope(order="earliest"))
    assert {p.doc_id for p in earliest} == {"2023-03-28-montclair-budget-2023"}


def test_ordering_ignores_undated_and_keeps_relevance_first():
    passages = [
        Passage(1, "a", "A", None, "a", 0, 1, "…", score=1.0),
        Passage(2, "b", "B", "2024-10", "b", 0, 1, "…", score=0.9),
        Passage(3, "c", "C", "2025-05-01", "c", 0, 1, "…", score=0.1),  # another subject
        Passage(4, "b", "B", "2024-10", "b", 0, 1, "…", score=0.8),
    ]
    assert [p.chunk_id for p in DatedRetrieval._ordered(passages, "latest")] == [2, 4]


def test_the_answer_is_headed_by_its_scope_and_names_its_source_date(store, fake_embedder):
    pipeline = reading_pipeline(store, fake_embedder, "61,2 millions d'euros")
    answer = pipeline.answer(QUESTION + " en 2024 ?")
    assert answer.scope == "articles de 2024" and answer.date_scope.start == "2024-01-01"
    assert answer.short == "61,2 millions d'euros"  # what the eval's F1 scores: unchanged
    assert answer.source_dates == "Selon l'article du 26 mars 2024 [1]."
    assert answer.text.startswith("61,2 millions d'euros. Selon [1] : « ")  # the text and its markers unchanged
    assert not answer.revised and answer.search_question == QUESTION + " ?"
    message = answer_message(answer, 1, lambda doc_id: None)
    assert message.startswith("_Articles de 2024_\n\n")
    assert '_Selon l\'article du 26 mars 2024 <a class="depeche-cite"' in message
    assert scope_markdown(pipeline.answer(QUESTION + " ?")) == ""


def test_a_range_without_articles_says_so_instead_of_answering(store, fake_embedder):
    generator = FakeGenerator(("61,2 millions",))
    pipeline = Pipeline(HybridRetriever(store, fake_embedder), generator, top_k=3, today=lambda: TODAY)
    stream = pipeline.ask(QUESTION + " en 2022 ?")
    pieces = list(stream)
    answer = stream.answer
    assert answer.refused and answer.text == "Aucun article du corpus n'est daté de 2022."
    assert pieces == [answer.text] and answer.passages == [] and not generator.prompts
    assert pipeline.answer("Quel taux d'inflation en février 2025 ?").text == (
        "Aucun article du corpus n'est daté de février 2025."
    )


def test_the_llm_answer_names_its_sources_dates_apart_from_its_text(store, fake_embedder):
    pipeline = llm_pipeline(store, fake_embedder, pieces=("Un budget de 61,2 millions d'euros a été adopté.",))
    stream = pipeline.ask("Résume l'article sur le budget de Montclair en 2024.")
    pieces = list(stream)
    answer = stream.answer
    assert "".join(pieces) == answer.text and not answer.revised
    assert "du 26 mars 2024" in answer.source_dates and answer.source_dates not in answer.text


def test_relative_dates_count_from_the_injected_today(store, fake_embedder):
    pipeline = reading_pipeline(store, fake_embedder, "1,3 %")
    answer = pipeline.answer("Quel était le taux d'inflation le mois dernier ?")
    assert answer.scope == "articles de mai 2025" and answer.refused  # nothing published in May 2025 here
    pipeline.today = lambda: date(2024, 12, 10)
    answer = pipeline.answer("Quel était le taux d'inflation le mois dernier ?")
    assert answer.scope == "articles de novembre 2024" and not answer.refused
    assert answer.cited_passages[0].doc_id == "2024-11-29-inflation-novembre"


def test_a_month_without_its_year_is_read_against_the_corpus_not_today(store, fake_embedder):
    """An archive that ends in March 2025, asked in 2026: «en novembre» is November 2024, the
    latest November of the archive, not November 2025 (no article) nor 2026 (the future)."""
    pipeline = reading_pipeline(store, fake_embedder, "1,3 %")
    pipeline.today = lambda: date(2026, 12, 7)
    answer = pipeline.answer("Quel était le taux d'inflation en novembre ?")
    assert answer.scope == "articles de novembre 2024" and not answer.refused
    assert answer.cited_passages[0].doc_id == "2024-11-29-inflation-novembre"
    # relative dates still count from today: nothing was published last month
    assert pipeline.answer("Quel était le taux d'inflation le mois dernier ?").scope == "articles de novembre 2026"


def test_an_undated_article_stays_a_candidate_in_a_range_that_holds_dated_ones(settings, fake_embedder, tmp_path):
    """An archive's undated articles (Belgian outlets give no date) may be of the dates asked;
    a range that no dated article falls in is still said to be empty."""
    corpus = tmp_path / "mixed"
    corpus.mkdir()
    for name in BUDGETS[:2]:
        shutil.copy(DATED_CORPUS / name, corpus / name)
    (corpus / "sans-date.txt").write_text(
        "Accises sur le tabac\n\nLes recettes des accises sur le tabac ont augmenté en Belgique.\n", encoding="utf-8"
    )
    build_index(settings, [corpus], fake_embedder, progress=False)
    store = IndexStore.open(settings.index_dir, embed_model=fake_embedder.name)
    dated = DatedRetrieval(HybridRetriever(store, fake_embedder))
    in_2024 = dated.documents_in(DateScope("2024-01-01", "2024-12-31"))
    assert "sans-date" in in_2024 and "2024-03-26-montclair-budget-2024" in in_2024
    assert "2023-03-28-montclair-budget-2023" not in in_2024
    assert dated.documents_in(DateScope("2022-01-01", "2022-12-31")) == set()


def test_a_follow_up_changes_only_the_dates(store, fake_embedder):
    pipeline = reading_pipeline(store, fake_embedder, ("61,2 millions d'euros", "63,9 millions d'euros"))
    answer = pipeline.answer("Et en 2024 ?", [QUESTION + " en 2025 ?"])
    assert answer.scope == "articles de 2024"
    assert {p.doc_id for p in answer.passages} <= {
        "2024-03-26-montclair-budget-2024",
        "2024-10-31-inflation-octobre",
        "2024-11-29-inflation-novembre",
    }
    assert answer.short == "61,2 millions d'euros"


def test_the_filter_off_searches_the_dates_as_words(store, fake_embedder, monkeypatch):
    monkeypatch.setenv("DEPECHE_DATE_FILTER", "off")
    assert Settings.from_env().date_filter is False
    monkeypatch.setenv("DEPECHE_DATE_FILTER", "on")
    assert Settings.from_env().date_filter is True
    pipeline = llm_pipeline(store, fake_embedder, date_filter=False)
    answer = pipeline.answer(QUESTION + " en 2022 ?")
    assert answer.scope == "" and answer.date_scope is None and answer.passages
    assert answer.search_question == QUESTION + " en 2022 ?"


def test_source_date_sentence_for_several_articles():
    a = Passage(1, "a", "A", "2024-10-03", "a", 0, 1, "…")
    b = Passage(2, "b", "B", "2024-12", "b", 0, 1, "…")
    c = Passage(3, "c", "C", None, "c", 0, 1, "…")
    assert source_dates([a, b, c], [1, 2, 3]) == "Selon les articles du 3 octobre 2024 [1] et de décembre 2024 [2]."
    assert source_dates([a, b, c], [3]) == ""


def test_the_dated_gold_set_is_well_formed_and_grounded():
    from rag.sources.files import load_documents

    documents, _ = load_documents(sorted(DATED_CORPUS.glob("*.txt")))
    bodies = {d.doc_id: d.body for d in documents}
    assert len(documents) >= 30 and all(d.date for d in documents)
    items, scopes = load_gold_jsonl(DATED_GOLD), load_scopes(DATED_GOLD)
    assert len(items) >= 40
    for item in items:
        for support in item.support:
            assert any(support in bodies[doc] for doc in item.doc_ids), item.id
        gold, _ = scopes[item.id]
        if not item.answerable:  # a range that holds no article
            assert not any(DateScope(gold["start"], gold["end"]).contains(d.date) for d in documents), item.id
    kinds = {item.kind for item in items}
    assert {"year", "month", "season", "since", "before", "between", "relative", "latest", "empty"} <= kinds
    assert parse_accuracy(items, scopes) == 1.0


def test_date_metrics_measure_the_filter_precision():
    from eval.gold import GoldItem
    from eval.run import ItemResult

    item = GoldItem("q", "Q ?", "x", True, ("a",))
    shown = [{"doc_id": "a", "date": "2024-10-31"}, {"doc_id": "b", "date": "2025-01-02"}]
    result = ItemResult(item, "x [1]", False, [1], [True], 1, 1.0, 1.0, 1.0, None, 0.1, 0, passages=shown)
    metrics = date_metrics([result], {"q": ({"start": "2024-10-01", "end": "2024-10-31", "order": None}, TODAY)})
    assert metrics["date.shown_in_range"] == 0.5 and metrics["date.cited_in_range"] == 1.0
