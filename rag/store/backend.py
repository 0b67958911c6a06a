"""Which store holds the index: the setting ``DEPECHE_MILVUS_URI`` decides.

- empty (the default): the embedded store in ``DEPECHE_HOME`` (:mod:`rag.store.embedded`);
- a file path: Milvus Lite in this process, on that file (:mod:`rag.store.milvus`);
- ``http://host:19530``: a Milvus server (``DEPECHE_MILVUS_TOKEN`` if it asks for one).

The index commands write through :func:`index.writing.new_version`, the chat reads through
:func:`rag.components.open_store`; the one-off readers (status, list, eval) open here.
"""

from __future__ import annotations

from rag.config import Settings
from rag.sources.documents import Document
from rag.store.embedded import IndexStore
from rag.store.interface import Store
from rag.store.manifest import index_exists, stored_documents


def uses_milvus(settings: Settings) -> bool:
    return bool(settings.milvus_uri)


def open_index(settings: Settings, *, embed_model: str | None = None) -> Store:
    """The published index, checked against ``embed_model`` if given."""
    if uses_milvus(settings):
        from rag.store.milvus import MilvusStore

        return MilvusStore.open(
            settings.milvus_uri, token=settings.milvus_token, embed_model=embed_model, **settings.milvus_layout
        )
    return IndexStore.open(settings.index_dir, embed_model=embed_model)


def index_present(settings: Settings) -> bool:
    if uses_milvus(settings):
        from rag.store.milvus import MilvusStore

        return MilvusStore.exists(settings.milvus_uri, settings.milvus_token, **settings.milvus_layout)
    return index_exists(settings.index_dir)


def indexed_documents(settings: Settings) -> list[Document]:
    """Every document the index holds, with its text, read without needing the index whole
    (embedded: straight from its database, which may be of an older format)."""
    if uses_milvus(settings):
        from rag.store.milvus import MilvusStore

        if not MilvusStore.exists(settings.milvus_uri, settings.milvus_token, **settings.milvus_layout):
            return []
        store = MilvusStore.open(settings.milvus_uri, token=settings.milvus_token, **settings.milvus_layout)
        return list(store.all_documents())
    return stored_documents(settings.index_dir)


def indexed_sources(settings: Settings) -> list[tuple[str, str]]:
    """``(doc_id, source)`` of every document the index holds, without their text (see
    :func:`indexed_documents`); empty when there is no index."""
    if uses_milvus(settings):
        from rag.store.milvus import MilvusStore

        if not MilvusStore.exists(settings.milvus_uri, settings.milvus_token, **settings.milvus_layout):
            return []
        store = MilvusStore.open(settings.milvus_uri, token=settings.milvus_token, **settings.milvus_layout)
        return [(summary.doc_id, summary.source) for summary in store.documents()]
    return [(document.doc_id, document.source) for document in stored_documents(settings.index_dir)]
