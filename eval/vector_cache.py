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

from collections.abc import Sequence

import numpy as np

from rag.models.embedding import Embedder
from rag.models.vector_cache import CachedEmbedder

__all__ = ["CachedEmbedder", "TruncatedEmbedder"]


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
