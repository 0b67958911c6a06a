"""Where passages, their vectors and their documents live: one interface, its backends.

- :mod:`rag.store.interface`: :class:`Store`, what the index commands, retrieval and the chat
  ask of a store;
- :mod:`rag.store.records`: what it holds and gives back (:class:`Passage`, :class:`IndexInfo`,
  :class:`DocumentSummary`);
- :mod:`rag.store.embedded`: the default backend, a versioned folder of segments
  (:class:`IndexStore`), each segment SQLite + FAISS + BM25 (:mod:`rag.store.segment`), its
  vectors flat or in an inverted file (:mod:`rag.store.vector_index`);
- :mod:`rag.store.milvus`: the same on Milvus (Lite or a server).
"""

from rag.store.embedded import (
    DB_NAME,
    KEYWORDS_NAME,
    VECTORS_NAME,
    IndexStore,
    index_exists,
    recorded_sources,
    stored_documents,
)
from rag.store.interface import Store
from rag.store.records import SCHEMA_VERSION, DocumentSummary, IndexInfo, Passage, keyword_text

__all__ = [
    "DB_NAME",
    "KEYWORDS_NAME",
    "SCHEMA_VERSION",
    "VECTORS_NAME",
    "DocumentSummary",
    "IndexInfo",
    "IndexStore",
    "Passage",
    "Store",
    "index_exists",
    "keyword_text",
    "recorded_sources",
    "stored_documents",
]
