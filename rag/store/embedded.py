"""The embedded store: one version of the index on disk, a FAISS vector index beside an SQLite database.

``<dir>/store.sqlite`` holds documents (metadata, body, duplicate fingerprints), chunks
(text and character offsets in the body) and the settings that built the index;
``<dir>/vectors.faiss`` holds one normalized vector per chunk under the chunk's SQLite id, in
an ``IndexIDMap2`` over a flat inner-product index, so chunks can be removed by id; from
``APPROXIMATE_FROM`` passages on, an inverted-file index (``IndexIVFFlat``, ids and removal
built in) of which a search scans a share of the lists instead of every vector (:func:`approximate`);
``<dir>/bm25/`` holds the French keyword index over the same chunks (:mod:`rag.keyword`),
rebuilt from the database whenever documents change.

A published version is never modified (:mod:`rag.versions`): readers open its database
read-only and ``immutable``, without locks; writers change a copy (:func:`copy_index`).
:meth:`IndexStore.open` given the index folder opens its current version.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from urllib.parse import quote

import faiss
import numpy as np

from rag.chunking import Chunk
from rag.documents import Document, page_at
from rag.errors import IndexCorruptedError, IndexMissingError, ModelMismatchError
from rag.keyword import KeywordIndex
from rag.store.records import SCHEMA_VERSION, DocumentSummary, IndexInfo, Passage, StoredDocument, keyword_text
from rag.versions import current_version

log = logging.getLogger(__name__)

# The flat index scans every vector: 258 ms a query at a million 768-d passages
# (docs/scaling.md). Past this size the vectors go into an inverted file of about 2·√n lists, a
# quarter of which a search scans: on real EmbeddingGemma vectors (SPF-QR) recall@10 is 0.992
# at a quarter, 0.978 at an eighth, 0.81 at 1/64 (docs/scaling.md).
APPROXIMATE_FROM = 200_000
PROBE_SHARE = 4  # a search scans 1/PROBE_SHARE of the lists
TRAIN_PER_LIST = 32  # training vectors per list: faiss would like 39, 32 keeps the training short

DB_NAME = "store.sqlite"
VECTORS_NAME = "vectors.faiss"
KEYWORDS_NAME = "bm25"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    source TEXT NOT NULL,
    rubric TEXT,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    added_at TEXT NOT NULL,
    author TEXT,
    site TEXT,
    kind TEXT NOT NULL,
    pages TEXT,  -- JSON list of the body offsets where pages start (PDF)
    text_hash TEXT NOT NULL,  -- of the normalized text: exact duplicates share it
    minhash BLOB  -- MinHash signature: near duplicates have close ones
);
CREATE INDEX documents_by_text_hash ON documents(text_hash);
CREATE TABLE chunks (
    chunk_id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    terms TEXT NOT NULL  -- the BM25 terms of title and text, space-separated (rag.keyword)
);
CREATE INDEX chunks_by_doc ON chunks(doc_id);
"""


def stored_documents(directory: Path) -> list[Document]:
    """The documents of the index in ``directory`` (its folder or one version), read without
    opening it fully: it may be of an older format, or its vectors damaged. An unreadable
    database gives an empty list."""
    version = current_version(directory) or directory
    base = "doc_id, title, date, source, body, sha256, rubric"
    try:
        db = sqlite3.connect(f"file:{quote(str(version / DB_NAME))}?mode=ro", uri=True)
        try:
            try:
                rows = db.execute(f"SELECT {base}, author, site, pages, kind FROM documents ORDER BY doc_id").fetchall()
            except sqlite3.OperationalError:  # an index of format 2: no formats or pages yet
                rows = [(*row, None, None, None, "text") for row in db.execute(f"SELECT {base} FROM documents")]
        finally:
            db.close()
    except sqlite3.Error:
        return []
    return [_document(row) for row in rows]


def recorded_sources(directory: Path) -> list[Path]:
    """The source files of the documents in an index (see :func:`stored_documents`)."""
    return sorted({Path(document.source) for document in stored_documents(directory)})


def index_exists(directory: Path) -> bool:
    version = current_version(directory)
    return version is not None and (version / DB_NAME).is_file()


def copy_index(source: Path, target: Path) -> None:
    """Copy the index version in ``source`` into the empty folder ``target``."""
    for name in (DB_NAME, VECTORS_NAME):
        shutil.copyfile(source / name, target / name)
    shutil.copytree(source / KEYWORDS_NAME, target / KEYWORDS_NAME, dirs_exist_ok=True)


class IndexStore:
    """Documents, chunks and vectors of one index folder (a :class:`rag.store.Store`).
    Thread-safe for the chat's readers."""

    def __init__(
        self,
        directory: Path,
        connection: sqlite3.Connection,
        vectors: faiss.Index,
        keywords: KeywordIndex,
        info: IndexInfo,
    ):
        self.directory = directory
        self.info = info
        self._db = connection
        self._vectors = vectors
        self._keywords = keywords
        self._keywords_stale = False
        self._lock = threading.RLock()

    # -- opening -------------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path, info: IndexInfo) -> IndexStore:
        """A new, empty index in ``directory`` (which must not hold one)."""
        directory.mkdir(parents=True, exist_ok=True)
        if index_exists(directory):
            raise FileExistsError(f"an index already exists in {directory}")
        db = _connect(directory / DB_NAME, writable=True)
        with db:
            db.executescript(_SCHEMA)
            meta = {k: json.dumps(v) for k, v in asdict(info).items()}
            meta["created_at"] = json.dumps(_now())
            db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(info.dimension))
        store = cls(directory, db, vectors, KeywordIndex(), info)
        store.save()
        return store

    @classmethod
    def open(cls, directory: Path, *, embed_model: str | None = None, writable: bool = False) -> IndexStore:
        """Open an index, checking it is whole and was built by ``embed_model`` (if given).

        ``directory`` is an index folder (its current version is opened) or one version.
        Only a private copy may be opened ``writable`` (see :mod:`rag.versions`).
        """
        root, directory = directory, current_version(directory)
        if directory is None or not (directory / DB_NAME).is_file():
            raise IndexMissingError(root)
        db_path, vectors_path = directory / DB_NAME, directory / VECTORS_NAME
        try:
            db = _connect(db_path, writable=writable, immutable=not writable and directory != root)
            meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
            info = IndexInfo(**{k: meta[k] for k in IndexInfo.__dataclass_fields__})
            chunk_count = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        except (sqlite3.DatabaseError, KeyError, TypeError, ValueError) as error:
            raise IndexCorruptedError(directory, f"base SQLite illisible : {error}") from None
        if info.schema_version != SCHEMA_VERSION:
            raise IndexCorruptedError(directory, f"format {info.schema_version}, attendu {SCHEMA_VERSION}")
        if embed_model is not None and embed_model != info.embed_model:
            raise ModelMismatchError(info.embed_model, embed_model)
        if not vectors_path.is_file():
            raise IndexCorruptedError(directory, f"{VECTORS_NAME} manquant")
        try:
            vectors = faiss.read_index(str(vectors_path))
        except RuntimeError as error:
            log.debug("faiss.read_index(%s): %s", vectors_path, error)
            raise IndexCorruptedError(directory, f"{VECTORS_NAME} illisible") from None
        if isinstance(vectors, faiss.IndexIVF):
            vectors.nprobe = max(1, vectors.nlist // PROBE_SHARE)
        if vectors.d != info.dimension:
            raise IndexCorruptedError(directory, f"vecteurs de dimension {vectors.d}, attendu {info.dimension}")
        if vectors.ntotal != chunk_count:
            raise IndexCorruptedError(directory, f"{vectors.ntotal} vecteurs pour {chunk_count} passages")
        try:
            keywords = KeywordIndex.load(directory / KEYWORDS_NAME)
        except (OSError, ValueError) as error:
            log.debug("KeywordIndex.load: %s", error)
            raise IndexCorruptedError(directory, f"index BM25 ({KEYWORDS_NAME}/) illisible") from None
        if len(keywords) != chunk_count:
            raise IndexCorruptedError(directory, f"index BM25 de {len(keywords)} passages pour {chunk_count}")
        return cls(directory, db, vectors, keywords, info)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def location(self) -> str:
        """See :attr:`rag.store.Store.location`."""
        return f"intégré (SQLite, FAISS, BM25) dans {self.directory}"

    @property
    def version(self) -> str:
        """See :attr:`rag.store.Store.version`."""
        return self.directory.name

    def snapshot(self) -> IndexStore:
        """This store: a version never changes (see :class:`rag.live.LiveIndex`)."""
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

        ``text_hash`` and ``minhash`` are its duplicate fingerprints (:mod:`rag.dedup`).
        Nothing reaches the disk before :meth:`save`; on error the staged rows are rolled back.
        """
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        with self._lock:
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
                        _now(),
                        document.author,
                        document.site,
                        document.kind,
                        json.dumps(list(document.pages)) if document.pages else None,
                        text_hash,
                        minhash,
                    ),
                )
                analyzer = self._keywords.analyzer
                ids = [
                    self._db.execute(
                        "INSERT INTO chunks (doc_id, position, start, end, text, terms) VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            c.doc_id,
                            c.position,
                            c.start,
                            c.end,
                            c.text,
                            " ".join(analyzer.terms(keyword_text(document.title, c.text))),
                        ),
                    ).lastrowid
                    for c in chunks
                ]
            except sqlite3.Error:
                self._db.rollback()
                raise
            if ids:
                self._vectors.add_with_ids(
                    np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
                )
            self._keywords_stale = True
        return ids

    def remove_document(self, doc_id: str) -> int:
        """Stage the removal of a document with its chunks and vectors; return its chunk count."""
        with self._lock:
            ids = [row[0] for row in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))]
            self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            self._db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            if ids:
                self._vectors.remove_ids(np.asarray(ids, dtype=np.int64))
            self._keywords_stale = True
        return len(ids)

    def save(self) -> None:
        """Write the vectors (via a temporary file), the keyword index, and commit the database."""
        with self._lock:
            if self._vectors.ntotal >= APPROXIMATE_FROM and not isinstance(self._vectors, faiss.IndexIVF):
                self._vectors = approximate(self._vectors)
            final = self.directory / VECTORS_NAME
            temporary = final.with_suffix(".faiss.tmp")
            faiss.write_index(self._vectors, str(temporary))
            os.replace(temporary, final)
            if self._keywords_stale or not (self.directory / KEYWORDS_NAME).is_dir():
                self._rebuild_keywords()
            self._db.commit()

    def _rebuild_keywords(self) -> None:
        rows = self._db.execute("SELECT chunk_id, terms FROM chunks ORDER BY chunk_id").fetchall()
        keywords = KeywordIndex(self._keywords.analyzer)
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

    # -- reading -------------------------------------------------------------------

    def keyword_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` chunk ids that best match ``query``'s words (BM25), best first, with scores."""
        with self._lock:
            return self._keywords.search(query, k)

    def vector_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` chunk ids nearest ``query`` (a normalized vector), best first, with scores."""
        with self._lock:
            if self._vectors.ntotal == 0:
                return []
            scores, ids = self._vectors.search(
                np.asarray(query, dtype=np.float32).reshape(1, -1), min(k, self._vectors.ntotal)
            )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def passages(self, scored_ids: Sequence[tuple[int, float]]) -> list[Passage]:
        """Passages for ``(chunk_id, score)`` pairs, in the order given."""
        if not scored_ids:
            return []
        ids = [i for i, _ in scored_ids]
        with self._lock:
            rows = self._db.execute(
                "SELECT c.chunk_id, c.doc_id, d.title, d.date, d.source, c.start, c.end, c.text, d.pages "
                f"FROM chunks c JOIN documents d USING (doc_id) WHERE c.chunk_id IN ({','.join('?' * len(ids))})",
                ids,
            ).fetchall()
        by_id = {row[0]: row for row in rows}
        return [_passage(by_id[i], s) for i, s in scored_ids if i in by_id]

    def document(self, doc_id: str) -> Document | None:
        with self._lock:
            row = self._db.execute(
                "SELECT doc_id, title, date, source, body, sha256, rubric, author, site, pages, kind "
                "FROM documents WHERE doc_id = ?",
                (doc_id,),
            ).fetchone()
        return _document(row) if row else None

    def sources(self) -> dict[str, tuple[str, str]]:
        """Every document's source file -> (doc_id, sha256 of the file as indexed)."""
        with self._lock:
            rows = self._db.execute("SELECT source, doc_id, sha256 FROM documents").fetchall()
        return {source: (doc_id, sha) for source, doc_id, sha in rows}

    def document_with_text_hash(self, text_hash: str) -> str | None:
        """The id of a document whose normalized text has this hash (an exact duplicate)."""
        with self._lock:
            row = self._db.execute("SELECT doc_id FROM documents WHERE text_hash = ? LIMIT 1", (text_hash,)).fetchone()
        return row[0] if row else None

    def minhashes(self) -> tuple[list[str], list[bytes]]:
        """Every document's id and MinHash signature, for near-duplicate search."""
        with self._lock:
            rows = self._db.execute("SELECT doc_id, minhash FROM documents WHERE minhash IS NOT NULL").fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def documents(self) -> list[DocumentSummary]:
        with self._lock:
            rows = self._db.execute(
                "SELECT d.doc_id, d.title, d.date, d.source, COUNT(c.chunk_id) FROM documents d "
                "LEFT JOIN chunks c USING (doc_id) GROUP BY d.doc_id ORDER BY d.date DESC, d.doc_id"
            ).fetchall()
        return [DocumentSummary(*row) for row in rows]

    def export(self) -> Iterator[StoredDocument]:
        """See :meth:`rag.store.Store.export`: vectors come back from FAISS by chunk id."""
        with self._lock:
            rows = self._db.execute("SELECT doc_id, text_hash, minhash FROM documents ORDER BY doc_id").fetchall()
        for doc_id, text_hash, minhash in rows:
            document = self.document(doc_id)
            with self._lock:
                chunk_rows = self._db.execute(
                    "SELECT chunk_id, position, start, end, text FROM chunks WHERE doc_id = ? ORDER BY position",
                    (doc_id,),
                ).fetchall()
                vectors = (
                    np.stack([self._vectors.reconstruct(int(row[0])) for row in chunk_rows])
                    if chunk_rows
                    else (np.zeros((0, self.info.dimension), np.float32))
                )
            chunks = tuple(Chunk(doc_id, *row[1:]) for row in chunk_rows)
            yield StoredDocument(document, chunks, vectors, text_hash, minhash)

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""
        with self._lock:
            documents = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            return documents, int(self._vectors.ntotal)


def vector_ids(index: faiss.Index) -> np.ndarray:
    """The chunk ids a vector index holds, flat or inverted file."""
    if isinstance(index, faiss.IndexIVF):
        lists = index.invlists
        found = [
            faiss.rev_swig_ptr(lists.get_ids(n), lists.list_size(n)).copy()
            for n in range(index.nlist)
            if lists.list_size(n)
        ]
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    return faiss.vector_to_array(index.id_map)


def approximate(flat: faiss.IndexIDMap2) -> faiss.IndexIVFFlat:
    """The same vectors under the same ids in an inverted file: about 2·√n lists (a power of
    two), centroids trained on a fixed sample, a hash table from id to place so that removal
    and reconstruction by id still work."""
    count, dimension = flat.ntotal, flat.d
    lists = min(1 << round(np.log2(2 * np.sqrt(count))), max(1, count // TRAIN_PER_LIST))
    ids = faiss.vector_to_array(flat.id_map)
    vectors = flat.index.reconstruct_n(0, count)
    sample = np.random.default_rng(0).choice(count, size=min(count, lists * TRAIN_PER_LIST), replace=False)
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFFlat(quantizer, dimension, lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = 10
    index.cp.min_points_per_centroid = 1  # a sample of TRAIN_PER_LIST a list is enough here
    index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.add_with_ids(vectors, ids)
    index.nprobe = max(1, lists // PROBE_SHARE)
    log.info("vectors: %d in an inverted file of %d lists", count, lists)
    return index


def _document(row: tuple) -> Document:
    """A Document from ``doc_id, title, date, source, body, sha256, rubric, author, site, pages, kind``."""
    *head, pages, kind = row
    return Document(*head, pages=tuple(json.loads(pages)) if pages else (), kind=kind)


def _passage(row: tuple, score: float) -> Passage:
    *fields, pages = row
    start = fields[5]
    return Passage(*fields, score=score, page=page_at(json.loads(pages), start) if pages else None)


def _connect(path: Path, *, writable: bool = False, immutable: bool = False) -> sqlite3.Connection:
    """A connection for the chat's threads. A published version is read ``immutable``: SQLite
    then takes no lock and writes nothing. A writer's private copy needs no crash journal
    (an interrupted copy is thrown away): its journal stays in memory."""
    if immutable:
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    else:
        db = sqlite3.connect(path, check_same_thread=False)
    db.execute("PRAGMA foreign_keys = ON")
    if writable:
        db.execute("PRAGMA journal_mode = MEMORY")
        db.execute("PRAGMA synchronous = OFF")
    return db


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
