"""One segment of the embedded store: a folder whose SQLite database, FAISS vectors and BM25
index hold exactly the same passages.

A segment is written once, by the writer that creates it (or copies it), and never changed
after its version is published: :mod:`rag.store.embedded` puts segments together into a
version and hides what later versions removed. Its searches take the rows to leave out
(``hidden``), so a published segment serves every version that still holds it.

Its files, their schema and how a segment is copied: :mod:`rag.store.segment_files`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from urllib.parse import quote

import faiss
import numpy as np

from rag.errors import IndexCorruptedError, ModelMismatchError
from rag.search.keyword import KeywordIndex
from rag.sources.chunking import Chunk
from rag.sources.dedup import signatures_from_bytes
from rag.sources.documents import Document
from rag.store import vector_index
from rag.store.records import SCHEMA_VERSION, DocumentSummary, IndexInfo, Passage, StoredDocument, keyword_text
from rag.store.segment_files import (
    DB_NAME,
    FINGERPRINT_IDS_NAME,
    FINGERPRINTS_NAME,
    KEYWORDS_NAME,
    SCHEMA,
    VECTORS_NAME,
    connect,
    document_from_row,
    now,
    passage_from_row,
)

log = logging.getLogger(__name__)


class Segment:
    """The rows of one segment folder, less the documents :meth:`hide` hides.

    A segment opened ``writable`` (one a writer creates or copies) takes additions and
    removals; any other is read-only, and a removal from it is a hidden document. Its vectors
    and BM25 index are read at the first search (``load=False``), so a writer that only adds
    beside it never reads them. Thread-safe for the chat's readers.
    """

    def __init__(self, directory: Path, connection: sqlite3.Connection, info: IndexInfo, *, writable: bool):
        self.directory = directory
        self.info = info
        self.writable = writable
        self._db = connection
        self._vectors: faiss.Index | None = None
        self._keywords: KeywordIndex | None = None
        self._keywords_stale = False
        self._lock = threading.RLock()
        self.chunk_count = connection.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        self.hidden_docs: frozenset[str] = frozenset()
        self._hidden_chunks = np.zeros(0, dtype=np.int64)
        self._search_params: faiss.SearchParameters | None = None
        self._keyword_mask: np.ndarray | None = None
        self._fingerprints: tuple[list[str], np.ndarray] | None = None

    # -- opening -------------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path, info: IndexInfo) -> Segment:
        """A new, empty, writable segment in ``directory`` (which must not hold one)."""
        directory.mkdir(parents=True, exist_ok=True)
        if (directory / DB_NAME).exists():
            raise FileExistsError(f"an index already exists in {directory}")
        db = connect(directory / DB_NAME, writable=True)
        with db:
            db.executescript(SCHEMA)
            meta = {k: json.dumps(v) for k, v in asdict(info).items()}
            meta["created_at"] = json.dumps(now())
            db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        segment = cls(directory, db, info, writable=True)
        segment._vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(info.dimension))
        segment._keywords = KeywordIndex()
        segment.save()
        return segment

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        embed_model: str | None = None,
        writable: bool = False,
        immutable: bool = True,
        load: bool = True,
    ) -> Segment:
        """Open the segment in ``directory``, checking its parts agree and were built by
        ``embed_model`` (if given). A read-only segment is read ``immutable`` unless told otherwise
        (a folder from before versions, which a writer may still move)."""
        db_path = directory / DB_NAME
        if not db_path.is_file():
            raise IndexCorruptedError(directory, f"{DB_NAME} manquant")
        try:
            db = connect(db_path, writable=writable, immutable=immutable and not writable)
            meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
            info = IndexInfo(**{k: meta[k] for k in IndexInfo.__dataclass_fields__})
            segment = cls(directory, db, info, writable=writable)
        except (sqlite3.DatabaseError, KeyError, TypeError, ValueError) as error:
            raise IndexCorruptedError(directory, f"base SQLite illisible : {error}") from None
        if info.schema_version != SCHEMA_VERSION:
            raise IndexCorruptedError(directory, f"format {info.schema_version}, attendu {SCHEMA_VERSION}")
        if embed_model is not None and embed_model != info.embed_model:
            raise ModelMismatchError(info.embed_model, embed_model)
        if not (directory / VECTORS_NAME).is_file():
            raise IndexCorruptedError(directory, f"{VECTORS_NAME} manquant")
        if load or writable:
            segment.load()
        return segment

    def load(self) -> None:
        """Read the vectors and the BM25 index, once, checking they hold the database's passages."""
        with self._lock:
            if self._vectors is not None:
                return
            path = self.directory / VECTORS_NAME
            if not self.writable:  # mapped: have the kernel read the file ahead of the first searches
                for file in [path, *(self.directory / KEYWORDS_NAME).glob("*.npy")]:
                    vector_index.read_ahead(file)
            vectors = vector_index.read(path, mapped=not self.writable)
            if vectors is None:
                raise IndexCorruptedError(self.directory, f"{VECTORS_NAME} illisible")
            if vectors.d != self.info.dimension:
                raise IndexCorruptedError(
                    self.directory, f"vecteurs de dimension {vectors.d}, attendu {self.info.dimension}"
                )
            if vectors.ntotal != self.chunk_count:
                raise IndexCorruptedError(self.directory, f"{vectors.ntotal} vecteurs pour {self.chunk_count} passages")
            try:
                keywords = KeywordIndex.load(self.directory / KEYWORDS_NAME, mapped=not self.writable)
            except (OSError, ValueError) as error:
                log.debug("KeywordIndex.load: %s", error)
                raise IndexCorruptedError(self.directory, f"index BM25 ({KEYWORDS_NAME}/) illisible") from None
            if len(keywords) != self.chunk_count:
                raise IndexCorruptedError(
                    self.directory, f"index BM25 de {len(keywords)} passages pour {self.chunk_count}"
                )
            self._vectors, self._keywords = vectors, keywords

    @property
    def vectors(self) -> faiss.Index:
        self.load()
        return self._vectors

    @property
    def keywords(self) -> KeywordIndex:
        self.load()
        return self._keywords

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def hide(self, doc_ids: Iterable[str]) -> None:
        """Leave these documents (and their passages) out of everything this segment gives back."""
        with self._lock:
            new = frozenset(doc_ids) - self.hidden_docs
            if not new:
                return
            rows = self._db.execute(
                "SELECT chunk_id FROM chunks WHERE doc_id IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(new)),),
            ).fetchall()
            self.hidden_docs |= new
            self._hidden_chunks = np.union1d(self._hidden_chunks, np.asarray([r[0] for r in rows], dtype=np.int64))
            self._search_params, self._keyword_mask = None, None

    @property
    def hidden_chunk_count(self) -> int:
        return len(self._hidden_chunks)

    # -- writing -------------------------------------------------------------------

    def add_document(
        self,
        document: Document,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        *,
        text_hash: str = "",
        minhash: bytes | None = None,
        first_id: int | None = None,
    ) -> list[int]:
        """Stage a document, its chunks and their vectors (one row per chunk); return chunk ids,
        numbered from ``first_id`` when given (else SQLite numbers them).

        ``text_hash`` and ``minhash`` are its duplicate fingerprints (:mod:`rag.sources.dedup`).
        Nothing reaches the disk before :meth:`save`; on error the staged rows are rolled back.
        """
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        with self._lock:
            self._require_writable()
            try:
                self._db.execute(
                    "INSERT INTO documents (doc_id, title, date, source, rubric, sha256, body, added_at, "
                    "author, site, kind, pages, text_hash, minhash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        document.doc_id,
                        document.title,
                        document.date,
                        document.source,
                        document.rubric,
                        document.sha256,
                        document.body,
                        now(),
                        document.author,
                        document.site,
                        document.kind,
                        json.dumps(list(document.pages)) if document.pages else None,
                        text_hash,
                        minhash,
                    ),
                )
                analyzer = self.keywords.analyzer
                ids = [
                    self._db.execute(
                        "INSERT INTO chunks (chunk_id, doc_id, position, start, end, text, terms) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            None if first_id is None else first_id + n,
                            c.doc_id,
                            c.position,
                            c.start,
                            c.end,
                            c.text,
                            " ".join(analyzer.terms(keyword_text(document.title, c.text))),
                        ),
                    ).lastrowid
                    for n, c in enumerate(chunks)
                ]
            except sqlite3.Error:
                self._db.rollback()
                raise
            if ids:
                self.vectors.add_with_ids(
                    np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
                )
            self.chunk_count += len(ids)
            self._keywords_stale = True
        return ids

    def remove_document(self, doc_id: str) -> int:
        """Stage the removal of a document with its chunks and vectors; return its chunk count."""
        with self._lock:
            self._require_writable()
            ids = [row[0] for row in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))]
            self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            if ids:
                self.vectors.remove_ids(np.asarray(ids, dtype=np.int64))
            self.chunk_count -= len(ids)
            self._keywords_stale = True
        return len(ids)

    def absorb(self, other: Segment) -> int:
        """Stage a copy of ``other``'s visible rows, under their chunk ids (a merge); return
        the passages copied."""
        with self._lock:
            self._require_writable()
            hidden = json.dumps(sorted(other.hidden_docs))
            self._db.execute("ATTACH DATABASE ? AS other", (f"file:{quote(str(other.directory / DB_NAME))}?mode=ro",))
            try:
                keep = "doc_id NOT IN (SELECT value FROM json_each(?))"
                self._db.execute(f"INSERT INTO documents SELECT * FROM other.documents WHERE {keep}", (hidden,))
                self._db.execute(f"INSERT INTO chunks SELECT * FROM other.chunks WHERE {keep}", (hidden,))
                ids = np.asarray(
                    [r[0] for r in self._db.execute(f"SELECT chunk_id FROM other.chunks WHERE {keep}", (hidden,))],
                    dtype=np.int64,
                )
                self._db.commit()
            finally:
                self._db.execute("DETACH DATABASE other")
            if len(ids):
                self.vectors.add_with_ids(np.ascontiguousarray(other.vectors.reconstruct_batch(ids)), ids)
            self.chunk_count += len(ids)
            self._keywords_stale = True
        return len(ids)

    def save(self) -> None:
        """Write the vectors (via a temporary file), the keyword index, and commit the database."""
        with self._lock:
            self._require_writable()
            if self.vectors.ntotal >= vector_index.APPROXIMATE_FROM and not isinstance(self._vectors, faiss.IndexIVF):
                self._vectors = vector_index.approximate(self._vectors)
            final = self.directory / VECTORS_NAME
            temporary = final.with_suffix(".faiss.tmp")
            faiss.write_index(self._vectors, str(temporary))
            os.replace(temporary, final)
            if self._keywords_stale or not (self.directory / KEYWORDS_NAME).is_dir():
                self._rebuild_keywords()
            self._db.execute("CREATE INDEX IF NOT EXISTS documents_by_source ON documents(source, doc_id, sha256)")
            self._db.commit()
            self._write_fingerprints()

    def _write_fingerprints(self) -> None:
        ids, matrix = self._stored_fingerprints()
        np.save(self.directory / FINGERPRINTS_NAME, matrix)
        (self.directory / FINGERPRINT_IDS_NAME).write_text(json.dumps(ids), encoding="utf-8")
        self._fingerprints = None

    def _stored_fingerprints(self) -> tuple[list[str], np.ndarray]:
        rows = self._db.execute(
            "SELECT doc_id, minhash FROM documents WHERE minhash IS NOT NULL ORDER BY doc_id"
        ).fetchall()
        return [r[0] for r in rows], signatures_from_bytes([r[1] for r in rows])

    def commit(self) -> None:
        """Commit the staged rows to the database only, for a merge that reads them
        (:meth:`absorb`) and builds its own indexes: this segment's files are then thrown away."""
        with self._lock:
            self._require_writable()
            self._db.commit()

    def _rebuild_keywords(self) -> None:
        rows = self._db.execute("SELECT chunk_id, terms FROM chunks ORDER BY chunk_id").fetchall()
        keywords = KeywordIndex(self.keywords.analyzer)
        keywords.build_from_terms([r[0] for r in rows], [r[1].split() for r in rows])
        target = self.directory / KEYWORDS_NAME
        fresh, retired = target.with_name(KEYWORDS_NAME + ".new"), target.with_name(KEYWORDS_NAME + ".old")
        for leftover in (fresh, retired):
            shutil.rmtree(leftover, ignore_errors=True)
        keywords.save(fresh)
        if target.exists():
            target.rename(retired)
        fresh.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
        self._keywords, self._keywords_stale = keywords, False

    def _require_writable(self) -> None:
        if not self.writable:
            raise PermissionError(f"segment {self.directory} is published: it is never changed")

    # -- reading -------------------------------------------------------------------

    def keyword_search(
        self, terms: Sequence[str], k: int, idf: Mapping[str, float] | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` visible chunk ids that best match the analyzed ``terms`` (BM25), best first,
        with scores; ``idf`` replaces this segment's own term weights (see :meth:`KeywordIndex.search_terms`)."""
        with self._lock:
            keywords = self.keywords
            if self._keyword_mask is None and len(self._hidden_chunks):
                self._keyword_mask = keywords.mask(self._hidden_chunks)
            return keywords.search_terms(terms, k, idf=idf, exclude=self._keyword_mask)

    def vector_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` visible chunk ids nearest ``query`` (a normalized vector), best first, with scores."""
        with self._lock:
            vectors = self.vectors
            visible = vectors.ntotal - len(self._hidden_chunks)
            if visible <= 0:
                return []
            if self._search_params is None and len(self._hidden_chunks):
                selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(self._hidden_chunks))
                if isinstance(vectors, faiss.IndexIVF):
                    params = faiss.SearchParametersIVF(sel=selector, nprobe=vectors.nprobe)
                else:
                    params = faiss.SearchParameters(sel=selector)
                params.referenced_objects = [selector]  # faiss keeps no reference of its own
                self._search_params = params
            scores, ids = vectors.search(
                np.asarray(query, dtype=np.float32).reshape(1, -1), min(k, visible), params=self._search_params
            )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def passages(self, ids: Sequence[int]) -> dict[int, Passage]:
        """The visible passages among chunk ``ids``, by id (scores left at 0)."""
        if not ids:
            return {}
        with self._lock:
            rows = self._db.execute(
                "SELECT c.chunk_id, c.doc_id, d.title, d.date, d.source, c.start, c.end, c.text, d.pages "
                f"FROM chunks c JOIN documents d USING (doc_id) WHERE c.chunk_id IN ({','.join('?' * len(ids))})",
                list(ids),
            ).fetchall()
        return {row[0]: passage_from_row(row, 0.0) for row in rows if row[1] not in self.hidden_docs}

    def document(self, doc_id: str) -> Document | None:
        if doc_id in self.hidden_docs:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT doc_id, title, date, source, body, sha256, rubric, author, site, pages, kind "
                "FROM documents WHERE doc_id = ?",
                (doc_id,),
            ).fetchone()
        return document_from_row(row) if row else None

    def holds(self, doc_id: str) -> bool:
        """Whether this segment holds ``doc_id``, visible."""
        if doc_id in self.hidden_docs:
            return False
        with self._lock:
            return self._db.execute("SELECT 1 FROM documents WHERE doc_id = ?", (doc_id,)).fetchone() is not None

    def sources(self) -> dict[str, tuple[str, str]]:
        """Every visible document's source file -> (doc_id, sha256 of the file as indexed)."""
        with self._lock:
            rows = self._db.execute("SELECT source, doc_id, sha256 FROM documents").fetchall()
        return {source: (doc_id, sha) for source, doc_id, sha in rows if doc_id not in self.hidden_docs}

    def document_with_text_hash(self, text_hash: str) -> str | None:
        """The id of a visible document whose normalized text has this hash (an exact duplicate)."""
        with self._lock:
            rows = self._db.execute("SELECT doc_id FROM documents WHERE text_hash = ?", (text_hash,)).fetchall()
        return next((r[0] for r in rows if r[0] not in self.hidden_docs), None)

    def minhashes(self) -> tuple[list[str], np.ndarray]:
        """Every visible document's id and MinHash signature (a row of the matrix), for
        near-duplicate search: from the fingerprint files, mapped, or else the database."""
        with self._lock:
            if self._fingerprints is None:
                self._fingerprints = self._read_fingerprints()
            ids, matrix = self._fingerprints
        if not self.hidden_docs:
            return list(ids), matrix
        keep = [n for n, doc_id in enumerate(ids) if doc_id not in self.hidden_docs]
        return [ids[n] for n in keep], matrix[keep]

    def _read_fingerprints(self) -> tuple[list[str], np.ndarray]:
        if not self.writable and (self.directory / FINGERPRINTS_NAME).is_file():
            try:
                ids = json.loads((self.directory / FINGERPRINT_IDS_NAME).read_text(encoding="utf-8"))
                matrix = np.load(self.directory / FINGERPRINTS_NAME, mmap_mode="r")
                if len(ids) == len(matrix):
                    return ids, matrix
            except (OSError, ValueError) as error:
                log.debug("fingerprints of %s: %s", self.directory, error)
        return self._stored_fingerprints()

    def documents(self) -> list[DocumentSummary]:
        with self._lock:
            rows = self._db.execute(
                "SELECT d.doc_id, d.title, d.date, d.source, COUNT(c.chunk_id) FROM documents d "
                "LEFT JOIN chunks c USING (doc_id) GROUP BY d.doc_id ORDER BY d.date DESC, d.doc_id"
            ).fetchall()
        return [DocumentSummary(*row) for row in rows if row[0] not in self.hidden_docs]

    def export(self) -> Iterator[StoredDocument]:
        """Every visible document with its chunks, vectors (from FAISS, by chunk id) and fingerprints."""
        with self._lock:
            rows = self._db.execute("SELECT doc_id, text_hash, minhash FROM documents ORDER BY doc_id").fetchall()
        for doc_id, text_hash, minhash in rows:
            if doc_id in self.hidden_docs:
                continue
            document = self.document(doc_id)
            with self._lock:
                chunk_rows = self._db.execute(
                    "SELECT chunk_id, position, start, end, text FROM chunks WHERE doc_id = ? ORDER BY position",
                    (doc_id,),
                ).fetchall()
                vectors = (
                    np.stack([self.vectors.reconstruct(int(row[0])) for row in chunk_rows])
                    if chunk_rows
                    else (np.zeros((0, self.info.dimension), np.float32))
                )
            chunks = tuple(Chunk(doc_id, *row[1:]) for row in chunk_rows)
            yield StoredDocument(document, chunks, vectors, text_hash, minhash)

    def counts(self) -> tuple[int, int]:
        """(visible documents, visible chunks)."""
        with self._lock:
            documents = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            hidden = self._db.execute(
                "SELECT COUNT(*) FROM documents WHERE doc_id IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(self.hidden_docs)),),
            ).fetchone()[0]
        return documents - hidden, self.chunk_count - len(self._hidden_chunks)

    def max_chunk_id(self) -> int:
        """The largest chunk id this segment's files hold, hidden or not (0 when empty)."""
        with self._lock:
            return self._db.execute("SELECT COALESCE(MAX(chunk_id), 0) FROM chunks").fetchone()[0]
