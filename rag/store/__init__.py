"""Where passages, their vectors and their documents live: one interface, its backends.

- :mod:`rag.store.interface`: :class:`Store`, what the index commands, retrieval and the chat
  ask of a store;
- :mod:`rag.store.records`: what it holds and gives back (:class:`Passage`, :class:`IndexInfo`,
  :class:`DocumentSummary`);
- :mod:`rag.store.embedded`: the default backend, a versioned folder of segments
  (:class:`IndexStore`), each segment SQLite + FAISS + BM25 (:mod:`rag.store.segment`), its
  vectors flat or in an inverted file (:mod:`rag.store.vector_index`);
- :mod:`rag.store.milvus`: the same on Milvus (Lite or a server), chosen by
  :mod:`rag.store.backend`;
- :mod:`rag.store.versions`: the index folder's immutable versions and the pointer to the
  current one; :mod:`rag.store.live`: the current version as a long-running reader sees it;
- :mod:`rag.store.feedback`: the readers' 👍/👎 on answers.
"""
