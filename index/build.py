"""Build the index from source folders: read, chunk, embed, store.

The new index is written as a new version and published only once complete
(:mod:`index.writing`), so a build that fails or is interrupted leaves the previous index
as it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.progress import Progress, Rates
from index.writing import new_version
from rag.config import Settings
from rag.models.embedding import Embedder
from rag.sources.chunking import Chunk, chunk_document, embedding_text
from rag.sources.dedup import signature, signature_to_bytes, text_hash
from rag.sources.documents import Document
from rag.sources.files import load_documents
from rag.store.interface import Store
from rag.store.records import IndexInfo

log = logging.getLogger(__name__)

EMBED_BATCH = 64  # texts per embedding call: fewer, larger calls embed faster


@dataclass(frozen=True)
class BuildReport:
    documents: int
    chunks: int
    seconds: float
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        rates = Rates(self.documents, self.chunks, self.seconds)
        line = f"{self.documents} documents indexés ; {rates}"
        if self.skipped:
            line += f" ; {len(self.skipped)} fichier(s) ignoré(s)"
        return line + "."


@dataclass(frozen=True)
class Fingerprint:
    """What duplicate detection compares (:mod:`rag.sources.dedup`)."""

    text_hash: str
    minhash: bytes

    @classmethod
    def of(cls, document: Document) -> Fingerprint:
        return cls(text_hash(document.body), signature_to_bytes(signature(document.body)))


def index_info(settings: Settings, embedder: Embedder) -> IndexInfo:
    return IndexInfo(
        embed_model=embedder.name,
        dimension=embedder.dimension,
        chunk_size=settings.chunks.size,
        chunk_overlap=settings.chunks.overlap,
    )


def build_index(
    settings: Settings,
    sources: Sequence[Path],
    embedder: Embedder,
    *,
    progress: bool = True,
) -> BuildReport:
    """Read the files under ``sources`` and build the index from them."""
    started = time.perf_counter()
    documents, skipped = load_documents(sources)
    report = build_index_from_documents(settings, documents, embedder, progress=progress)
    return BuildReport(report.documents, report.chunks, time.perf_counter() - started, skipped)


def build_index_from_documents(
    settings: Settings,
    documents: Sequence[Document],
    embedder: Embedder,
    *,
    progress: bool = True,
    description: str = "Indexation",
) -> BuildReport:
    """Chunk, embed and store ``documents`` in a new index that replaces the current one."""
    started = time.perf_counter()
    with new_version(settings, fresh=index_info(settings, embedder)) as store:
        chunks = store_documents(
            store,
            [(d, Fingerprint.of(d)) for d in documents],
            embedder,
            settings,
            progress=progress,
            description=description,
        )
    return BuildReport(len(documents), chunks, time.perf_counter() - started)


def store_documents(
    store: Store,
    documents: Sequence[tuple[Document, Fingerprint]],
    embedder: Embedder,
    settings: Settings,
    *,
    progress: bool = True,
    description: str = "Indexation",
) -> int:
    """Chunk and embed ``documents`` in batches and stage them in ``store``; return the passages."""
    fingerprints = {document.doc_id: fingerprint for document, fingerprint in documents}
    with Progress(len(documents), description, enabled=progress) as bar:
        for batch in _batches((d for d, _ in documents), settings):
            vectors = embedder.embed_passages([embedding_text(d, c.text) for d, chunks in batch for c in chunks])
            start = 0
            for document, chunks in batch:
                fingerprint = fingerprints[document.doc_id]
                store.add_document(
                    document,
                    chunks,
                    vectors[start : start + len(chunks)],
                    text_hash=fingerprint.text_hash,
                    minhash=fingerprint.minhash,
                )
                start += len(chunks)
            bar.advance(len(batch), start)
        return bar.chunks


def _batches(documents: Iterable[Document], settings: Settings) -> Iterator[list[tuple[Document, list[Chunk]]]]:
    """Documents with their chunks, grouped so each embedding call gets at least EMBED_BATCH texts."""
    batch: list[tuple[Document, list[Chunk]]] = []
    size = 0
    for document in documents:
        chunks = chunk_document(document, settings.chunks)
        batch.append((document, chunks))
        size += len(chunks)
        if size >= EMBED_BATCH:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
