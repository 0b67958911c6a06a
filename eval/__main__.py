"""The eval command.

- ``python -m eval [--dataset PATH] [--limit N] [--json] [--gate]``: ask every gold question
  through the full pipeline (default: the seeds set, ``eval/gold/seeds.jsonl``); print the
  metrics and write a report to ``eval/runs/<timestamp>/``. ``--gate`` runs the whole seeds set
  (70 questions, about a minute) and fails (exit 1) when a metric crosses its floor in
  ``eval/floors.json``: ``make test`` ends with it. The whole set, not a sample: on 16 questions
  one answer that a CPU of another kind reads differently moved a metric past its floor.
- ``python -m eval retrieval [--dataset PATH] [--alphas A ...] [--dims D ...] [--store S] [--json]``: the
  retrieval benchmark, on a SQuAD file or a gold set over ``seeds/`` (vectors cached in
  ``.cache/eval-vectors/``: a rerun embeds only new texts).
- ``python -m eval compare RUN_A RUN_B``: the metric deltas between two runs.
- ``python -m eval dated [--limit N] [--json]``: the date-scoped questions (``eval/gold/dated.jsonl``
  over ``eval/datasets/dated/``), with and without the date filter (:mod:`eval.dated`).
- ``python -m eval embed-bench [--variants …] [--caps native,avx2,avx512,avx512_vnni] [--retrieval]``
  (also ``python -m eval ingest --embedders …``): passages and tokens a second of each embedder
  on newsroom passages, natively and under ISA caps, its vectors against its model's fp32, and
  with ``--retrieval`` each model's SPF-QR and PIAF figures beside (:mod:`eval.bench.embed_bench`).
- ``python -m eval cold-start [--runs 5]``: a cold ``python -m rag ask`` and ``make chat`` to
  its page, minimum, median and maximum over fresh processes (:mod:`eval.bench.cold_start`).
- ``python -m eval open [--ways avant,citations,redaction:FILE.gguf]``: the open questions'
  gold set (``eval/gold/open.jsonl``: key points), each way of answering side by side
  (:mod:`eval.open.command`).
- ``python -m eval presse [--articles 1500] [--half 1|2|both]``: the newsroom gold set
  (``eval/gold/presse.jsonl``) over the press archive, half by half (:mod:`eval.presse.command`).
- ``python -m eval refusal [--write]``: the refusal model fitted on near misses (held-out PIAF,
  the newsroom set's first half), :mod:`eval.studies.refusal`.
- ``python -m eval dedup [--json]``: duplicate detection measured on ``eval/gold/dedup.jsonl``.
- ``python -m eval ingest [--json]``: the indexing benchmark (add, rebuild, one article).
- ``python -m eval ingest-memory [--megabytes 50] [--files 10000]``: an index build's peak memory
  on a 50 MB text file and on 10,000 one-line files (:mod:`eval.bench.ingest_memory`).
- ``python -m eval feedback [--export FILE.jsonl]``: the readers' 👍/👎, counted or exported
  as gold-set candidates (:mod:`rag.store.feedback`).
- ``python -m eval soak [--questions 1000]``: one question after another through the served chat,
  its memory read every 100 questions, and a crowd loading the page (:mod:`eval.bench.soak`).
- ``python -m eval concurrency [--clients 8] [--json]``: several chat users at once, through
  the Gradio app's API: every answer complete, and the latencies.
- ``python -m eval api-bench [--questions 20] [--json]``: what the OpenAI-compatible API adds to
  an answer's time, JSON and streamed (:mod:`eval.bench.api_bench`).
- ``python -m eval train-reader``: train the French reader on PIAF (:mod:`eval.studies.train_reader`).
- ``python -m eval reader-bench [--variants fp32 int8]``: the reader's cost for three passages,
  and its held-out PIAF figures, in fp32 and int8 (:mod:`eval.bench.reader_bench`).
- ``python -m eval similarity-floor [--model M]``: the answer check's cosine floor for an
  embedding model, calibrated on PIAF against e5-small's (:mod:`eval.studies.similarity_floor`).
- ``python -m eval coverage-floor [--max-refused 0.03]``: the answer check's coverage floor,
  calibrated on held-out PIAF (:mod:`eval.studies.coverage_floor`).
- ``python -m eval answer-types [--show 5]``: the PIAF gold answers each answer type's marks
  would refuse (:mod:`eval.studies.answer_types`).
- ``python -m eval passage-choice [--save F]``: which passage the reader's answer is taken
  from, each rule measured on PIAF searched as the product searches (:mod:`eval.studies.passage_choice`).
- ``python -m eval llama-bench [--builds portable native-sans-amx] [--json]``: llama.cpp's
  prompt and generation speed for each way of compiling it (:mod:`eval.studies.llama_bench`).
- ``python -m eval scale [--sizes 10000 100000 1000000]``: the store from ten thousand to a
  million passages: disk, RSS, query times, writes, dense recall (:mod:`eval.bench.scale`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from eval.gold import DEFAULT_DATASET, FLOORS, RUNS, SEEDS_GOLD
from rag.cli import run
from rag.config import ANSWER_MODES, RETRIEVAL_MODES, ChunkSettings, Settings


def retrieval(argv: list[str]) -> int:
    from eval.gold import from_squad, load_gold_jsonl
    from eval.retrieval import format_table, run_benchmark
    from eval.squad import load_squad
    from eval.vector_cache import CachedEmbedder, TruncatedEmbedder
    from rag.components import load_embedder
    from rag.sources.files import load_documents

    parser = argparse.ArgumentParser(prog="python -m eval retrieval", description="Benchmark de la recherche.")
    parser.add_argument(
        "--dataset", type=Path, default=DEFAULT_DATASET, help="fichier SQuAD, ou .jsonl de questions sur seeds/"
    )
    parser.add_argument("--json", action="store_true", help="un objet JSON sur la sortie standard")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--chunk-overlap", type=int, default=None)
    parser.add_argument("--model", default=None, help="modèle d'embedding (défaut : DEPECHE_EMBED_MODEL)")
    parser.add_argument("--modes", nargs="+", choices=RETRIEVAL_MODES, default=list(RETRIEVAL_MODES))
    parser.add_argument("--alphas", nargs="*", type=float, default=[], help="poids de la fusion hybride à essayer")
    parser.add_argument("--dims", nargs="*", type=int, default=[], help="dimensions Matryoshka (vecteurs tronqués)")
    parser.add_argument("--no-cache", action="store_true", help="recalculer les vecteurs (sans .cache/eval-vectors)")
    parser.add_argument("--limit", type=int, default=None, help="un échantillon de N questions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--store",
        choices=("embedded", "milvus-lite"),
        default="embedded",
        help="le magasin où indexer (Milvus Lite : un fichier temporaire)",
    )
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    if args.chunk_size or args.chunk_overlap is not None:
        settings = settings.with_(
            chunks=ChunkSettings(
                size=args.chunk_size or settings.chunks.size,
                overlap=settings.chunks.overlap if args.chunk_overlap is None else args.chunk_overlap,
            )
        )
    if args.model:
        settings = settings.with_(embed_model=args.model)
    support_judged = args.dataset.suffix == ".jsonl"
    if support_judged:
        items = load_gold_jsonl(args.dataset)
        documents, _ = load_documents([settings.seeds_dir])
    else:
        documents, questions = load_squad(args.dataset)
        items = from_squad(questions)
    items = [item for item in items if item.answerable]
    if args.limit and args.limit < len(items):
        items = random.Random(args.seed).sample(items, args.limit)
    model = load_embedder(settings)
    if not args.no_cache:
        model = CachedEmbedder(model, settings.cache / "eval-vectors" / "vectors.sqlite")
    runs = {}
    for dimension in args.dims or [model.dimension]:
        embedder = TruncatedEmbedder(model, dimension) if dimension != model.dimension else model
        runs[dimension] = run_benchmark(
            documents,
            items,
            settings,
            embedder,
            modes=args.modes,
            alphas=args.alphas,
            support_judged=support_judged,
            progress=not args.json,
            store_backend=args.store,
        )
    if args.json:
        payload = {d: r.as_json() for d, r in runs.items()}
        print(json.dumps(payload if len(runs) > 1 else next(iter(payload.values())), ensure_ascii=False))
        return 0
    for dimension, result in runs.items():
        print(
            f"{args.dataset.name} : {len(documents)} documents, {len(items)} questions, "
            f"{result.chunks} passages ({settings.chunks.size}/{settings.chunks.overlap}), "
            f"modèle {model.name}, {dimension} dimensions, magasin {args.store}"
        )
        print(f"Indexation : {result.index_seconds:.1f} s, {result.chunks_per_second:.1f} passages/s\n")
        print(format_table(result) + "\n")
    return 0


def compare(argv: list[str]) -> int:
    from eval.report import compare as compare_runs

    parser = argparse.ArgumentParser(prog="python -m eval compare", description="Comparer deux évaluations.")
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    args = parser.parse_args(argv)
    for folder in (args.run_a, args.run_b):
        if not (folder / "metrics.json").is_file():
            from rag.errors import DepecheError

            raise DepecheError(f"{folder} n'est pas un dossier d'évaluation (metrics.json manquant).")
    print(compare_runs(args.run_a, args.run_b))
    return 0


def check_floors(metrics: dict, floors: dict) -> list[str]:
    """The metrics that cross their floor (``min``) or ceiling (``max``), as messages."""
    failures = []
    for name, bound in floors.get("min", {}).items():
        value = metrics.get(name)
        if value is None or value < bound:
            failures.append(f"{name} = {value} < plancher {bound}")
    for name, bound in floors.get("max", {}).items():
        value = metrics.get(name)
        if value is None or value > bound:
            failures.append(f"{name} = {value} > plafond {bound}")
    return failures


def evaluate_command(argv: list[str]) -> int:
    from eval.gold import from_squad, load_gold_jsonl
    from eval.report import METRIC_ORDER, new_run_dir, write_run
    from eval.run import EvalParts, aggregate, breakdown, evaluate
    from eval.squad import load_squad
    from rag.components import (
        resolved_hybrid_alpha,
        resolved_min_confidence,
        resolved_min_similarity,
    )
    from rag.sources.files import load_documents

    parser = argparse.ArgumentParser(
        prog="python -m eval", description="Évaluer Dépêche sur des questions de référence."
    )
    parser.add_argument(
        "--dataset", type=Path, default=SEEDS_GOLD, help="un .jsonl de questions sur seeds/, ou un fichier SQuAD"
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="un échantillon de N questions (tirage fixé par --seed)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="les métriques en un objet JSON sur la sortie standard")
    parser.add_argument("--gate", action="store_true", help="toutes les questions des seeds, comparées aux planchers")
    parser.add_argument("--runs", type=Path, default=RUNS, help="où écrire les rapports")
    parser.add_argument(
        "--answer", choices=ANSWER_MODES, default=None, help="chemin de réponse (défaut : DEPECHE_ANSWER)"
    )
    parser.add_argument(
        "--side-by-side", action="store_true", help="évaluer aussi le chemin précédent (le LLM rédige tout)"
    )
    args = parser.parse_args(argv)
    if args.gate:
        args.dataset = SEEDS_GOLD

    settings = Settings.from_env()
    if args.answer:
        settings = settings.with_(answer_mode=args.answer)
    if args.dataset.suffix == ".jsonl":
        items = load_gold_jsonl(args.dataset)
        documents, _ = load_documents([settings.seeds_dir])
    else:
        documents, questions = load_squad(args.dataset)
        items = from_squad(questions)
    if args.limit and args.limit < len(items):
        items = random.Random(args.seed).sample(items, args.limit)

    parts = EvalParts.load(settings, documents)
    embedder, reading = parts.embedder, parts.reading
    pipeline = parts.pipeline(settings)
    results = evaluate(items, pipeline, progress=True)
    metrics = aggregate(results)
    previous = None
    if args.side_by_side and reading is not None:
        llm_results = evaluate(items, parts.pipeline(settings, reading=False), progress=True)
        previous = (aggregate(llm_results), llm_results)

    folder = new_run_dir(args.runs)
    config = {
        "dataset": str(args.dataset),
        "questions": len(items),
        "limit": args.limit,
        "seed": args.seed,
        "embed_model": embedder.name,
        "llm": pipeline.generator.name,
        "retrieval": settings.retrieval_mode,
        "hybrid_alpha": resolved_hybrid_alpha(settings),
        "answer": settings.answer_mode,
        "phrasing": settings.phrasing,
        "yes_no": settings.yes_no,
        "min_confidence": resolved_min_confidence(settings) if reading is not None else None,
        "top_k": settings.top_k,
        "chunks": [settings.chunks.size, settings.chunks.overlap],
        "check": {
            "min_support": settings.min_support,
            "min_similarity": resolved_min_similarity(settings),
            "min_coverage": settings.min_coverage,
        },
    }
    write_run(folder, metrics, results, title=f"Évaluation : {args.dataset.name}", config=config, previous=previous)

    if args.json:
        extra = {
            "by_kind": breakdown(results, "kind"),
            "by_path": breakdown(results, "path"),
            "by_kind_path": breakdown(results, "kind / path"),
        }
        if previous is not None:
            extra["previous"] = {"metrics": previous[0], "by_kind": breakdown(previous[1], "kind")}
        print(json.dumps({**metrics, **extra}, ensure_ascii=False))
    else:
        for name in METRIC_ORDER:
            value = metrics.get(name)
            print(f"{name:<28} {'—' if value is None else f'{value:.3f}'}")
        print(f"\nRapport : {folder / 'report.md'}")
    if args.gate:
        failures = check_floors(metrics, json.loads(FLOORS.read_text()))
        for failure in failures:
            print(f"Sous le plancher : {failure}", file=sys.stderr)
        if failures:
            return 1
        print("Planchers respectés.", file=sys.stderr)
    return 0


def main() -> int:
    argv = sys.argv[1:]
    if argv and argv[0] == "retrieval":
        return retrieval(argv[1:])
    if argv and argv[0] == "compare":
        return compare(argv[1:])
    if argv and argv[0] == "dated":
        from eval.dated import main as dated

        return dated(argv[1:])
    if argv and argv[0] == "ingest-memory":
        from eval.bench.ingest_memory import main as ingest_memory

        return ingest_memory(argv[1:])
    if argv and argv[0] == "cold-start":
        from eval.bench.cold_start import main as cold_start

        return cold_start(argv[1:])
    if argv and argv[0] == "embed-bench":
        from eval.bench.embed_bench import main as embed_bench

        return embed_bench(argv[1:])
    if argv and argv[0] == "open":
        from eval.open.command import main as open_questions

        return open_questions(argv[1:])
    if argv and argv[0] == "presse":
        from eval.presse.command import main as presse

        return presse(argv[1:])
    if argv and argv[0] == "refusal":
        from eval.studies.refusal import main as refusal

        return refusal(argv[1:])
    if argv and argv[0] == "dedup":
        from eval.dedup import main as dedup

        return dedup(argv[1:])
    if argv[:2] == ["ingest", "--embedders"]:  # the embedders' speed and retrieval (another name for embed-bench)
        from eval.bench.embed_bench import main as embed_bench

        return embed_bench(argv[2:])
    if argv and argv[0] == "ingest":
        from eval.bench.ingest import main as ingest

        return ingest(argv[1:])
    if argv and argv[0] == "feedback":
        from eval.feedback import main as feedback

        return feedback(argv[1:])
    if argv and argv[0] == "api-bench":
        from eval.bench.api_bench import main as api_bench

        return api_bench(argv[1:])
    if argv and argv[0] == "concurrency":
        from eval.bench.concurrency import main as concurrency

        return concurrency(argv[1:])
    if argv and argv[0] == "soak":
        from eval.bench.soak import main as soak

        return soak(argv[1:])
    if argv and argv[0] == "train-reader":
        from eval.studies.train_reader import main as train_reader

        return train_reader(argv[1:])
    if argv and argv[0] == "reader-bench":
        from eval.bench.reader_bench import main as reader_bench

        return reader_bench(argv[1:])
    if argv and argv[0] == "similarity-floor":
        from eval.studies.similarity_floor import main as similarity_floor

        return similarity_floor(argv[1:])
    if argv and argv[0] == "coverage-floor":
        from eval.studies.coverage_floor import main as coverage_floor

        return coverage_floor(argv[1:])
    if argv and argv[0] == "answer-types":
        from eval.studies.answer_types import main as answer_types

        return answer_types(argv[1:])
    if argv and argv[0] == "passage-choice":
        from eval.studies.passage_choice import main as passage_choice

        return passage_choice(argv[1:])
    if argv and argv[0] == "scale":
        from eval.bench.scale import main as scale

        return scale(argv[1:])
    if argv and argv[0] == "llama-bench":
        from eval.studies.llama_bench import main as llama_bench

        return llama_bench(argv[1:])
    return evaluate_command(argv)


def entry() -> None:
    run(main)


if __name__ == "__main__":
    entry()
