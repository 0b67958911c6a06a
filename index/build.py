"""Build the index from source folders: read, chunk, embed, store.

The new index is written beside the old one and swapped in only once complete, so a
build that fails or is interrupted leaves the previous index as it was.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from rag.chunking import Chunk, chunk_document
from rag.config import Settings
from rag.documents import Document, load_documents
from rag.embedding import Embedder
from rag.store import IndexInfo, IndexStore, swap_in

log = logging.getLogger(__name__)

EMBED_BATCH = 64  # texts per embedding call: fewer, larger calls embed faster


@dataclass(frozen=True)
class BuildReport:
    documents: int
    chunks: int
    seconds: float
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        line = f"{self.documents} documents, {self.chunks} passages indexés en {self.seconds:.1f} s"
        if self.skipped:
            line += f" ; {len(self.skipped)} fichier(s) ignoré(s)"
        return line + "."


def embedding_text(document: Document, chunk_text: str) -> str:
    """What is embedded for a chunk: its article's title gives it context."""
    return f"{document.title}\n{chunk_text}"


def build_index(
    settings: Settings,
    sources: Sequence[Path],
    embedder: Embedder,
    *,
    progress: bool = True,
) -> BuildReport:
    """Read the text files under ``sources`` and build the index from them."""
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
) -> BuildReport:
    """Chunk, embed and store ``documents`` in a new index that replaces ``settings.index_dir``."""
    started = time.perf_counter()
    settings.home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="index-building-", dir=settings.home))
    try:
        info = IndexInfo(
            embed_model=embedder.name,
            dimension=embedder.dimension,
            chunk_size=settings.chunks.size,
            chunk_overlap=settings.chunks.overlap,
        )
        store = IndexStore.create(staging, info)
        total_chunks = 0
        bar = tqdm(documents, desc="Indexation", unit="doc", disable=not progress)
        for batch in _batches(bar, settings):
            texts = [embedding_text(document, c.text) for document, chunks in batch for c in chunks]
            vectors = embedder.embed_passages(texts)
            start = 0
            for document, chunks in batch:
                store.add_document(document, chunks, vectors[start : start + len(chunks)])
                start += len(chunks)
            total_chunks += len(texts)
            bar.set_postfix(passages=total_chunks)
        store.save()
        store.close()
        swap_in(staging, settings.index_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildReport(len(documents), total_chunks, time.perf_counter() - started)


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
