"""What every version of the index must satisfy: in each segment, the database, FAISS and BM25
hold exactly the same passages; no document is visible in two segments."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rag.store.embedded import IndexStore
from rag.store.vector_index import vector_ids


def check_index(root: Path) -> set[str]:
    """Open the current index, check the three parts of each segment agree, and return its
    visible document ids."""
    store = IndexStore.open(root)
    try:
        visible: set[str] = set()
        all_chunks: set[int] = set()
        for segment in store._segments:
            db: sqlite3.Connection = segment._db
            chunk_ids = {row[0] for row in db.execute("SELECT chunk_id FROM chunks")}
            doc_ids = {row[0] for row in db.execute("SELECT doc_id FROM documents")}
            orphans = db.execute("SELECT COUNT(*) FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM documents)")
            assert orphans.fetchone()[0] == 0, "chunks without their document"
            vectors = set(vector_ids(segment.vectors).tolist())
            keyword_ids = set(segment.keywords._ids.tolist())
            assert vectors == chunk_ids, f"FAISS {len(vectors)} ids vs SQLite {len(chunk_ids)}"
            assert keyword_ids == chunk_ids, f"BM25 {len(keyword_ids)} ids vs SQLite {len(chunk_ids)}"
            assert not chunk_ids & all_chunks, "a chunk id in two segments"
            all_chunks |= chunk_ids
            assert segment.hidden_docs <= doc_ids, "a hidden document the segment does not hold"
            shown = doc_ids - segment.hidden_docs
            assert not shown & visible, f"documents visible in two segments: {shown & visible}"
            visible |= shown
        return visible
    finally:
        store.close()


def check_store(settings) -> set[str]:
    """:func:`check_index` on the embedded store; on Milvus, every passage and body part
    belongs to a document's published version, and each document has the passages it counts."""
    if not settings.milvus_uri:
        return check_index(settings.index_dir)
    from collections import Counter

    from rag.store.backend import open_index
    from rag.store.milvus_layout import collection_names as _names

    store = open_index(settings)
    names = _names(store._generation)
    documents = {r["doc_id"]: r for r in store._scan(names["documents"], ["doc_id", "sha256", "chunks"])}
    chunks = store._scan(names["chunks"], ["doc_id", "sha256"])
    assert all(documents.get(c["doc_id"], {}).get("sha256") == c["sha256"] for c in chunks), "stale passages"
    bodies = store._scan(names["bodies"], ["doc_id", "sha256"])
    assert all(documents.get(b["doc_id"], {}).get("sha256") == b["sha256"] for b in bodies), "stale body parts"
    per_document = Counter(c["doc_id"] for c in chunks)
    assert {d: int(r["chunks"]) for d, r in documents.items()} == {d: per_document[d] for d in documents}
    return set(documents)
