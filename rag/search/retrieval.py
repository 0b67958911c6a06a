"""Question -> the passages most likely to answer it.

Three retrievers over the same index: dense (embedding cosine), keyword (French BM25) and
hybrid, which fuses the two rankings. Two fusions are offered:

- reciprocal rank fusion (RRF): a chunk's score is the sum over rankings of ``1 / (k + rank)``;
  it needs no calibration but ignores how far apart the scores are;
- convex combination: each ranking's scores are min-max normalized over its top ``depth``,
  then ``alpha * dense + (1 - alpha) * bm25``; a chunk absent from one ranking gets 0 there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rag.config import RETRIEVAL_MODES
from rag.errors import ConfigError
from rag.models.embedding import Embedder, tuning_for
from rag.store.interface import Store
from rag.store.live import LiveIndex
from rag.store.records import Passage

Index = Store | LiveIndex  # one version, or the current one as the index changes

RRF_K = 60  # the constant of Cormack et al. (2009); larger flattens the head of each ranking
# Chosen on SPF-QR with the retrieval benchmark (docs/search.md): convex fusion, with a
# dense weight measured per model (rag.models.embedding.tuning_for); HYBRID_ALPHA is e5-small's.
HYBRID_FUSION = "convex"
HYBRID_ALPHA = 0.6


class Retriever(Protocol):
    def retrieve(self, question: str, k: int) -> list[Passage]: ...


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked id lists: ``[[a, b], [b, c]]`` -> b first (ranked by both), then a, then c.

    Ties keep the order of first appearance (the first ranking's order, then the next's).
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


class DenseRetriever:
    """Cosine similarity between the question's embedding and every chunk's."""

    def __init__(self, store: Index, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(self, question: str, k: int) -> list[Passage]:
        store = self.store.snapshot()
        return store.passages(store.vector_search(self.embedder.embed_query(question), k))


class KeywordRetriever:
    """French BM25 over the chunks' words."""

    def __init__(self, store: Index) -> None:
        self.store = store

    def retrieve(self, question: str, k: int) -> list[Passage]:
        store = self.store.snapshot()
        return store.passages(store.keyword_search(question, k))


def convex_fusion(
    dense: Sequence[tuple[int, float]], keyword: Sequence[tuple[int, float]], alpha: float
) -> list[tuple[int, float]]:
    """``alpha`` * min-max normalized dense score + (1 - ``alpha``) * normalized BM25 score.

    >>> convex_fusion([(1, 0.9), (2, 0.5)], [(2, 12.0), (3, 4.0)], alpha=0.5)
    [(1, 0.5), (2, 0.5), (3, 0.0)]

    Ties keep the dense ranking's order, then BM25's.
    """

    def normalized(ranking: Sequence[tuple[int, float]]) -> dict[int, float]:
        if not ranking:
            return {}
        low, high = min(s for _, s in ranking), max(s for _, s in ranking)
        return {i: (s - low) / (high - low) if high > low else 1.0 for i, s in ranking}

    a, b = normalized(dense), normalized(keyword)
    scores = {i: alpha * a.get(i, 0.0) + (1 - alpha) * b.get(i, 0.0) for i in dict.fromkeys([*a, *b])}
    return sorted(scores.items(), key=lambda pair: -pair[1])


class HybridRetriever:
    """Dense and BM25 rankings, each ``depth`` deep, fused (see the module docstring)."""

    def __init__(
        self,
        store: Index,
        embedder: Embedder,
        *,
        fusion: str = HYBRID_FUSION,
        alpha: float = HYBRID_ALPHA,
        depth: int = 50,
        rrf_k: int = RRF_K,
    ) -> None:
        if fusion not in ("convex", "rrf"):
            raise ConfigError(f"Fusion inconnue : {fusion!r} (convex ou rrf).")
        self.store = store
        self.embedder = embedder
        self.fusion = fusion
        self.alpha = alpha
        self.depth = depth
        self.rrf_k = rrf_k

    def retrieve(self, question: str, k: int) -> list[Passage]:
        depth = max(self.depth, k)
        store = self.store.snapshot()  # one version of the index for the whole search
        dense = store.vector_search(self.embedder.embed_query(question), depth)
        keyword = store.keyword_search(question, depth)
        if self.fusion == "rrf":
            fused = reciprocal_rank_fusion([[i for i, _ in dense], [i for i, _ in keyword]], k=self.rrf_k)
        else:
            fused = convex_fusion(dense, keyword, self.alpha)
        return store.passages(fused[:k])


def make_retriever(mode: str, store: Index, embedder: Embedder | None, *, alpha: float | None = None) -> Retriever:
    """The retriever for ``mode``; BM25 alone needs no embedder. The hybrid's dense weight is
    ``alpha``, or the one measured for the embedder's model."""
    if mode == "bm25":
        return KeywordRetriever(store)
    if mode not in RETRIEVAL_MODES:
        raise ConfigError(f"Mode de recherche inconnu : {mode!r} (choisir parmi {', '.join(RETRIEVAL_MODES)}).")
    assert embedder is not None, f"the {mode} retriever needs an embedder"
    if mode == "dense":
        return DenseRetriever(store, embedder)
    return HybridRetriever(store, embedder, alpha=tuning_for(embedder.name).hybrid_alpha if alpha is None else alpha)
