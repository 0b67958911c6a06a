"""Question -> the passages most likely to answer it.

Three retrievers over the same index: dense (embedding cosine), keyword (French BM25) and
hybrid, which fuses the two rankings with reciprocal rank fusion (RRF): a chunk's score is
the sum over rankings of ``1 / (k + rank)``, so a passage ranked well by both wins, and
neither score scale has to be calibrated against the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rag.config import RETRIEVAL_MODES
from rag.embedding import Embedder
from rag.errors import ConfigError
from rag.store import IndexStore, Passage

RRF_K = 60  # the constant of Cormack et al. (2009); larger flattens the head of each ranking


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

    def __init__(self, store: IndexStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(self, question: str, k: int) -> list[Passage]:
        return self.store.passages(self.store.vector_search(self.embedder.embed_query(question), k))


class KeywordRetriever:
    """French BM25 over the chunks' words."""

    def __init__(self, store: IndexStore) -> None:
        self.store = store

    def retrieve(self, question: str, k: int) -> list[Passage]:
        return self.store.passages(self.store.keyword_search(question, k))


class HybridRetriever:
    """Dense and BM25 rankings, each ``depth`` deep, fused by reciprocal rank."""

    def __init__(self, store: IndexStore, embedder: Embedder, *, depth: int = 50, rrf_k: int = RRF_K) -> None:
        self.store = store
        self.embedder = embedder
        self.depth = depth
        self.rrf_k = rrf_k

    def retrieve(self, question: str, k: int) -> list[Passage]:
        depth = max(self.depth, k)
        dense = [i for i, _ in self.store.vector_search(self.embedder.embed_query(question), depth)]
        keyword = [i for i, _ in self.store.keyword_search(question, depth)]
        fused = reciprocal_rank_fusion([dense, keyword], k=self.rrf_k)
        return self.store.passages(fused[:k])


def make_retriever(mode: str, store: IndexStore, embedder: Embedder | None) -> Retriever:
    """The retriever for ``mode``; BM25 alone needs no embedder."""
    if mode == "bm25":
        return KeywordRetriever(store)
    if mode not in RETRIEVAL_MODES:
        raise ConfigError(f"Mode de recherche inconnu : {mode!r} (choisir parmi {', '.join(RETRIEVAL_MODES)}).")
    assert embedder is not None, f"the {mode} retriever needs an embedder"
    return HybridRetriever(store, embedder) if mode == "hybrid" else DenseRetriever(store, embedder)
