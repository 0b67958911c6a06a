import pytest

from index.build import build_index
from index.update import remove_documents
from rag.errors import ConfigError
from rag.search.keyword import FrenchAnalyzer, KeywordIndex
from rag.search.retrieval import (
    HybridRetriever,
    KeywordRetriever,
    convex_fusion,
    make_retriever,
    reciprocal_rank_fusion,
)
from rag.store.embedded import IndexStore
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def analyzer():
    return FrenchAnalyzer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("l'économie", ["econom"]),
        ("L’ÉCONOMIE", ["econom"]),  # curly apostrophe, capitals, accent
        ("qu'il parte jusqu'à Lyon", ["part", "lyon"]),
        ("d'OpenAI, c'est s'implanter", ["open", "implant"]),
        ("écoles Ecole école", ["ecol", "ecol", "ecol"]),
        ("le la les des du et à", []),  # stopwords only
        ("œuvre", ["oeuvr"]),
        ("2025 datacenter", ["2025", "datacent"]),
    ],
)
def test_french_analyzer(analyzer, text, expected):
    assert analyzer.terms(text) == expected


def test_query_and_passage_meet_despite_form(analyzer):
    index = KeywordIndex(analyzer)
    index.build([10, 11, 12], ["Les écoles de Munich", "Un datacenter en Europe", "La présidente a annoncé"])
    assert index.search("ECOLE munichoise ?", 3)[0][0] == 10
    assert index.search("présidentes", 3)[0][0] == 12
    assert index.search("zzz inconnu", 3) == []  # no known word: no result, no error
    assert index.search("", 3) == []


def test_keyword_index_round_trip(tmp_path, analyzer):
    index = KeywordIndex(analyzer)
    index.build([3, 5], ["bureau à Munich", "bureau à Paris"])
    index.save(tmp_path / "bm25")
    loaded = KeywordIndex.load(tmp_path / "bm25", analyzer)
    assert len(loaded) == 2
    assert loaded.search("Paris", 2) == index.search("Paris", 2)
    assert loaded.search("Paris", 2)[0][0] == 5


def test_empty_keyword_index(tmp_path):
    index = KeywordIndex()
    index.build([], [])
    index.save(tmp_path / "bm25")
    assert KeywordIndex.load(tmp_path / "bm25").search("Munich", 3) == []


def test_reciprocal_rank_fusion_exact_scores():
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 2, 4]], k=60)
    scores = dict(fused)
    assert scores[2] == pytest.approx(2 / 62)
    assert scores[3] == pytest.approx(1 / 63 + 1 / 61)
    assert scores[1] == pytest.approx(1 / 61)
    assert scores[4] == pytest.approx(1 / 63)
    assert [i for i, _ in fused] == [3, 2, 1, 4]  # 3: 1/63+1/61 > 2: 2/62


def test_convex_fusion_exact_scores():
    dense = [(1, 0.90), (2, 0.80), (3, 0.50)]  # normalized: 1.0, 0.75, 0.0
    keyword = [(3, 20.0), (4, 10.0), (1, 5.0)]  # normalized: 1.0, 1/3, 0.0
    fused = dict(convex_fusion(dense, keyword, alpha=0.8))
    assert fused[1] == pytest.approx(0.8)
    assert fused[2] == pytest.approx(0.8 * 0.75)
    assert fused[3] == pytest.approx(0.2)
    assert fused[4] == pytest.approx(0.2 / 3)
    assert [i for i, _ in convex_fusion(dense, keyword, alpha=0.8)] == [1, 2, 3, 4]
    assert [i for i, _ in convex_fusion(dense, keyword, alpha=0.2)][0] == 3
    assert convex_fusion([], [(5, 1.0)], alpha=0.5) == [(5, 0.5)]


def test_fusion_ties_keep_first_appearance():
    assert [i for i, _ in reciprocal_rank_fusion([[7, 8], [8, 7]])] == [7, 8]


@pytest.fixture
def store(settings, fake_embedder):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    return IndexStore.open(settings.index_dir, embed_model=fake_embedder.name)


def test_bm25_finds_a_rare_name(store):
    passages = KeywordRetriever(store).retrieve("Qui est Hubert Aiwanger ?", 3)
    assert "Aiwanger" in passages[0].text


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_hybrid_returns_k_distinct_passages(store, fake_embedder, fusion):
    retriever = HybridRetriever(store, fake_embedder, fusion=fusion)
    passages = retriever.retrieve("Le bureau de Munich et le ministre Aiwanger", 4)
    assert len(passages) == 4
    assert len({p.chunk_id for p in passages}) == 4
    assert any("Aiwanger" in p.text for p in passages[:2])


def test_bm25_is_kept_in_step_when_documents_go(store, settings, fake_embedder):
    assert any(p.doc_id == "2024-10-openai-paris" for p in KeywordRetriever(store).retrieve("Station F", 5))
    remove_documents(settings, ["2024-10-openai-paris"], on_wait=None)
    assert any(p.doc_id == "2024-10-openai-paris" for p in KeywordRetriever(store).retrieve("Station F", 5))
    reopened = IndexStore.open(settings.index_dir)  # the new version; the old one is unchanged
    assert KeywordRetriever(reopened).retrieve("Station F hackathons", 5) == []
    assert KeywordRetriever(reopened).retrieve("Aiwanger", 1)[0].doc_id == "2025-03-27-openai-munich"


def test_unknown_mode_is_a_clear_error(store, fake_embedder):
    with pytest.raises(ConfigError, match="hybrid"):
        make_retriever("semantic", store, fake_embedder)
