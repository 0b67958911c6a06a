"""``python -m eval retrieval --dataset PATH [--json]``: the retrieval benchmark."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from rag.cli import run
from rag.config import PROJECT_ROOT, RETRIEVAL_MODES, ChunkSettings, Settings

DEFAULT_DATASET = PROJECT_ROOT / "eval" / "datasets" / "spf_qr_test.json"


def retrieval(args: argparse.Namespace) -> int:
    from eval.retrieval import format_table, run_benchmark
    from eval.squad import load_squad
    from rag.components import load_embedder

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
    documents, questions = load_squad(args.dataset)
    questions = [q for q in questions if q.answers]
    if args.limit and args.limit < len(questions):
        questions = random.Random(args.seed).sample(questions, args.limit)
    embedder = load_embedder(settings)
    result = run_benchmark(documents, questions, settings, embedder, modes=args.modes, progress=not args.json)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
        return 0
    print(
        f"{args.dataset.name} : {len(documents)} documents, {len(questions)} questions, "
        f"{result.chunks} passages ({settings.chunks.size}/{settings.chunks.overlap}), "
        f"modèle {embedder.name}"
    )
    print(f"Indexation : {result.index_seconds:.1f} s, {result.chunks_per_second:.1f} passages/s\n")
    print(format_table(result))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description="Évaluer Dépêche.")
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("retrieval", help="benchmark de la recherche (bm25, dense, hybrid)")
    bench.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="fichier au format SQuAD")
    bench.add_argument("--json", action="store_true", help="un objet JSON sur la sortie standard")
    bench.add_argument("--chunk-size", type=int, default=None)
    bench.add_argument("--chunk-overlap", type=int, default=None)
    bench.add_argument("--model", default=None, help="modèle d'embedding (défaut : DEPECHE_EMBED_MODEL)")
    bench.add_argument("--modes", nargs="+", choices=RETRIEVAL_MODES, default=list(RETRIEVAL_MODES))
    bench.add_argument("--limit", type=int, default=None, help="un échantillon de N questions")
    bench.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    return retrieval(args)


def entry() -> None:
    run(main)


if __name__ == "__main__":
    entry()
