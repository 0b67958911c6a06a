"""Duplicate checks for documents being added: exact (same normalized text) and near
(MinHash similarity above :data:`rag.dedup.NEAR_DUPLICATE_THRESHOLD`), against the index
and against the documents accepted earlier in the same command."""

from __future__ import annotations

import numpy as np

from rag.dedup import Match, find_near_duplicate, signature_from_bytes
from rag.store import Store


class DuplicateFinder:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._hashes: dict[str, str] = {}  # text hash -> doc_id, for this command's documents
        ids, blobs = store.minhashes()
        self._ids = list(ids)
        signatures = [signature_from_bytes(blob) for blob in blobs]
        self._rows = np.stack(signatures) if signatures else None  # grows by doubling

    @property
    def _matrix(self) -> np.ndarray:
        return self._rows[: len(self._ids)]

    def exact(self, text_hash: str, doc_id: str) -> str | None:
        """Another document with the same normalized text, if any."""
        twin = self._hashes.get(text_hash) or self._store.document_with_text_hash(text_hash)
        return twin if twin != doc_id else None

    def near(self, minhash: bytes, doc_id: str) -> Match | None:
        """The most similar other document above the threshold, if any."""
        if not self._ids:
            return None
        others = [i for i, other in enumerate(self._ids) if other != doc_id]
        if len(others) == len(self._ids):
            return find_near_duplicate(signature_from_bytes(minhash), self._ids, self._matrix)
        return find_near_duplicate(signature_from_bytes(minhash), [self._ids[i] for i in others], self._matrix[others])

    def remember(self, doc_id: str, text_hash: str, minhash: bytes) -> None:
        self._hashes[text_hash] = doc_id
        row = signature_from_bytes(minhash)
        if self._rows is None:
            self._rows = np.zeros((16, len(row)), dtype=row.dtype)
        elif len(self._ids) == len(self._rows):
            self._rows = np.concatenate([self._rows, np.zeros_like(self._rows)])
        self._rows[len(self._ids)] = row
        self._ids.append(doc_id)
