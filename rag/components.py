"""Build the real components from :class:`~rag.config.Settings`.

The pipeline itself takes its parts as arguments; this is the one place that knows
which concrete models and store the product uses, for the CLIs and the chat.
"""

from __future__ import annotations

from rag.config import Settings
from rag.embedding import Embedder, LazyEmbedder, load_embedding_model, tuning_for
from rag.generation import LlamaGenerator
from rag.grounding import AnswerChecker
from rag.live import LiveIndex
from rag.models import resolve_gguf
from rag.pipeline import Pipeline
from rag.retrieval import make_retriever


def load_embedder(settings: Settings, *, show_progress: bool = False) -> Embedder:
    return load_embedding_model(
        settings.embed_model, cache=settings.cache, threads=settings.threads, show_progress=show_progress
    )


def lazy_embedder(settings: Settings) -> LazyEmbedder:
    """The configured embedder, loaded only if something is embedded (index commands)."""
    return LazyEmbedder(settings.embed_model, lambda: load_embedder(settings))


def load_generator(settings: Settings) -> LlamaGenerator:
    return LlamaGenerator(
        resolve_gguf(settings.llm_path, settings.cache),
        threads=settings.threads,
        context_tokens=settings.context_tokens,
        max_tokens=settings.max_answer_tokens,
    )


def resolved_min_similarity(settings: Settings) -> float:
    """``DEPECHE_MIN_SIMILARITY``, or the floor calibrated for the embedding model."""
    if settings.min_similarity is not None:
        return settings.min_similarity
    return tuning_for(settings.embed_model).min_similarity


def resolved_hybrid_alpha(settings: Settings) -> float:
    """``DEPECHE_HYBRID_ALPHA``, or the fusion weight measured for the embedding model."""
    return tuning_for(settings.embed_model).hybrid_alpha if settings.hybrid_alpha is None else settings.hybrid_alpha


def make_checker(settings: Settings, embedder: Embedder | None) -> AnswerChecker:
    return AnswerChecker(
        embedder,
        min_support=settings.min_support,
        min_similarity=resolved_min_similarity(settings),
        min_coverage=settings.min_coverage,
    )


def open_store(settings: Settings) -> LiveIndex:
    """The index, checked against the configured embedding model (before loading it), and
    followed as ``python -m index`` commands publish new versions of it."""
    return LiveIndex(settings.index_dir, embed_model=settings.embed_model)


def build_pipeline(settings: Settings) -> Pipeline:
    store = open_store(settings)  # fails fast, before any model loads
    embedder = None if settings.retrieval_mode == "bm25" else load_embedder(settings)
    retriever = make_retriever(settings.retrieval_mode, store, embedder, alpha=resolved_hybrid_alpha(settings))
    return Pipeline(retriever, load_generator(settings), top_k=settings.top_k, checker=make_checker(settings, embedder))
