"""What every version of the index must satisfy: the database, FAISS and BM25 hold exactly
the same passages."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import faiss

from rag.store import IndexStore


def check_index(root: Path) -> set[str]:
    """Open the current index, check its three parts agree, and return its document ids."""
    store = IndexStore.open(root)
    try:
        db: sqlite3.Connection = store._db
        chunk_ids = {row[0] for row in db.execute("SELECT chunk_id FROM chunks")}
        doc_ids = {row[0] for row in db.execute("SELECT doc_id FROM documents")}
        orphans = db.execute("SELECT COUNT(*) FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM documents)")
        assert orphans.fetchone()[0] == 0, "chunks without their document"
        vector_ids = set(faiss.vector_to_array(store._vectors.id_map).tolist())
        keyword_ids = set(store._keywords._ids.tolist())
        assert vector_ids == chunk_ids, f"FAISS {len(vector_ids)} ids vs SQLite {len(chunk_ids)}"
        assert keyword_ids == chunk_ids, f"BM25 {len(keyword_ids)} ids vs SQLite {len(chunk_ids)}"
        return doc_ids
    finally:
        store.close()
