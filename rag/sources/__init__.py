"""Reading sources into documents: files and folders (:mod:`rag.sources.files`, one reader per
format in :mod:`rag.sources.readers`), RSS/Atom feeds (:mod:`rag.sources.feeds`, downloads
under limits in :mod:`rag.sources.fetch`), French dates (:mod:`rag.sources.dates`), duplicate
detection (:mod:`rag.sources.dedup`) and passages (:mod:`rag.sources.chunking`).

Everything here ends in :class:`rag.sources.documents.Document` records and their chunks; it
knows nothing of embeddings, stores or questions (files are parsed in the supervised process
of :mod:`rag.models.worker`).
"""
