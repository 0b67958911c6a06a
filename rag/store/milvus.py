"""The Milvus store: passages, vectors, BM25 terms and documents in Milvus collections.

Selected by ``DEPECHE_MILVUS_URI`` (:func:`rag.store.backend.open_index`): a file path runs
Milvus Lite in this process; ``http://host:19530`` (with ``DEPECHE_MILVUS_TOKEN`` if the server
asks for one) talks to a Milvus server, Standalone or Distributed, or to Milvus Lite served by
``milvus-lite server``. One client API, so the code path is the same for all three.

Layout, under a prefix (``depeche``), in *generations* like the embedded store's versions:

- ``depeche_meta``: the published generation (key ``current``) and each generation's
  :class:`IndexInfo`; the writer's journal (key ``pending``) while it saves;
- ``depeche_g<n>_chunks``: one row per passage: id, document id and version (its sha256),
  position, offsets, text, the French analyzer's terms (:mod:`rag.search.keyword`, joined by spaces:
  Milvus's ``standard`` tokenizer splits them back as they were, so BM25 is the same on Lite
  and on a server), the dense vector (HNSW, inner product) and the sparse BM25 vector that
  Milvus's BM25 function makes from the terms (Lucene's formula, k1 1.5, b 0.75, as bm25s);
- ``depeche_g<n>_documents``: one row per document: metadata and duplicate fingerprints;
- ``depeche_g<n>_bodies``: each document's text, in parts (a Milvus string holds 64 KB).

Milvus requires a vector field in every collection: the metadata collections carry a
two-dimensional ``placeholder`` that nothing searches.

Writes are staged and applied by :meth:`MilvusStore.save`: the journal first, then the new
passages and bodies, then the documents' rows (a document is visible from its row on), then the
old rows of replaced and removed documents, then a flush (Milvus Lite fsyncs its write-ahead
log and its manifest at each flush). Readers skip passages whose document row is absent or of
another version, so a search never sees half a document; a writer killed in the middle leaves
rows that the next writer removes from the journal (:meth:`MilvusStore._recover`). A build or
rebuild writes a new generation and publishes it by one upsert of ``current``. A writer holds
at most ``STAGE_LIMIT`` passages in memory: a larger ``add`` on Milvus becomes visible in steps
(each document whole), where the embedded store publishes the whole command at once.

This module opens, writes and publishes; :mod:`rag.store.milvus_reading` searches and reads,
:mod:`rag.store.milvus_client` holds the connections and :mod:`rag.store.milvus_layout` the
collections' names, schemas and rows.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.errors import IndexCorruptedError, IndexMissingError, ModelMismatchError
from rag.search.keyword import FrenchAnalyzer
from rag.sources.chunking import Chunk
from rag.sources.documents import Document
from rag.store.milvus_client import (
    connect,
    disconnect,
    is_remote,
    public_uri,
    reason,
    unavailable_as_error,
)
from rag.store.milvus_layout import (
    PREFIX,
    TEXT_MAX,
    batches,
    body_rows,
    chunk_key,
    collection_names,
    create_generation,
    document_row,
    drop_collection,
    ensure_meta,
    in_filter,
    info_json,
    load_collection,
    meta_row,
    published_generation,
    quoted,
    stored_generations,
)
from rag.store.milvus_reading import MilvusReading
from rag.store.records import SCHEMA_VERSION, IndexInfo, keyword_text

__all__ = ["MilvusStore", "disconnect", "public_uri"]

log = logging.getLogger(__name__)

STAGE_LIMIT = 20_000  # passages a writer holds in memory before it writes them


class MilvusStore(MilvusReading):
    """Documents, passages and vectors in Milvus collections (a :class:`rag.store.interface.Store`).

    Thread-safe for the chat's readers. Reads see what is published; a writer (``writable``)
    stages its changes until :meth:`save`.
    """

    def __init__(self, uri: str, token: str, client, generation: int, info: IndexInfo, *, writable: bool) -> None:
        self.uri = uri
        self.directory = Path(public_uri(uri)) if not is_remote(uri) else Path(PREFIX)
        self.info = info
        self._token = token
        self._client = client
        self._generation = generation
        self._writable = writable
        self._lock = threading.RLock()
        self._analyzer = FrenchAnalyzer()
        self._added: dict[str, tuple[Document, list[dict], str, bytes | None]] = {}
        self._staged = 0  # passages staged
        self._removed: dict[str, str] = {}  # doc_id -> sha256 of the version removed

    # -- opening ---------------------------------------------------------------------

    @classmethod
    def exists(cls, uri: str, token: str = "", **layout: int) -> bool:
        client = connect(uri, token, **layout)
        with unavailable_as_error(uri):
            return published_generation(client) is not None

    @classmethod
    def create(cls, uri: str, info: IndexInfo, token: str = "", **layout: int) -> MilvusStore:
        """A writer on a new, empty generation; :meth:`publish` makes it the current one.
        ``layout``: ``shards`` and ``replicas`` (see :func:`connect`)."""
        client = connect(uri, token, **layout)
        with unavailable_as_error(uri):
            ensure_meta(client)
            generation = max([*stored_generations(client), (published_generation(client) or (0, None))[0]]) + 1
            create_generation(client, generation, info)
        return cls(uri, token, client, generation, info, writable=True)

    @classmethod
    def open(
        cls, uri: str, *, token: str = "", embed_model: str | None = None, writable: bool = False, **layout: int
    ) -> MilvusStore:
        client = connect(uri, token, **layout)
        with unavailable_as_error(uri):
            return cls._open(uri, token, client, embed_model, writable)

    @classmethod
    def _open(cls, uri: str, token: str, client, embed_model: str | None, writable: bool) -> MilvusStore:
        published = published_generation(client)
        if published is None:
            raise IndexMissingError(public_uri(uri))
        generation, info = published
        if info.schema_version != SCHEMA_VERSION:
            raise IndexCorruptedError(public_uri(uri), f"format {info.schema_version}, attendu {SCHEMA_VERSION}")
        if embed_model is not None and embed_model != info.embed_model:
            raise ModelMismatchError(info.embed_model, embed_model)
        missing = [n for n in collection_names(generation).values() if not client.has_collection(n)]
        if missing:
            raise IndexCorruptedError(public_uri(uri), f"collection(s) absente(s) : {', '.join(missing)}")
        for name in collection_names(generation).values():
            load_collection(client, name)
        store = cls(uri, token, client, generation, info, writable=writable)
        if writable:
            store._recover()
            store._collect_garbage()
        return store

    def close(self) -> None:
        """Nothing to release: the client is the process's, shared (see :func:`connect`)."""

    @property
    def location(self) -> str:
        kind = "Milvus (serveur)" if is_remote(self.uri) else "Milvus Lite"
        return f"{kind} à {public_uri(self.uri)}, collections {PREFIX}_g{self._generation}_*"

    @property
    def version(self) -> str:
        return f"génération {self._generation}"

    def snapshot(self) -> MilvusStore:
        """This store, on the published generation: a reader follows a build or rebuild that
        another process publishes (the generation before stays until the next one, so a search
        under way finishes; passages keep their ids across generations)."""
        if self._writable:
            return self
        published = self._call(published_generation, self._client)
        if published is None or published[0] == self._generation:
            return self
        generation, info = published
        if self.info.embed_model != info.embed_model:
            log.warning("Milvus generation %s not opened: built with %s", generation, info.embed_model)
            return self
        with self._lock:
            for name in collection_names(generation).values():
                self._call(load_collection, self._client, name)
            log.info("Milvus generation %s opened", generation)
            self._generation, self.info = generation, info
        return self

    # -- writing ---------------------------------------------------------------------

    def add_document(
        self,
        document: Document,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        *,
        text_hash: str = "",
        minhash: bytes | None = None,
    ) -> list[int]:
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if document.doc_id in self._added:
            raise ValueError(f"document {document.doc_id} staged twice")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        rows = [
            {
                "chunk_id": chunk_key(document.doc_id, document.sha256, c.position),
                "doc_id": document.doc_id,
                "sha256": document.sha256,
                "position": c.position,
                "start": c.start,
                "end": c.end,
                "text": c.text[: TEXT_MAX // 4],
                "terms": " ".join(self._analyzer.terms(keyword_text(document.title, c.text)))[:TEXT_MAX],
                "vector": vector,
            }
            for c, vector in zip(chunks, vectors, strict=True)
        ]
        with self._lock:
            self._added[document.doc_id] = (document, rows, text_hash, minhash)
            self._staged += len(rows)
            if self._staged >= STAGE_LIMIT:
                self.save()  # memory stays bounded; each document is still whole (see save)
        return [row["chunk_id"] for row in rows]

    def remove_document(self, doc_id: str) -> int:
        with self._lock:
            if doc_id in self._added:
                count = len(self._added.pop(doc_id)[1])
                self._staged -= count
                return count
            row = self._document_row(doc_id, ["sha256", "chunks"])
            if row is None or doc_id in self._removed:
                return 0
            self._removed[doc_id] = row["sha256"]
            return int(row["chunks"])

    def save(self) -> None:
        """Apply the staged changes in the order that keeps every published document whole."""
        with self._lock:
            if not self._added and not self._removed:
                self._flush()
                return
            names = collection_names(self._generation)
            touched = sorted({*self._added, *self._removed})
            self._call(self._client.upsert, f"{PREFIX}_meta", [meta_row("pending", json.dumps(touched))])
            self._call(self._client.flush, f"{PREFIX}_meta")
            rows = [row for _, chunk_rows, _, _ in self._added.values() for row in chunk_rows]
            for batch in batches(rows, 1000):
                batch = [{**row, "vector": row["vector"].tolist()} for row in batch]
                self._call(self._client.upsert, names["chunks"], batch)
            bodies = [row for document, *_ in self._added.values() for row in body_rows(document)]
            for batch in batches(bodies, 100):
                self._call(self._client.upsert, names["bodies"], batch)
            documents = [
                document_row(document, len(chunk_rows), text_hash, minhash)
                for document, chunk_rows, text_hash, minhash in self._added.values()
            ]
            for batch in batches(documents, 1000):
                self._call(self._client.upsert, names["documents"], batch)
            gone = [doc_id for doc_id in self._removed if doc_id not in self._added]
            for batch in batches(gone, 500):
                self._call(self._client.delete, names["documents"], filter=in_filter("doc_id", batch))
            # Only replaced and removed documents have rows of another version: new ones have
            # none (a writer that died before had its leftovers removed by _recover).
            self._delete_stale(sorted(self._removed))
            self._call(self._client.delete, f"{PREFIX}_meta", filter=in_filter("key", ["pending"]))
            self._added.clear()
            self._removed.clear()
            self._staged = 0
            self._flush()

    def optimize(self) -> None:
        """Ask Milvus to compact this generation's collections: deleted rows go, small
        segments merge (Milvus does it in the background; Milvus Lite may not)."""
        with self._lock:
            for name in collection_names(self._generation).values():
                try:
                    self._call(self._client.compact, name)
                except Exception as error:  # noqa: BLE001 - compaction is an optimization
                    log.info("compaction of %s not done: %s", name, error)

    @property
    def layout(self) -> str:
        """See :attr:`rag.store.interface.Store.layout`."""
        return f"génération {self._generation}, segments gérés par Milvus"

    def publish(self) -> None:
        """Make this (new) generation the one every reader opens, then drop the older ones."""
        with self._lock:
            self._call(
                self._client.upsert,
                f"{PREFIX}_meta",
                [
                    meta_row("current", str(self._generation)),
                    meta_row(f"info:{self._generation}", info_json(self.info)),
                ],
            )
            self._call(self._client.flush, f"{PREFIX}_meta")
            with unavailable_as_error(self.uri):
                self._collect_garbage()

    def discard(self) -> None:
        """Drop this unpublished generation (a build that failed); if Milvus is gone too, the
        next writer's garbage collection drops it."""
        try:
            for name in collection_names(self._generation).values():
                drop_collection(self._client, name)
        except Exception as error:  # noqa: BLE001 - the build's own error is the one to report
            log.warning("Milvus generation %s not dropped: %s", self._generation, reason(error))

    def _flush(self) -> None:
        for name in (*collection_names(self._generation).values(), f"{PREFIX}_meta"):
            self._call(self._client.flush, name)

    def _delete_stale(self, doc_ids: Sequence[str]) -> None:
        """Rows of these documents that are not of their published version (or of no version)."""
        names = collection_names(self._generation)
        current: dict[str, str] = {}
        for batch in batches(list(doc_ids), 500):
            rows = self._query(names["documents"], in_filter("doc_id", batch), ["doc_id", "sha256"])
            current.update({row["doc_id"]: row["sha256"] for row in rows})
        absent = [doc_id for doc_id in doc_ids if doc_id not in current]
        for batch in batches(absent, 500):
            for name in (names["chunks"], names["bodies"]):
                self._call(self._client.delete, name, filter=in_filter("doc_id", batch))
        for doc_id, sha in current.items():
            for name in (names["chunks"], names["bodies"]):
                condition = f"doc_id == {quoted(doc_id)} and sha256 != {quoted(sha)}"
                self._call(self._client.delete, name, filter=condition)

    def _recover(self) -> None:
        """Finish what a writer killed during :meth:`save` left: its journal names the documents."""
        rows = self._query(f"{PREFIX}_meta", in_filter("key", ["pending"]), ["value"])
        if rows:
            touched = json.loads(rows[0]["value"])
            log.warning("Milvus: a write was interrupted; cleaning %d document(s)", len(touched))
            self._delete_stale(touched)
            self._call(self._client.delete, f"{PREFIX}_meta", filter=in_filter("key", ["pending"]))
            self._flush()

    def _collect_garbage(self) -> None:
        """Drop the generations that are not published (older ones, or a build that died)."""
        published = published_generation(self._client)
        current = published[0] if published else self._generation
        generations = stored_generations(self._client)
        previous = max((g for g in generations if g < current), default=current)
        keep = {self._generation, current, previous}
        for generation in generations:
            if generation not in keep:
                for name in collection_names(generation).values():
                    drop_collection(self._client, name)
                self._client.delete(f"{PREFIX}_meta", filter=in_filter("key", [f"info:{generation}"]))
