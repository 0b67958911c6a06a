"""The index as a long-running reader sees it: always the current version.

The chat opens the index once and answers for hours while ``python -m index add`` publishes
new versions (:mod:`rag.store.versions`). :class:`LiveIndex` reads the small ``CURRENT`` pointer
before each search and, when it names a new version, opens that one; searches already
running finish on the version they started with (:meth:`snapshot`), which stays readable.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.errors import DepecheError
from rag.sources.documents import Document
from rag.store.embedded import IndexStore
from rag.store.records import DocumentSummary, IndexInfo, Passage
from rag.store.versions import current_version

log = logging.getLogger(__name__)


class LiveIndex:
    """Read methods of :class:`IndexStore`, each on the current version of the index in ``root``."""

    def __init__(self, root: Path, *, embed_model: str | None = None) -> None:
        self.root = root
        self.embed_model = embed_model
        self._lock = threading.Lock()
        self._version = current_version(root)
        self._store = IndexStore.open(root, embed_model=embed_model)
        self._refused: Path | None = None  # a version that could not be opened: not retried
        self._refusal: str | None = None  # why

    def snapshot(self) -> IndexStore:
        """The current version's store; one search should use one snapshot throughout."""
        version = current_version(self.root)
        if version is None or version == self._version or version == self._refused:
            return self._store
        with self._lock:
            if version != self._version:
                try:
                    store = IndexStore.open(version, embed_model=self.embed_model)
                except DepecheError as error:
                    # A version deleted under us is followed by a newer one; any other refusal
                    # (another embedding model) keeps the chat on what it has, and says why.
                    log.warning("new index version %s not opened: %s", version.name, error)
                    self._refused = version if version.exists() else None
                    self._refusal = f"{error} En attendant, la version {self._version.name} répond."
                    return self._store
                log.info("index version %s opened", version.name)
                self._store, self._version, self._refusal = store, version, None
        return self._store

    @property
    def warning(self) -> str | None:
        """Why an older version answers, when the current one is damaged; None when all is well."""
        store = self.snapshot()
        if self._refused is not None and current_version(self.root) == self._refused:
            return self._refusal
        return getattr(store, "warning", None)

    @property
    def info(self) -> IndexInfo:
        return self.snapshot().info

    @property
    def location(self) -> str:
        return self.snapshot().location

    @property
    def version(self) -> str:
        return self.snapshot().version

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        return self.snapshot().term_weights(terms)

    def keyword_search(self, query: str, k: int) -> list[tuple[int, float]]:
        return self.snapshot().keyword_search(query, k)

    def vector_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self.snapshot().vector_search(query, k)

    def passages(self, scored_ids: Sequence[tuple[int, float]]) -> list[Passage]:
        return self.snapshot().passages(scored_ids)

    def document(self, doc_id: str) -> Document | None:
        return self.snapshot().document(doc_id)

    def documents(self) -> list[DocumentSummary]:
        return self.snapshot().documents()

    def counts(self) -> tuple[int, int]:
        return self.snapshot().counts()
