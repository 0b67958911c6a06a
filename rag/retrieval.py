"""Question -> the passages most likely to answer it (dense search over the index)."""

from __future__ import annotations

from typing import Protocol

from rag.embedding import Embedder
from rag.store import IndexStore, Passage


class Retriever(Protocol):
    def retrieve(self, question: str, k: int) -> list[Passage]: ...


class DenseRetriever:
    """Cosine similarity between the question's embedding and every chunk's."""

    def __init__(self, store: IndexStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(self, question: str, k: int) -> list[Passage]:
        query = self.embedder.embed_query(question)
        return self.store.passages(self.store.search(query, k))
