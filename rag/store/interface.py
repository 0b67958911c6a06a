"""What the rest of Dépêche asks of a store, whatever keeps the data (:class:`Store`).

The index commands write through it (:mod:`index.writing`), retrieval reads through it
(:mod:`rag.search.retrieval`), the chat's corpus tab lists through it. A backend is one class with
these methods; :class:`rag.store.embedded.IndexStore` (SQLite + FAISS + BM25 in a versioned
folder) is today's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from rag.sources.chunking import Chunk
from rag.sources.documents import Document
from rag.store.records import DocumentSummary, IndexInfo, Passage, StoredDocument


@runtime_checkable
class Store(Protocol):
    directory: Path
    info: IndexInfo

    @property
    def location(self) -> str:
        """Which backend, and where its data is, without secrets: what ``python -m index status`` shows."""

    @property
    def version(self) -> str:
        """Which published state this is (a version folder, a Milvus generation)."""

    # -- life --
    def snapshot(self) -> Store:
        """A view that does not change while it is read (a published version)."""

    def close(self) -> None: ...

    # -- writing: staged, then published by save() --
    def add_document(
        self,
        document: Document,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        *,
        text_hash: str = "",
        minhash: bytes | None = None,
    ) -> list[int]:
        """Stage a document with its chunks and their vectors (one row per chunk); the chunk ids."""

    def remove_document(self, doc_id: str) -> int:
        """Stage the removal of a document, its chunks and vectors; its chunk count."""

    def save(self) -> None:
        """Make every staged change durable."""

    def optimize(self) -> None:
        """At :meth:`save`, reclaim what removals left and merge what writes split
        (``python -m index optimize``)."""

    @property
    def layout(self) -> str:
        """How the store holds the index now, in one French phrase (``python -m index status``)."""

    # -- searching: (chunk id, score), best first --
    def keyword_search(self, query: str, k: int) -> list[tuple[int, float]]: ...

    def vector_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]: ...

    # -- reading --
    def passages(self, scored_ids: Sequence[tuple[int, float]]) -> list[Passage]:
        """The passages of ``(chunk id, score)`` pairs, in the order given."""

    def document(self, doc_id: str) -> Document | None: ...

    def documents(self) -> list[DocumentSummary]: ...

    def sources(self) -> dict[str, tuple[str, str]]:
        """Every document's source -> (doc_id, sha256 of the source as indexed)."""

    def document_with_text_hash(self, text_hash: str) -> str | None: ...

    def minhashes(self) -> tuple[list[str], np.ndarray]:
        """Every document's id and MinHash signature, one row of the matrix each (:mod:`rag.sources.dedup`)."""

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""

    def export(self) -> Iterator[StoredDocument]:
        """Every document with its chunks, vectors and fingerprints, one at a time."""
