"""Add, remove and rebuild documents without touching what did not change.

Every command writes a new version of the index and publishes it whole
(:mod:`index.writing`): one that fails or is interrupted leaves the index as it was, and the
chat keeps reading the old version until the new one is in place.

A file is recognised by its path and its content hash:

- a new file is added, under an id from its name (``-2``, ``-3``… if the id is taken);
- a known file with the same hash is left alone (``unchanged``);
- a known file with another hash has its chunks, vectors and keyword entries replaced.

A new text is also compared with the index (:mod:`index.duplicates`): the same normalized
text as a document already there is not indexed again; a near duplicate (the same story
lightly edited) is reported and left out unless ``keep_near_duplicates``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.build import Fingerprint, index_info, store_documents
from index.duplicates import DuplicateFinder
from index.writing import new_version
from rag.config import Settings
from rag.errors import DocumentError, IndexMissingError
from rag.models.embedding import Embedder
from rag.sources.documents import Document
from rag.sources.files import read_document
from rag.store.backend import index_present, indexed_documents
from rag.store.interface import Store

log = logging.getLogger(__name__)


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # ids asked for removal that the index lacks
    skipped: list[str] = field(default_factory=list)  # unreadable files, with the reason
    duplicates: list[str] = field(default_factory=list)  # same text as an indexed document
    near_duplicates: list[str] = field(default_factory=list)  # left out
    kept_near_duplicates: list[str] = field(default_factory=list)  # kept, as asked
    from_store: list[str] = field(default_factory=list)  # rebuild: source gone, stored text used
    rebuilt: list[str] = field(default_factory=list)  # rebuild: every document indexed anew
    chunks: int = 0  # passages embedded
    seconds: float = 0.0

    def notes(self) -> list[str]:
        """One line per file that needs the user's attention."""
        return [
            *(f"ignoré : {m}" for m in self.skipped),
            *(f"doublon : {m}" for m in self.duplicates),
            *(f"quasi-doublon : {m}" for m in self.near_duplicates),
            *(f"quasi-doublon gardé : {m}" for m in self.kept_near_duplicates),
            *(f"repris de l'index : {m}" for m in self.from_store),
            *(f"inconnu : {m}" for m in self.unknown),
        ]

    def summary(self) -> str:
        if self.rebuilt:
            parts = [f"{len(self.rebuilt)} document(s) reconstruit(s)", f"dont {len(self.updated)} modifié(s) depuis"]
        else:
            parts = [
                f"{len(self.added)} ajouté(s)",
                f"{len(self.updated)} mis à jour",
                f"{len(self.unchanged)} inchangé(s)",
            ]
        optional = [
            (self.removed or self.unknown, f"{len(self.removed)} retiré(s)"),
            (self.unknown, f"{len(self.unknown)} inconnu(s)"),
            (self.duplicates, f"{len(self.duplicates)} doublon(s) écarté(s)"),
            (self.near_duplicates, f"{len(self.near_duplicates)} quasi-doublon(s) écarté(s)"),
            (self.kept_near_duplicates, f"{len(self.kept_near_duplicates)} quasi-doublon(s) gardé(s)"),
            (self.from_store, f"{len(self.from_store)} repris de l'index"),
            (self.skipped, f"{len(self.skipped)} ignoré(s)"),
        ]
        parts += [text for present, text in optional if present]
        embedded = len(self.rebuilt) or len(self.added) + len(self.updated)
        rate = ""
        if embedded and self.seconds > 0:
            rate = f" ({embedded / self.seconds:.1f} doc/s, {self.chunks / self.seconds:.1f} passages/s)"
        return f"{', '.join(parts)} ; {self.chunks} passages calculés en {self.seconds:.1f} s{rate}."


def add_documents(
    settings: Settings,
    paths: Sequence[Path],
    embedder: Embedder,
    *,
    keep_near_duplicates: bool = False,
    progress: bool = True,
    on_wait: Callable[[str], None] | None = print,
) -> UpdateReport:
    """Index the files under ``paths`` (files or folders, recursively); the first ones make the index."""
    from rag.sources.files import load_documents

    started = time.perf_counter()
    documents, skipped = load_documents(list(paths))
    report = UpdateReport(skipped=list(skipped))
    return add_read_documents(
        settings,
        documents,
        embedder,
        report=report,
        keep_near_duplicates=keep_near_duplicates,
        progress=progress,
        on_wait=on_wait,
        started=started,
    )


def add_read_documents(
    settings: Settings,
    documents: Sequence[Document],
    embedder: Embedder,
    *,
    report: UpdateReport | None = None,
    keep_near_duplicates: bool = False,
    progress: bool = True,
    on_wait: Callable[[str], None] | None = print,
    started: float | None = None,
) -> UpdateReport:
    """Index documents already read (the entries of a feed, :mod:`index.feeds`), with the same
    checks as files: same source, same text, near duplicate. ``report`` may hold what the
    caller already decided (files skipped…)."""
    started = time.perf_counter() if started is None else started
    report = UpdateReport() if report is None else report
    with new_version(
        settings,
        if_missing=lambda: index_info(settings, embedder),
        embed_model=embedder.name,
        on_wait=on_wait,
    ) as store:
        accepted = _plan_additions(store, documents, report, keep_near_duplicates=keep_near_duplicates)
        report.chunks = store_documents(store, accepted, embedder, settings, progress=progress, description="Ajout")
    report.seconds = time.perf_counter() - started
    return report


def _plan_additions(
    store: Store, documents: Sequence[Document], report: UpdateReport, *, keep_near_duplicates: bool
) -> list[tuple[Document, Fingerprint]]:
    """Decide, file by file, what to index; stage the removal of replaced documents."""
    known = store.sources()
    taken = {doc_id for doc_id, _ in known.values()}
    duplicates = DuplicateFinder(store)
    accepted: list[tuple[Document, Fingerprint]] = []
    for document in documents:
        name = _label(document.source)
        previous = known.get(document.source)
        if previous is not None and previous[1] == document.sha256:
            report.unchanged.append(previous[0])
            continue
        doc_id = previous[0] if previous is not None else _free_id(document.doc_id, taken)
        document = dataclasses.replace(document, doc_id=doc_id)
        fingerprint = Fingerprint.of(document)
        twin = duplicates.exact(fingerprint.text_hash, doc_id)
        if twin is not None:
            report.duplicates.append(f"{name} : même texte que « {twin} », non indexé.")
            continue
        near = duplicates.near(fingerprint.minhash, doc_id)
        if near is not None:
            what = f"{name} : proche de « {near.doc_id} » (similarité {near.similarity:.2f})"
            if not keep_near_duplicates:
                report.near_duplicates.append(f"{what}, non indexé (--keep-near-duplicates pour l'indexer).")
                continue
            report.kept_near_duplicates.append(f"{what}, indexé.")
        if previous is not None:
            store.remove_document(doc_id)
            report.updated.append(doc_id)
        else:
            report.added.append(doc_id)
        taken.add(doc_id)
        duplicates.remember(doc_id, fingerprint.text_hash, fingerprint.minhash)
        accepted.append((document, fingerprint))
    return accepted


def _label(source: str) -> str:
    """How a note names a document: a file by its name, a feed entry by its address."""
    return source if "://" in source else Path(source).name


def _free_id(wanted: str, taken: set[str]) -> str:
    doc_id, n = wanted, 2
    while doc_id in taken:
        doc_id, n = f"{wanted}-{n}", n + 1
    return doc_id


def remove_documents(
    settings: Settings, doc_ids: Sequence[str], *, on_wait: Callable[[str], None] | None = print
) -> UpdateReport:
    """Remove documents (their rows, vectors and keyword entries) by id."""
    started = time.perf_counter()
    report = UpdateReport()
    with new_version(settings, on_wait=on_wait) as store:
        for doc_id in dict.fromkeys(doc_ids):
            if store.document(doc_id) is None:
                report.unknown.append(doc_id)
            else:
                store.remove_document(doc_id)
                report.removed.append(doc_id)
    report.seconds = time.perf_counter() - started
    return report


def rebuild_index(
    settings: Settings,
    embedder: Embedder,
    *,
    progress: bool = True,
    on_wait: Callable[[str], None] | None = print,
) -> UpdateReport:
    """Re-read every document's source file and index them all anew with the current settings
    (embedding model, chunking). A source that is gone or unreadable is indexed from the text
    the index holds, so a rebuild never loses a document."""
    started = time.perf_counter()
    if not index_present(settings) and not indexed_documents(settings):
        raise IndexMissingError(settings.index_dir)
    report = UpdateReport()
    with new_version(settings, fresh=index_info(settings, embedder), on_wait=on_wait) as store:
        documents = [_reread(old, report) for old in indexed_documents(settings)]
        report.rebuilt = [d.doc_id for d in documents]
        report.chunks = store_documents(
            store,
            [(d, Fingerprint.of(d)) for d in documents],
            embedder,
            settings,
            progress=progress,
            description="Reconstruction",
        )
    report.seconds = time.perf_counter() - started
    return report


def _reread(stored: Document, report: UpdateReport) -> Document:
    if stored.kind.startswith("feed"):
        return stored  # a feed entry has no file: its text is in the index (index.feeds)
    source = Path(stored.source)
    if not source.is_file():
        report.from_store.append(f"{source.name} : fichier source introuvable, texte de l'index gardé.")
        return stored
    try:
        document = read_document(source, doc_id=stored.doc_id)
    except DocumentError as error:
        report.from_store.append(f"{error} Texte de l'index gardé.")
        return stored
    if document.sha256 != stored.sha256:
        report.updated.append(stored.doc_id)
    return document
