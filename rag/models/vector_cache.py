"""Vectors remembered on disk, keyed by the model and the text: nothing is embedded twice.

:class:`CachedEmbedder` wraps an embedder; every vector it computes is written to a SQLite
file (keyed by the model's name and the text's sha256) as soon as its batch is embedded, so a
text already seen is read back instead of embedded again. Two users:

- the index commands (:func:`kept_until_published`): a batch interrupted (Ctrl-C, a kill, a
  crash) leaves its vectors in ``DEPECHE_HOME/pending-vectors.sqlite``; the same command run
  again embeds only what was not done, and once its version is published, the vectors it used
  are deleted from that file (they live in the index);
- the benchmarks (:mod:`eval.vector_cache`), which re-index a dataset for every setting they
  compare.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rag.models.embedding import Embedder

PENDING = "pending-vectors.sqlite"


def _in_chunks(keys: list[str], size: int = 500) -> Iterator[list[str]]:
    """``keys`` by ``size``: a query's ``IN (…)`` stays under SQLite's limit on parameters."""
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


class CachedEmbedder:
    """``embedder`` with its vectors remembered in ``path`` (SQLite), for passages and queries."""

    def __init__(self, embedder: Embedder, path: Path) -> None:
        self.inner = embedder
        self.name = embedder.name
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
        self._lock = threading.Lock()
        self.computed = 0  # texts embedded by the model (not found in the cache)
        self.reused = 0  # texts read back from the cache
        self._served: set[str] = set()

    @property
    def dimension(self) -> int:
        return self.inner.dimension  # a lazy embedder loads its model only when asked

    def forget_served(self) -> None:
        """Delete the vectors this object has served (published: the index now holds them)."""
        with self._lock, self._db:
            for chunk in _in_chunks(sorted(self._served)):
                self._db.execute(f"DELETE FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            self._served.clear()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _key(self, kind: str, text: str) -> str:
        return hashlib.sha256(f"{self.name}\0{kind}\0{text}".encode()).hexdigest()

    def _vectors(self, kind: str, texts: Sequence[str], compute) -> np.ndarray:
        keys = [self._key(kind, text) for text in texts]
        with self._lock:
            found = {}
            for chunk in _in_chunks(keys):
                marks = ",".join("?" * len(chunk))
                found.update(self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk))
        missing = [i for i, key in enumerate(keys) if key not in found]
        self.reused += len(keys) - len(missing)
        self._served.update(keys)
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


@contextmanager
def kept_until_published(embedder: Embedder, home: Path) -> Iterator[CachedEmbedder]:
    """``embedder`` with its vectors kept in ``home``'s pending file until the command publishes:
    on success, the vectors it used are deleted; on any failure or interruption, they stay for
    the next run."""
    cached = CachedEmbedder(embedder, home / PENDING)
    try:
        yield cached
    except BaseException:
        cached.close()
        raise
    cached.forget_served()
    cached.close()
