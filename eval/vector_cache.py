"""Embedders for benchmarks: vectors cached on disk, and Matryoshka truncation.

A retrieval benchmark re-indexes its dataset for every setting it compares (fusion weight,
chunk size, dimension). Only the embedding is costly: about 4 minutes for SPF-QR with the int8
EmbeddingGemma, 19 in fp32. :class:`CachedEmbedder` keeps every vector it has computed in a
SQLite file keyed by the model and the text's sha256, so a rerun embeds only texts it has
never seen. :class:`TruncatedEmbedder` keeps the first ``dimension`` components and
re-normalizes: Matryoshka-trained models (EmbeddingGemma: 768, 512, 256, 128) are meant to be
cut this way.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.embedding import Embedder


class CachedEmbedder:
    """``embedder`` with its vectors remembered in ``path`` (SQLite), for passages and queries."""

    def __init__(self, embedder: Embedder, path: Path) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.dimension = embedder.dimension
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
        self._lock = threading.Lock()
        self.computed = 0  # texts embedded by the model (not found in the cache)

    def _key(self, kind: str, text: str) -> str:
        return hashlib.sha256(f"{self.name}\0{kind}\0{text}".encode()).hexdigest()

    def _vectors(self, kind: str, texts: Sequence[str], compute) -> np.ndarray:
        keys = [self._key(kind, text) for text in texts]
        with self._lock:
            found = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk))
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            fresh = compute([texts[i] for i in missing])
            self.computed += len(missing)
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                    [
                        (keys[i], np.asarray(vector, dtype=np.float32).tobytes())
                        for i, vector in zip(missing, fresh, strict=True)
                    ],
                )
            for i, vector in zip(missing, fresh, strict=True):
                found[keys[i]] = np.asarray(vector, dtype=np.float32).tobytes()
        return np.stack([np.frombuffer(found[key], dtype=np.float32) for key in keys]).reshape(len(texts), -1)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        return self._vectors("passage", texts, self.inner.embed_passages)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vectors("query", [text], lambda texts: [self.inner.embed_query(texts[0])])[0]


class TruncatedEmbedder:
    """The first ``dimension`` components of ``embedder``'s vectors, re-normalized."""

    def __init__(self, embedder: Embedder, dimension: int) -> None:
        if not 0 < dimension <= embedder.dimension:
            raise ValueError(f"dimension {dimension} hors de ]0, {embedder.dimension}]")
        self.inner = embedder
        self.dimension = dimension
        self.name = embedder.name if dimension == embedder.dimension else f"{embedder.name}@{dimension}"

    def _cut(self, vectors: np.ndarray) -> np.ndarray:
        cut = np.asarray(vectors, dtype=np.float32)[..., : self.dimension]
        norms = np.linalg.norm(cut, axis=-1, keepdims=True)
        return cut / np.where(norms > 0, norms, 1.0)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._cut(self.inner.embed_passages(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return self._cut(self.inner.embed_query(text))
