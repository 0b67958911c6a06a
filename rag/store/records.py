"""What a store holds and gives back, whatever the backend: plain, frozen records."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.sources.chunking import Chunk
from rag.sources.documents import Document

SCHEMA_VERSION = 3  # 2: BM25 keyword index; 3: formats, pages, duplicate fingerprints, chunk terms


@dataclass(frozen=True)
class IndexInfo:
    """What built the index; a different embedding model cannot search it."""

    embed_model: str
    dimension: int
    chunk_size: int
    chunk_overlap: int
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True)
class Passage:
    """A chunk as retrieved, with what a reader needs to cite it."""

    chunk_id: int
    doc_id: str
    title: str
    date: str | None
    source: str
    start: int
    end: int
    text: str
    score: float = 0.0
    page: int | None = None  # for paged sources (PDF): the page where the passage starts

    @property
    def location(self) -> str:
        """Where the passage is in its source, for a citation: «p. 3» or «caractère 1200»."""
        return f"p. {self.page}" if self.page is not None else f"caractère {self.start}"


@dataclass(frozen=True)
class DocumentSummary:
    doc_id: str
    title: str
    date: str | None
    source: str
    chunks: int


@dataclass(frozen=True)
class StoredDocument:
    """A document as a store holds it, everything another store needs to hold it too without
    embedding it again (``python -m index migrate``)."""

    document: Document
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray  # one row per chunk, normalized
    text_hash: str
    minhash: bytes | None


def keyword_text(title: str, text: str) -> str:
    """What BM25 indexes for a chunk: like the embedding, its article's title and its text."""
    return f"{title}\n{text}"
