"""The reading side of the Milvus store (:class:`rag.store.milvus.MilvusStore`): keyword and
vector search in one generation's collections, passages and documents read back, and every
Milvus call turned into one French line when the server has gone away.

A passage whose document row is absent, or of another version, is skipped: a search never
sees half a document while a writer saves.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence

import numpy as np

from rag.errors import StoreUnavailableError
from rag.search.keyword import FrenchAnalyzer
from rag.sources.chunking import Chunk
from rag.sources.dedup import signatures_from_bytes
from rag.sources.documents import Document, page_at
from rag.store.milvus_client import SETTING, loaded_collections, public_uri, reason
from rag.store.milvus_layout import (
    BM25,
    DOCUMENT_FIELDS,
    PREFIX,
    collection_names,
    document_of,
    in_filter,
    load_collection,
    quoted,
)
from rag.store.records import DocumentSummary, IndexInfo, Passage, StoredDocument

PAGE = 4_096  # rows per query page


class MilvusReading:
    """What a store open on one generation reads; :class:`rag.store.milvus.MilvusStore` opens
    it, writes and publishes."""

    uri: str
    info: IndexInfo
    _client: object
    _generation: int
    _removed: dict[str, str]  # doc_id -> sha256 of the version removed
    _analyzer: FrenchAnalyzer

    # -- searching -------------------------------------------------------------------

    def keyword_search(self, query: str, k: int) -> list[tuple[int, float]]:
        terms = " ".join(self._analyzer.terms(query))
        if not terms:
            return []
        hits = self._call(
            self._client.search,
            collection_names(self._generation)["chunks"],
            data=[terms],
            anns_field="sparse",
            limit=k,
            search_params={"metric_type": "BM25"},
            output_fields=["chunk_id"],
        )[0]
        # BM25 scores are positive; Milvus Lite returns them negated as distances. Milvus keeps
        # the classic (k1 + 1) factor that Lucene and bm25s dropped: divided out, the scores are
        # bm25s's, so the hybrid fusion weighs them the same on both stores.
        scale = 1.0 + BM25["bm25_k1"]
        scored = [(int(hit["chunk_id"]), abs(float(hit["distance"])) / scale) for hit in hits]
        return sorted((pair for pair in scored if pair[1] > 0), key=lambda pair: -pair[1])

    def vector_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        vector = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
        hits = self._call(
            self._client.search,
            collection_names(self._generation)["chunks"],
            data=[vector],
            anns_field="vector",
            limit=k,
            search_params={"metric_type": "IP", "params": {"ef": max(128, k)}},
            output_fields=["chunk_id"],
        )[0]
        return [(int(hit["chunk_id"]), float(hit["distance"])) for hit in hits]

    # -- reading ---------------------------------------------------------------------

    def passages(self, scored_ids: Sequence[tuple[int, float]]) -> list[Passage]:
        if not scored_ids:
            return []
        names = collection_names(self._generation)
        fields = ["chunk_id", "doc_id", "sha256", "start", "end", "text"]
        chunks = {
            row["chunk_id"]: row
            for row in self._call(
                self._client.get, names["chunks"], ids=[i for i, _ in scored_ids], output_fields=fields
            )
        }
        doc_ids = sorted({row["doc_id"] for row in chunks.values()})
        documents = (
            {
                row["doc_id"]: row
                for row in self._query(
                    names["documents"],
                    in_filter("doc_id", doc_ids),
                    ["doc_id", "sha256", "title", "date", "source", "pages"],
                )
            }
            if doc_ids
            else {}
        )
        passages = []
        for chunk_id, score in scored_ids:
            chunk = chunks.get(chunk_id)
            document = documents.get(chunk["doc_id"]) if chunk else None
            if document is None or document["sha256"] != chunk["sha256"]:
                continue  # a document being replaced or removed, or a write that died
            pages = json.loads(document["pages"]) if document["pages"] else None
            passages.append(
                Passage(
                    chunk_id,
                    chunk["doc_id"],
                    document["title"],
                    document["date"],
                    document["source"],
                    chunk["start"],
                    chunk["end"],
                    chunk["text"],
                    score=score,
                    page=page_at(pages, chunk["start"]) if pages else None,
                )
            )
        return passages

    def document(self, doc_id: str) -> Document | None:
        if doc_id in self._removed:
            return None
        row = self._document_row(doc_id, DOCUMENT_FIELDS)
        if row is None:
            return None
        parts = self._query(
            collection_names(self._generation)["bodies"],
            f"doc_id == {quoted(doc_id)} and sha256 == {quoted(row['sha256'])}",
            ["part", "text"],
        )
        body = "".join(part["text"] for part in sorted(parts, key=lambda part: part["part"]))
        return document_of(row, body)

    def all_documents(self) -> Iterator[Document]:
        """Every document with its text (a rebuild, a migration)."""
        for row in self._scan(collection_names(self._generation)["documents"], ["doc_id"]):
            document = self.document(row["doc_id"])
            if document is not None:
                yield document

    def export(self) -> Iterator[StoredDocument]:
        """See :meth:`rag.store.interface.Store.export`."""
        names = collection_names(self._generation)
        for row in self._scan(names["documents"], ["doc_id", "text_hash", "minhash"]):
            document = self.document(row["doc_id"])
            if document is None:
                continue
            chunks = self._query(
                names["chunks"],
                f"doc_id == {quoted(document.doc_id)} and sha256 == {quoted(document.sha256)}",
                ["position", "start", "end", "text", "vector"],
            )
            chunks.sort(key=lambda chunk: chunk["position"])
            vectors = np.asarray([c["vector"] for c in chunks], dtype=np.float32)
            vectors = vectors.reshape(len(chunks), self.info.dimension)
            yield StoredDocument(
                document,
                tuple(Chunk(document.doc_id, c["position"], c["start"], c["end"], c["text"]) for c in chunks),
                vectors,
                row["text_hash"],
                base64.b64decode(row["minhash"]) if row["minhash"] else None,
            )

    def documents(self) -> list[DocumentSummary]:
        rows = self._scan(
            collection_names(self._generation)["documents"], ["doc_id", "title", "date", "source", "chunks"]
        )
        summaries = [DocumentSummary(r["doc_id"], r["title"], r["date"], r["source"], int(r["chunks"])) for r in rows]
        summaries.sort(key=lambda s: s.doc_id)
        summaries.sort(key=lambda s: s.date or "", reverse=True)
        return summaries

    def sources(self) -> dict[str, tuple[str, str]]:
        rows = self._scan(collection_names(self._generation)["documents"], ["doc_id", "source", "sha256"])
        return {r["source"]: (r["doc_id"], r["sha256"]) for r in rows if r["doc_id"] not in self._removed}

    def document_with_text_hash(self, text_hash: str) -> str | None:
        rows = self._query(
            collection_names(self._generation)["documents"], f"text_hash == {quoted(text_hash)}", ["doc_id"]
        )
        found = [r["doc_id"] for r in rows if r["doc_id"] not in self._removed]
        return found[0] if found else None

    def minhashes(self) -> tuple[list[str], np.ndarray]:
        rows = self._scan(collection_names(self._generation)["documents"], ["doc_id", "minhash"])
        kept = [r for r in rows if r["minhash"] and r["doc_id"] not in self._removed]
        matrix = signatures_from_bytes([base64.b64decode(r["minhash"]) for r in kept])
        return [r["doc_id"] for r in kept], matrix

    def counts(self) -> tuple[int, int]:
        names = collection_names(self._generation)
        documents = self._query(names["documents"], "", ["count(*)"])[0]["count(*)"]
        chunks = self._query(names["chunks"], "", ["count(*)"])[0]["count(*)"]
        return int(documents), int(chunks)

    # -- helpers ---------------------------------------------------------------------

    def _document_row(self, doc_id: str, fields: list[str]) -> dict | None:
        rows = self._query(collection_names(self._generation)["documents"], f"doc_id == {quoted(doc_id)}", fields)
        return rows[0] if rows else None

    def _query(self, collection: str, condition: str, fields: list[str]) -> list[dict]:
        if "count(*)" in fields:
            return list(self._call(self._client.query, collection, filter=condition, output_fields=fields))
        return list(self._call(self._client.query, collection, filter=condition, output_fields=fields, limit=16_384))

    def _scan(self, collection: str, fields: list[str]) -> list[dict]:
        """Every row, page by page (a server caps one query's window)."""
        rows: list[dict] = []
        iterator = self._call(self._client.query_iterator, collection, batch_size=PAGE, filter="", output_fields=fields)
        try:
            while batch := self._call(iterator.next):
                rows.extend(batch)
        finally:
            iterator.close()
        return rows

    def _call(self, method, *args, **kwargs):
        """A Milvus call; a server that went away becomes one French line for this question."""
        from pymilvus.exceptions import MilvusException

        try:
            return method(*args, **kwargs)
        except MilvusException as error:
            if "released" not in str(error):
                raise StoreUnavailableError(public_uri(self.uri), SETTING, reason(error)) from None
        # A server that restarted holds its collections released: load them again, once.
        loaded_collections.difference_update({key for key in loaded_collections if key[0] == id(self._client)})
        try:
            for name in (f"{PREFIX}_meta", *collection_names(self._generation).values()):
                load_collection(self._client, name)
            return method(*args, **kwargs)
        except MilvusException as error:
            raise StoreUnavailableError(public_uri(self.uri), SETTING, reason(error)) from None
