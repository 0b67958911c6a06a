"""Deterministic stand-ins for the models, for fast unit tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import numpy as np

from rag.citations import content_words
from rag.prompting import Prompt


class FakeEmbedder:
    """Bag of hashed content words: texts sharing words get similar vectors."""

    def __init__(self, name: str = "fake-embedder", dimension: int = 256) -> None:
        self.name = name
        self.dimension = dimension
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in content_words(text):
            bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension
            vector[bucket] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        self.calls += 1
        return self._vector(text)


class FakeGenerator:
    """Replays a scripted answer, split into the given pieces; records the prompts."""

    name = "fake-generator"

    def __init__(self, pieces: Sequence[str] = ("Munich", "."), context_chars: int = 100_000) -> None:
        self.pieces = list(pieces)
        self.context_chars = context_chars
        self.prompts: list[Prompt] = []

    def fits(self, prompt: Prompt) -> bool:
        return len(prompt.text) <= self.context_chars

    def stream(self, prompt: Prompt) -> Iterator[str]:
        self.prompts.append(prompt)
        yield from self.pieces
