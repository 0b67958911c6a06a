"""Duplicate checks for documents being added: exact (same normalized text) and near
(MinHash similarity above :data:`rag.sources.dedup.NEAR_DUPLICATE_THRESHOLD`), against the index
and against the documents accepted earlier in the same command."""

from __future__ import annotations

import numpy as np

from rag.sources.dedup import NEAR_DUPLICATE_THRESHOLD, Match, is_empty, signature_from_bytes, similarities
from rag.store.interface import Store


class DuplicateFinder:
    """The index's signatures are read once, as one matrix (mapped from the store's files when
    it has them); this command's accepted documents go into a second, growing one."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._hashes: dict[str, str] = {}  # text hash -> doc_id, for this command's documents
        self._stored_ids, self._stored = store.minhashes()
        self._stored_rows: dict[str, list[int]] = {}
        for row, doc_id in enumerate(self._stored_ids):
            self._stored_rows.setdefault(doc_id, []).append(row)
        self._new_ids: list[str] = []
        self._new: np.ndarray | None = None  # grows by doubling

    def exact(self, text_hash: str, doc_id: str) -> str | None:
        """Another document with the same normalized text, if any."""
        twin = self._hashes.get(text_hash) or self._store.document_with_text_hash(text_hash)
        return twin if twin != doc_id else None

    def near(self, minhash: bytes, doc_id: str) -> Match | None:
        """The most similar other document above the threshold, if any."""
        signature = signature_from_bytes(minhash)
        if is_empty(signature):
            return None
        best: Match | None = None
        new_rows = [n for n, other in enumerate(self._new_ids) if other == doc_id]
        blocks = [(self._stored_ids, self._stored, self._stored_rows.get(doc_id, []))]
        if self._new_ids:
            blocks.append((self._new_ids, self._new[: len(self._new_ids)], new_rows))
        for ids, matrix, itself in blocks:
            if not len(ids):
                continue
            scores = similarities(signature, matrix)
            scores[itself] = -1.0  # a document is not its own duplicate
            top = int(np.argmax(scores))
            if scores[top] >= NEAR_DUPLICATE_THRESHOLD and (best is None or scores[top] > best.similarity):
                best = Match(ids[top], float(scores[top]))
        return best

    def remember(self, doc_id: str, text_hash: str, minhash: bytes) -> None:
        self._hashes[text_hash] = doc_id
        row = signature_from_bytes(minhash)
        if self._new is None:
            self._new = np.zeros((16, len(row)), dtype=row.dtype)
        elif len(self._new_ids) == len(self._new):
            self._new = np.concatenate([self._new, np.zeros_like(self._new)])
        self._new[len(self._new_ids)] = row
        self._new_ids.append(doc_id)
