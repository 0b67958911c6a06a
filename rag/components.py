"""Build the real components from :class:`~rag.config.Settings`.

The pipeline itself takes its parts as arguments; this is the one place that knows
which concrete models and store the product uses, for the CLIs and the chat.
"""

from __future__ import annotations

from rag.answer.checking import AnswerChecker
from rag.answer.generation import Generator
from rag.answer.generator_process import ProcessGenerator, llama_spec
from rag.answer.reading import ReadingAnswerer
from rag.config import Settings
from rag.models.embedding import Embedder, LazyEmbedder, load_embedding_model, tuning_for
from rag.models.gguf import resolve_gguf
from rag.pipeline import Pipeline
from rag.search.retrieval import make_retriever
from rag.store.interface import Store
from rag.store.live import LiveIndex


def load_embedder(settings: Settings, *, show_progress: bool = False) -> Embedder:
    return load_embedding_model(
        settings.embed_model, cache=settings.cache, threads=settings.threads, show_progress=show_progress
    )


def lazy_embedder(settings: Settings) -> LazyEmbedder:
    """The configured embedder, loaded only if something is embedded (index commands)."""
    return LazyEmbedder(settings.embed_model, lambda: load_embedder(settings))


def load_generator(settings: Settings, *, wait: bool = True) -> ProcessGenerator:
    """The llama.cpp model, loaded in its own supervised process (:mod:`rag.answer.generator_process`);
    ``wait=False``: returns once the process is started, before the model is loaded."""
    spec = llama_spec(
        resolve_gguf(settings.llm_path, settings.cache),
        threads=settings.threads,
        context_tokens=settings.context_tokens,
        max_tokens=settings.max_answer_tokens,
    )
    return ProcessGenerator(spec, timeout_s=settings.generation_timeout, wait=wait)


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


def open_store(settings: Settings) -> Store:
    """The index, checked against the configured embedding model (before loading it), and
    followed as ``python -m index`` commands publish new versions of it: the embedded store's
    versions (:class:`LiveIndex`), or Milvus (``DEPECHE_MILVUS_URI``, :mod:`rag.store.milvus`)."""
    if settings.milvus_uri:
        from rag.store.milvus import MilvusStore

        return MilvusStore.open(
            settings.milvus_uri, token=settings.milvus_token, embed_model=settings.embed_model, **settings.milvus_layout
        )
    return LiveIndex(settings.index_dir, embed_model=settings.embed_model)


def resolved_min_confidence(settings: Settings) -> float:
    """``DEPECHE_MIN_CONFIDENCE``, or the threshold of the refusal model fitted on near misses
    (``rag/answer/weights/refusal.json``, :mod:`rag.answer.refusal`)."""
    from rag.answer.refusal import RefusalModel

    return settings.min_confidence if settings.min_confidence is not None else RefusalModel.load().threshold


def load_reading(
    settings: Settings,
    generator: Generator | None,
    checker: AnswerChecker,
    store: Store | None = None,
    *,
    refusal: bool = True,
) -> ReadingAnswerer | None:
    """The read paths (reader, yes/no, metadata), or None in ``DEPECHE_ANSWER=llm`` mode. The
    ``store`` gives the metadata path an article's author, rubric and outlet, and the sentence
    choice its terms' weights. ``refusal=False``: without the refusal model (``python -m eval
    refusal`` fits it from what this reads)."""
    if settings.answer_mode != "reader":
        return None
    from rag.answer.reader_openvino import OpenVINOReader, ensure_reader_export
    from rag.answer.refusal import RefusalModel
    from rag.models.cpu import compiled_cache
    from rag.models.e5_convert import ensure_e5_model

    folder = ensure_reader_export(ensure_e5_model(settings.cache), settings.cache)
    reader = OpenVINOReader(folder, threads=settings.threads, compiled=compiled_cache(settings.cache))
    return ReadingAnswerer(
        reader,
        generator,
        checker,
        min_confidence=resolved_min_confidence(settings) if refusal else 0.0,
        phrase=settings.phrasing == "llm",
        yes_no=settings.yes_no,
        documents=store.document if store is not None else None,
        refusal=RefusalModel.load() if refusal else None,
        term_weights=getattr(store, "term_weights", None),  # Milvus: every term weighs the same
    )


def build_pipeline(settings: Settings, *, wait_for_model: bool = True) -> Pipeline:
    """The whole pipeline. ``wait_for_model=False`` (``python -m rag ask``): the language model's
    process loads beside the other models, and only an answer that needs it waits for it."""
    store = open_store(settings)  # fails fast, before any model loads
    generator = load_generator(settings, wait=False)  # its process loads while the rest does
    embedder = None if settings.retrieval_mode == "bm25" else load_embedder(settings)
    retriever = make_retriever(settings.retrieval_mode, store, embedder, alpha=resolved_hybrid_alpha(settings))
    checker = make_checker(settings, embedder)
    reading = load_reading(settings, generator, checker, store)
    if wait_for_model:
        generator.wait_ready()  # a model that does not load fails here, with its own message
    return Pipeline(
        retriever,
        generator,
        top_k=settings.top_k,
        checker=checker,
        reading=reading,
        date_filter=settings.date_filter,
        open_answer=settings.open_answer,
    )
