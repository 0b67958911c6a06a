"""Add and remove documents without rebuilding: only new or changed files are embedded.

Every change is made on a copy of the index folder, saved, then swapped in whole
(:func:`rag.store.swap_in`): an update that fails or is interrupted leaves the index as it
was, and the chat keeps reading the old folder until the new one is in place.

A file is recognised by its document id (from its name) and its content hash:

- a new id is added;
- a known id with the same hash is left alone (``unchanged``);
- a known id with another hash has its chunks, vectors and keyword entries replaced.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from index.build import _batches, build_index_from_documents, embedding_text
from rag.config import Settings
from rag.documents import Document, load_documents
from rag.embedding import Embedder
from rag.errors import IndexMissingError
from rag.store import IndexStore, index_exists, swap_in


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # ids asked for removal that the index lacks
    skipped: list[str] = field(default_factory=list)  # unreadable files, with the reason
    chunks: int = 0  # passages embedded
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} ajouté(s)",
            f"{len(self.updated)} mis à jour",
            f"{len(self.unchanged)} inchangé(s)",
        ]
        if self.removed or self.unknown:
            parts.append(f"{len(self.removed)} retiré(s)")
        if self.unknown:
            parts.append(f"{len(self.unknown)} inconnu(s)")
        if self.skipped:
            parts.append(f"{len(self.skipped)} ignoré(s)")
        return f"{', '.join(parts)} ; {self.chunks} passages calculés en {self.seconds:.1f} s."


@contextmanager
def staged_copy(settings: Settings, embed_model: str | None) -> Iterator[IndexStore]:
    """A writable copy of the index; swapped in if the block completes, discarded otherwise."""
    if not index_exists(settings.index_dir):
        raise IndexMissingError(settings.index_dir)
    staging = Path(tempfile.mkdtemp(prefix="index-updating-", dir=settings.home))
    target = staging / "index"
    try:
        shutil.copytree(settings.index_dir, target)
        store = IndexStore.open(target, embed_model=embed_model)
        try:
            yield store
            store.save()
        finally:
            store.close()
        for leftover in target.glob("*.sqlite-*"):  # WAL files, folded into the database on close
            leftover.unlink(missing_ok=True)
        swap_in(target, settings.index_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def add_documents(
    settings: Settings, paths: Sequence[Path], embedder: Embedder, *, progress: bool = True
) -> UpdateReport:
    """Index the files under ``paths`` (files or folders, recursively) into the existing index."""
    started = time.perf_counter()
    documents, skipped = load_documents(list(paths))
    report = UpdateReport(skipped=skipped)
    if not index_exists(settings.index_dir):  # the first documents make the index
        built = build_index_from_documents(settings, documents, embedder, progress=progress)
        report.added = [d.doc_id for d in documents]
        report.chunks, report.seconds = built.chunks, time.perf_counter() - started
        return report
    with staged_copy(settings, embedder.name) as store:
        fresh: list[Document] = []
        for document in documents:
            known = store.document(document.doc_id)
            if known is None:
                report.added.append(document.doc_id)
            elif known.sha256 == document.sha256:
                report.unchanged.append(document.doc_id)
                continue
            else:
                store.remove_document(document.doc_id)
                report.updated.append(document.doc_id)
            fresh.append(document)
        bar = tqdm(fresh, desc="Ajout", unit="doc", disable=not progress or not fresh)
        for batch in _batches(bar, settings):
            vectors = embedder.embed_passages([embedding_text(d, c.text) for d, chunks in batch for c in chunks])
            start = 0
            for document, chunks in batch:
                store.add_document(document, chunks, vectors[start : start + len(chunks)])
                start += len(chunks)
            report.chunks += start
            bar.set_postfix(passages=report.chunks)
    report.seconds = time.perf_counter() - started
    return report


def remove_documents(settings: Settings, doc_ids: Sequence[str]) -> UpdateReport:
    """Remove documents (their rows, vectors and keyword entries) by id."""
    started = time.perf_counter()
    report = UpdateReport()
    with staged_copy(settings, None) as store:
        for doc_id in dict.fromkeys(doc_ids):
            if store.document(doc_id) is None:
                report.unknown.append(doc_id)
            else:
                store.remove_document(doc_id)
                report.removed.append(doc_id)
    report.seconds = time.perf_counter() - started
    return report
