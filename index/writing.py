"""The one way to change the index: under the write lock, on a new version, published whole.

See :mod:`rag.store.versions` for the layout and why a crash at any point leaves either the old or
the new index, never a mix.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rag.config import Settings
from rag.errors import DiskFullError, IndexMissingError
from rag.store.embedded import IndexStore
from rag.store.interface import Store
from rag.store.records import IndexInfo
from rag.store.versions import collect_garbage, current_version, new_version_dir, publish, write_lock


@contextmanager
def new_version(
    settings: Settings,
    *,
    fresh: IndexInfo | None = None,
    if_missing: Callable[[], IndexInfo] | None = None,
    embed_model: str | None = None,
    on_wait: Callable[[str], None] | None = print,
) -> Iterator[IndexStore]:
    """A writable index that becomes the current one if the block completes.

    With ``fresh``, the new version starts empty (a build); otherwise it starts as a copy of
    the current index, which must have been built with ``embed_model`` if it is given, and
    must exist unless ``if_missing`` gives the settings of an empty one. On any error or
    interruption nothing is published and the new version is deleted.
    """
    if settings.milvus_uri:
        with _milvus_version(settings, fresh, if_missing, embed_model, on_wait) as store:
            yield store
        return
    root = settings.index_dir
    with write_lock(root, timeout=settings.lock_wait, on_wait=on_wait):
        collect_garbage(root)
        current = current_version(root)
        if current is None and fresh is None:
            if if_missing is None:
                raise IndexMissingError(root)
            fresh = if_missing()
        version = new_version_dir(root)
        try:
            if fresh is not None:
                store = IndexStore.create(version, fresh)
            else:  # a copy of the current index, or its segments and a new one (rag.store.embedded)
                store = IndexStore.extend(current, version, embed_model=embed_model)
            try:
                yield store
                store.save()
            finally:
                store.close()
            publish(root, version)
            collect_garbage(root)  # the version before the previous one
        except BaseException as error:
            shutil.rmtree(version, ignore_errors=True)
            if is_disk_full(error):
                raise DiskFullError(root) from None
            raise


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` says the disk is full, as the OS, SQLite or FAISS word it."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    text = str(error).lower()
    return isinstance(error, (sqlite3.Error, RuntimeError)) and (
        "disk is full" in text or "no space left" in text or "disk quota" in text
    )


@contextmanager
def _milvus_version(
    settings: Settings,
    fresh: IndexInfo | None,
    if_missing: Callable[[], IndexInfo] | None,
    embed_model: str | None,
    on_wait: Callable[[str], None] | None,
) -> Iterator[Store]:
    """The same contract on Milvus (:mod:`rag.store.milvus`): a build writes a new generation,
    published by one upsert; an add or remove stages its changes and saves them in an order
    that keeps every published document whole. Writers on this machine take turns through
    the same lock file as the embedded store's."""
    from rag.store.milvus import MilvusStore

    uri, token, layout = settings.milvus_uri, settings.milvus_token, settings.milvus_layout
    with write_lock(settings.index_dir, timeout=settings.lock_wait, on_wait=on_wait):
        if fresh is None and not MilvusStore.exists(uri, token, **layout):
            if if_missing is None:
                raise IndexMissingError(uri)
            fresh = if_missing()
        if fresh is not None:
            store = MilvusStore.create(uri, fresh, token, **layout)
            try:
                yield store
                store.save()
                store.publish()
            except BaseException:
                store.discard()
                raise
        else:
            store = MilvusStore.open(uri, token=token, embed_model=embed_model, writable=True, **layout)
            yield store
            store.save()
