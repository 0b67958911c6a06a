"""The embedded store: one version of the index on disk, made of immutable segments.

A version folder (:mod:`rag.store.versions`) holds::

    v-…/
        store.sqlite, vectors.faiss, bm25/    the base segment (rag.store.segment)
        segments/d-…/                          delta segments, oldest first
        segments.json                          the deltas, and the documents each segment hides (rag.store.manifest)

A small index (under ``SEGMENTS_FROM`` passages) is written as it always was: a writer copies
the base and changes the copy. Past that size a write costs what it changes: the new version
takes the previous one's segments by hard links (no byte copied), its additions go into a new
delta segment, and its removals are hidden, listed in ``segments.json``, not deleted. Every
segment keeps its own FAISS and BM25 indexes; searches run on each and merge by score, BM25
with the term weights (idf) of all segments together so that scores compare. Merges bound the
number of deltas (``MAX_DELTAS``) and, when the deltas grow past ``1/MERGE_SHARE`` of the base,
fold everything into a new base; ``python -m index optimize`` does that on demand. A merge
writes new segments: a published segment is never modified, so the version before stays whole
for the readers still on it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from rag.errors import DepecheError, IndexCorruptedError, IndexMissingError
from rag.search.keyword import lucene_idf
from rag.sources.chunking import Chunk
from rag.sources.documents import Document
from rag.store.manifest import DELTAS, index_exists, passage_count, read_manifest, segment_dir, write_manifest
from rag.store.records import DocumentSummary, IndexInfo, Passage, StoredDocument
from rag.store.segment import Segment
from rag.store.segment_files import (
    DB_NAME,
    KEYWORDS_NAME,
    SEGMENT_FILES,
    VECTORS_NAME,
    copy_segment,
    link_segment,
)
from rag.store.versions import current_version, previous_version

log = logging.getLogger(__name__)

# Below this many passages a write copies the whole index (about 0.3 s at 5,000 passages, 1 s at
# 10,000); above, it adds a delta segment (0.1 s at 100,000, 0.6 s at a million: docs/scaling.md).
SEGMENTS_FROM = 5_000
MAX_DELTAS = 8  # more delta segments are merged into one
MERGE_SHARE = 4  # deltas holding more than 1/MERGE_SHARE of the base's passages are merged into it

__all__ = [
    "DB_NAME",
    "KEYWORDS_NAME",
    "VECTORS_NAME",
    "IndexStore",
]


class IndexStore:
    """Documents, chunks and vectors of one version of the index (a :class:`rag.store.interface.Store`):
    its segments, base first, less what each hides. Thread-safe for the chat's readers."""

    def __init__(self, directory: Path, segments: list[Segment], deltas: list[str], *, target: Segment | None = None):
        self.directory = directory
        self.info = segments[0].info
        self._segments = segments  # base first, then the deltas in ``deltas`` order
        self._deltas = deltas
        self._target = target  # the segment that takes additions: the base when writable, else a new delta
        self._merge_all = False
        self._next_id: int | None = None  # of the next chunk added; readers never need it
        self._lock = threading.RLock()
        self.warning: str | None = None  # set when an older version answers for a damaged one

    # -- opening -------------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path, info: IndexInfo) -> IndexStore:
        """A new, empty index in ``directory`` (which must not hold one)."""
        if index_exists(directory):
            raise FileExistsError(f"an index already exists in {directory}")
        base = Segment.create(directory, info)
        return cls(directory, [base], [], target=base)

    @classmethod
    def open(cls, directory: Path, *, embed_model: str | None = None, writable: bool = False) -> IndexStore:
        """Open an index, checking it is whole and was built by ``embed_model`` (if given).

        ``directory`` is an index folder (its current version is opened) or one version.
        Only a private copy of one segment may be opened ``writable`` (see :meth:`extend`).
        """
        root, directory = directory, current_version(directory)
        if directory is None or not (directory / DB_NAME).is_file():
            raise IndexMissingError(root)
        try:
            return cls._open(directory, embed_model=embed_model, writable=writable, immutable=directory != root)
        except IndexCorruptedError as damage:
            previous = None if writable or directory == root else previous_version(root)
            if previous is None:
                raise
            try:
                store = cls._open(previous, embed_model=embed_model)
            except DepecheError:
                raise damage from None
            why = str(damage)
        # A damaged current version (a file corrupted on disk): the one before it answers, and
        # every status says so, until a rebuild (which reads the texts from the damaged one).
        store.warning = f"{why} En attendant, la version précédente ({previous.name}) répond."
        log.error("%s", store.warning)
        return store

    @classmethod
    def _open(
        cls, directory: Path, *, embed_model: str | None, writable: bool = False, immutable: bool = True, load=True
    ) -> IndexStore:
        manifest = read_manifest(directory)
        if writable and manifest["deltas"]:
            raise ValueError(f"{directory} has delta segments: it cannot be changed in place")
        segments: list[Segment] = []
        try:
            for name in ["", *manifest["deltas"]]:
                segment = Segment.open(
                    segment_dir(directory, name),
                    embed_model=embed_model,
                    writable=writable,
                    immutable=immutable,
                    load=load or bool(name),
                )
                if segments and segment.info.dimension != segments[0].info.dimension:
                    raise IndexCorruptedError(directory, f"segment {name} d'une autre dimension")
                segment.hide(manifest["hidden"].get(name, ()))
                segments.append(segment)
        except BaseException:
            for segment in segments:
                segment.close()
            raise
        return cls(directory, segments, list(manifest["deltas"]), target=segments[0] if writable else None)

    @classmethod
    def extend(cls, current: Path, version: Path, *, embed_model: str | None = None) -> IndexStore:
        """A writer's store in the empty folder ``version`` that starts as the version in
        ``current``: a copy of its base when it is small, else its segments by hard links, with
        a new delta segment for what is added."""
        manifest = read_manifest(current)
        if not manifest["deltas"] and not manifest["hidden"] and passage_count(current) < SEGMENTS_FROM:
            copy_segment(current, version)
            return cls._open(version, embed_model=embed_model, writable=True)
        link_segment(current, version)
        for name in manifest["deltas"]:
            link_segment(segment_dir(current, name), segment_dir(version, name))
        write_manifest(version, manifest)
        return cls._open(version, embed_model=embed_model, load=False)

    def close(self) -> None:
        with self._lock:
            for segment in self._segments:
                segment.close()

    @property
    def location(self) -> str:
        """See :attr:`rag.store.interface.Store.location`."""
        return f"intégré (SQLite, FAISS, BM25) dans {self.directory}"

    @property
    def version(self) -> str:
        """See :attr:`rag.store.interface.Store.version`."""
        return self.directory.name

    @property
    def segment_count(self) -> int:
        return len(self._segments)

    @property
    def layout(self) -> str:
        """See :attr:`rag.store.interface.Store.layout`."""
        hidden = sum(len(segment.hidden_docs) for segment in self._segments)
        deltas = len(self._segments) - 1
        if not deltas and not hidden:
            return "un segment"
        return (
            f"une base et {deltas} segment(s) d'ajouts, {hidden} document(s) retiré(s) mais encore sur disque "
            "(`python -m index optimize` fusionne)"
        )

    def snapshot(self) -> IndexStore:
        """This store: a version never changes (see :class:`rag.store.live.LiveIndex`)."""
        return self

    # -- writing -------------------------------------------------------------------

    def add_document(
        self,
        document: Document,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        *,
        text_hash: str = "",
        minhash: bytes | None = None,
    ) -> list[int]:
        """Stage a document, its chunks and their vectors (one row per chunk); return chunk ids.

        ``text_hash`` and ``minhash`` are its duplicate fingerprints (:mod:`rag.sources.dedup`).
        Nothing reaches the disk before :meth:`save`; on error the staged rows are rolled back.
        """
        with self._lock:
            if self._next_id is None:
                self._next_id = 1 + max(segment.max_chunk_id() for segment in self._segments)
            target = self._target or self._new_delta()
            ids = target.add_document(
                document, chunks, vectors, text_hash=text_hash, minhash=minhash, first_id=self._next_id
            )
            self._next_id += len(ids)
        return ids

    def remove_document(self, doc_id: str) -> int:
        """Stage the removal of a document with its chunks and vectors; return its chunk count.
        A published segment keeps its rows and hides the document."""
        with self._lock:
            for segment in self._segments:
                if not segment.holds(doc_id):
                    continue
                if segment.writable:
                    return segment.remove_document(doc_id)
                before = segment.hidden_chunk_count
                segment.hide([doc_id])
                return segment.hidden_chunk_count - before
        return 0

    def optimize(self) -> None:
        """Fold every segment into one new base at :meth:`save`, leaving out what they hide
        (a copy of the whole index, even when it is one segment already)."""
        self._merge_all = True

    def save(self) -> None:
        """Write the staged segment, merge segments as the policy says, and write the manifest."""
        with self._lock:
            base, deltas = self._segments[0], self._segments[1:]
            delta_passages = sum(segment.chunk_count for segment in deltas)
            hidden = sum(segment.hidden_chunk_count for segment in self._segments)
            merge = None
            if self._merge_all:  # rewritten whole, in today's format, even from one segment
                merge = self._merge_into_base
            elif len(self._segments) > 1 or hidden:
                if (delta_passages + hidden) * MERGE_SHARE > base.chunk_count or (
                    base.chunk_count + delta_passages < SEGMENTS_FROM
                ):
                    merge = self._merge_into_base
                elif len(deltas) > MAX_DELTAS:
                    merge = self._merge_deltas
            if self._target is not None:
                if merge is not None and self._target is not base:
                    self._target.commit()  # a merge reads its rows: its own indexes would be thrown away
                else:
                    self._target.save()
            if merge is not None:
                merge()
            write_manifest(
                self.directory,
                {
                    "deltas": self._deltas,
                    "hidden": {
                        name: sorted(segment.hidden_docs)
                        for name, segment in zip(["", *self._deltas], self._segments, strict=True)
                        if segment.hidden_docs
                    },
                },
            )

    def _new_delta(self) -> Segment:
        name = f"d-{time.time_ns():x}"
        self._target = Segment.create(segment_dir(self.directory, name), self.info)
        self._segments.append(self._target)
        self._deltas.append(name)
        return self._target

    def _merge_into_base(self) -> None:
        """Replace the base's files by one segment holding every visible row."""
        started = time.perf_counter()
        merged_dir = self.directory / ".merged"
        shutil.rmtree(merged_dir, ignore_errors=True)
        merged = _merge(self._segments, merged_dir)
        for segment in self._segments:
            segment.close()
        for name in SEGMENT_FILES:  # the old base's files are links: replacing them
            if (merged_dir / name).exists():  # leaves the version before whole
                os.replace(merged_dir / name, self.directory / name)
            else:
                (self.directory / name).unlink(missing_ok=True)
        shutil.rmtree(self.directory / KEYWORDS_NAME)
        os.replace(merged_dir / KEYWORDS_NAME, self.directory / KEYWORDS_NAME)
        shutil.rmtree(merged_dir)
        shutil.rmtree(self.directory / DELTAS, ignore_errors=True)
        merged.directory = self.directory  # its open files moved with it
        base = merged
        self._segments, self._deltas, self._target = [base], [], base
        seconds = time.perf_counter() - started
        log.info("segments merged into one base of %d passages in %.1f s", base.chunk_count, seconds)

    def _merge_deltas(self) -> None:
        """Replace the delta segments by one."""
        name = f"d-{time.time_ns():x}"
        merged = _merge(self._segments[1:], segment_dir(self.directory, name))
        for old_name, segment in zip(self._deltas, self._segments[1:], strict=True):
            segment.close()
            shutil.rmtree(segment_dir(self.directory, old_name))
        self._segments = [self._segments[0], merged]
        self._deltas, self._target = [name], merged
        log.info("delta segments merged into one of %d passages", merged.chunk_count)

    # -- reading -------------------------------------------------------------------

    def keyword_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` chunk ids that best match ``query``'s words (BM25), best first, with scores."""
        with self._lock:
            segments = list(self._segments)
        terms = segments[0].keywords.analyzer.terms(query)
        if len(segments) == 1:
            return segments[0].keyword_search(terms, k)
        documents = sum(len(segment.keywords) for segment in segments)
        idf = {
            term: lucene_idf(sum(segment.keywords.document_frequency(term) for segment in segments), documents)
            for term in set(terms)
        }
        found = [hit for segment in segments for hit in segment.keyword_search(terms, k, idf=idf)]
        return sorted(found, key=lambda hit: -hit[1])[:k]

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        """Each analyzed term's weight in the keyword search (Lucene's idf over every segment's
        passages): how rare, hence telling, it is here (:mod:`rag.answer.choice`)."""
        with self._lock:
            segments = list(self._segments)
        documents = sum(len(segment.keywords) for segment in segments)
        return {
            term: lucene_idf(sum(segment.keywords.document_frequency(term) for segment in segments), documents)
            for term in set(terms)
        }

    def vector_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` chunk ids nearest ``query`` (a normalized vector), best first, with scores."""
        with self._lock:
            segments = list(self._segments)
        found = [hit for segment in segments for hit in segment.vector_search(query, k)]
        return sorted(found, key=lambda hit: -hit[1])[:k] if len(segments) > 1 else found

    def passages(self, scored_ids: Sequence[tuple[int, float]]) -> list[Passage]:
        """Passages for ``(chunk_id, score)`` pairs, in the order given."""
        if not scored_ids:
            return []
        ids = [i for i, _ in scored_ids]
        found: dict[int, Passage] = {}
        for segment in self._segments:
            found.update(segment.passages([i for i in ids if i not in found]))
            if len(found) == len(ids):
                break
        return [_scored(found[i], s) for i, s in scored_ids if i in found]

    def document(self, doc_id: str) -> Document | None:
        return next((d for s in reversed(self._segments) if (d := s.document(doc_id)) is not None), None)

    def sources(self) -> dict[str, tuple[str, str]]:
        """Every document's source file -> (doc_id, sha256 of the file as indexed)."""
        found: dict[str, tuple[str, str]] = {}
        for segment in self._segments:
            found.update(segment.sources())
        return found

    def document_with_text_hash(self, text_hash: str) -> str | None:
        """The id of a document whose normalized text has this hash (an exact duplicate)."""
        return next((d for s in self._segments if (d := s.document_with_text_hash(text_hash)) is not None), None)

    def minhashes(self) -> tuple[list[str], np.ndarray]:
        """Every document's id and MinHash signature (a row of the matrix), for near-duplicate search."""
        found = [segment.minhashes() for segment in self._segments]
        if len(found) == 1:
            return found[0]
        return [doc_id for ids, _ in found for doc_id in ids], np.concatenate([matrix for _, matrix in found])

    def documents(self) -> list[DocumentSummary]:
        found = [summary for segment in self._segments for summary in segment.documents()]
        if len(self._segments) > 1:
            found.sort(key=lambda d: d.doc_id)
            found.sort(key=lambda d: d.date or "", reverse=True)
        return found

    def export(self) -> Iterator[StoredDocument]:
        """See :meth:`rag.store.interface.Store.export`: vectors come back from FAISS by chunk id."""
        for segment in self._segments:
            yield from segment.export()

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""
        totals = [segment.counts() for segment in self._segments]
        return sum(t[0] for t in totals), sum(t[1] for t in totals)


def _merge(segments: Sequence[Segment], target: Path) -> Segment:
    """One writable segment in ``target`` with the visible rows of ``segments``, saved: a copy
    of the first, less what it hides, then the others' rows."""
    copy_segment(segments[0].directory, target)
    merged = Segment.open(target, writable=True)
    for doc_id in sorted(segments[0].hidden_docs):
        merged.remove_document(doc_id)
    for segment in segments[1:]:
        merged.absorb(segment)
    merged.save()
    return merged


def _scored(passage: Passage, score: float) -> Passage:
    return dataclasses.replace(passage, score=score)
