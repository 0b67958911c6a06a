"""Dépêche: answer French questions about news articles, citing the passages used.

The stages, in the order a question's data flows through them:

- :mod:`rag.sources`: files, web pages and feeds read into documents, deduplicated, chunked;
- :mod:`rag.models`: the models (embedders, the language model's GGUF, the reader's exports),
  assembled from their PyPI packages and run in supervised processes;
- :mod:`rag.store`: where passages, vectors and documents live, version after version;
- :mod:`rag.search`: a question to the passages most likely to answer it;
- :mod:`rag.answer`: those passages to a checked, cited answer, or a refusal.

:mod:`rag.pipeline` joins search and answering; :mod:`rag.config` holds the settings and
:mod:`rag.components` builds the real parts from them.
"""
