"""``python -m eval embed-bench``: how fast each embedder embeds newsroom passages, on this CPU
and under caps that approximate others.

Passages: 800-character chunks (the product's chunker and settings) of articles of the press
archive (``../shared/data/presse/articles.jsonl``), drawn with a fixed seed. For each variant
(a packaged embedder name, :data:`VARIANTS`) and each cap (:data:`CAPS`), a fresh process
loads the model, warms it up on a few passages, then embeds them all, as indexing does:
passages a second and tokens a second (the model's own tokenizer), with the CPU's flags in the
report.

The caps set the instruction sets the math libraries may use: oneDNN (OpenVINO's CPU plugin and
torch) by ``ONEDNN_MAX_CPU_ISA``, torch's own kernels by ``ATEN_CPU_CAPABILITY``, MKL by
``MKL_ENABLE_INSTRUCTIONS``. They approximate a CPU without those instructions; they never
give a CPU instructions it lacks (a cap above the machine is the machine).

    python -m eval embed-bench [--variants a,b] [--caps native,avx2] [--passages 120] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rag.config import PROJECT_ROOT, Settings
from rag.models.cpu import Cpu

# A variant is a packaged model's name, with ``:runtime`` for a model that has several
# (rag.models.embedding.RUNTIMES).
VARIANTS = (
    "google/embeddinggemma-300m:sentence-transformers",  # first: the reference the others are compared with
    "embeddinggemma-300m-int8",
    "google/embeddinggemma-300m:openvino-fp32",
    "intfloat/multilingual-e5-small",
)
CAPS: dict[str, dict[str, str]] = {
    "native": {},
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "avx512": {
        "ONEDNN_MAX_CPU_ISA": "AVX512_CORE",
        "ATEN_CPU_CAPABILITY": "avx512",
        "MKL_ENABLE_INSTRUCTIONS": "AVX512",
    },
    "avx512_vnni": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI", "ATEN_CPU_CAPABILITY": "avx512"},
}
SEED = 0
WARMUP = 4


def sample_passages(count: int, seed: int = SEED) -> list[str]:
    """``count`` passages of the press archive as the index would cut them, drawn with ``seed``."""
    from eval.presse.archive import load_archive
    from rag.sources.chunking import chunk_document

    articles = load_archive()
    ids = sorted(articles)
    random.Random(seed).shuffle(ids)
    settings = Settings.from_env().chunks
    passages: list[str] = []
    for article_id in ids:
        for chunk in chunk_document(articles[article_id].document(), settings):
            if len(chunk.text) >= 0.8 * settings.size:  # full passages, not an article's tail
                passages.append(chunk.text)
                break  # one passage an article: many subjects, as an archive holds
        if len(passages) >= count:
            break
    return passages


def count_tokens(embedder, texts: list[str]) -> int:
    """Tokens the model reads for ``texts`` (its own tokenizer); 0 when it has none we know."""
    tokenizer = getattr(embedder, "tokenizer", None)
    if tokenizer is not None and hasattr(tokenizer, "encode_batch"):  # tokenizers (OpenVINO path)
        return sum(len(e.ids) for e in tokenizer.encode_batch(texts))
    model = getattr(embedder, "model", None)
    if model is not None and getattr(model, "tokenizer", None) is not None:
        limit = getattr(model, "max_seq_length", None) or 10**6
        return sum(min(limit, len(model.tokenizer(t)["input_ids"])) for t in texts)
    return 0


# A variant's vectors are compared with its model's reference: the same model in fp32 through
# sentence-transformers. Interchangeable (one model) at a cosine of at least INTERCHANGEABLE.
REFERENCE = {
    "embeddinggemma-300m-int8": VARIANTS[0],
    "google/embeddinggemma-300m:openvino-fp32": VARIANTS[0],
}
INTERCHANGEABLE = 0.99


def cosines(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Row-wise cosine of two sets of normalized vectors: its minimum, 5th percentile and median."""
    values = (a * b).sum(axis=1)
    return {"min": float(values.min()), "p5": float(np.percentile(values, 5)), "median": float(np.median(values))}


def measure(variant: str, passages: list[str], vectors: Path | None = None) -> dict[str, float | str]:
    """One variant in this process: load, warm up, embed every passage (timed); the vectors are
    saved to ``vectors`` (.npy) for the comparison between variants."""
    from rag.models.embedding import load_embedding_model

    settings = Settings.from_env()
    started = time.perf_counter()
    name, _, runtime = variant.partition(":")
    embedder = load_embedding_model(name, cache=settings.cache, threads=settings.threads, runtime=runtime or None)
    embedder.embed_passages(passages[:WARMUP])
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    embedded = embedder.embed_passages(passages)
    seconds = time.perf_counter() - started
    if vectors is not None:
        np.save(vectors, embedded)
    tokens = count_tokens(embedder, passages)
    query_started = time.perf_counter()
    for text in passages[:10]:
        embedder.embed_query(text[:120])
    query_ms = 1000 * (time.perf_counter() - query_started) / 10
    return {
        "variant": variant,
        "passages": len(passages),
        "seconds": round(seconds, 2),
        "passages_per_s": round(len(passages) / seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1) if tokens else None,
        "query_ms": round(query_ms, 1),
        "load_s": round(loaded, 1),
    }


def vectors_file(runs: Path, variant: str, cap: str) -> Path:
    return runs / f"embed-bench-{variant.replace('/', '_').replace(':', '_')}-{cap}.npy"


def run(variant: str, cap: str, passages_file: Path) -> dict:
    """One variant under one cap, in a fresh process (the caps are read when the libraries load)."""
    env = {**os.environ, **CAPS[cap]}
    vectors = vectors_file(passages_file.parent, variant, cap)
    command = [sys.executable, "-m", "eval.bench.embed_bench", "--worker", variant, "--from", str(passages_file)]
    command += ["--vectors", str(vectors)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=PROJECT_ROOT, check=False)
    if done.returncode != 0:
        return {"variant": variant, "cap": cap, "error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "cap": cap}


def compare(rows: list[dict], runs: Path) -> None:
    """Add to each row its vectors' cosine to its reference: the model's fp32 vectors, natively
    (for its other runtimes and precisions), or its own native run (for a capped run)."""
    for row in rows:
        if "error" in row:
            continue
        reference = REFERENCE.get(row["variant"], row["variant"])
        if reference == row["variant"] and row["cap"] == "native":
            continue
        theirs = vectors_file(runs, reference, "native")
        ours = vectors_file(runs, row["variant"], row["cap"])
        if theirs.is_file() and ours.is_file():
            row["cosine"] = {**cosines(np.load(ours), np.load(theirs)), "to": f"{reference}, native"}


RETRIEVAL_SETS = {  # name -> the eval retrieval arguments (SPF-QR whole; PIAF: 600 questions, seed 0)
    "SPF-QR": ["--dataset", "eval/datasets/spf_qr_test.json"],
    "PIAF": ["--dataset", "eval/datasets/piaf-v1.0.json", "--limit", "600"],
}


def retrieval(models: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """Each model's hybrid retrieval on SPF-QR and PIAF (``python -m eval retrieval``, its vectors
    cached in ``.cache/eval-vectors``): doc@1, ans@5 and MRR, by model then set."""
    figures: dict[str, dict[str, dict[str, float]]] = {}
    for model in models:
        for name, arguments in RETRIEVAL_SETS.items():
            command = [sys.executable, "-m", "eval", "retrieval", "--model", model, *arguments]
            command += ["--modes", "hybrid", "--json"]
            done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, check=False)
            if done.returncode != 0:
                figures.setdefault(model, {})[name] = {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
                continue
            hybrid = json.loads(done.stdout.strip().splitlines()[-1])["results"]["hybrid"]  # one dimension: one run
            figures.setdefault(model, {})[name] = {k: hybrid[k] for k in ("doc@1", "ans@5", "mrr")}
    return figures


def retrieval_markdown(figures: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = ["| model | SPF-QR doc@1 | SPF-QR ans@5 | PIAF MRR | PIAF ans@5 |", "|---|---|---|---|---|"]
    for model, sets in figures.items():
        spf, piaf = sets.get("SPF-QR", {}), sets.get("PIAF", {})

        def cell(row: dict, key: str) -> str:
            return f"{row[key]:.3f}" if key in row else row.get("error", "—")

        lines.append(
            f"| {model} | {cell(spf, 'doc@1')} | {cell(spf, 'ans@5')} | {cell(piaf, 'mrr')} | {cell(piaf, 'ans@5')} |"
        )
    return "\n".join(lines)


def markdown(rows: list[dict], cpu: str) -> str:
    lines = [
        f"CPU : {cpu}",
        "",
        "| variant | cap | passages/s | tokens/s | query (ms) | load (s) | cosine to reference (min / p5 / median) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['variant']} | {row['cap']} | erreur : {row['error']} | | | | |")
        else:
            cos = row.get("cosine")
            same = "—" if not cos else f"{cos['min']:.4f} / {cos['p5']:.4f} / {cos['median']:.4f} ({cos['to']})"
            lines.append(
                f"| {row['variant']} | {row['cap']} | {row['passages_per_s']} | {row['tokens_per_s'] or '—'} "
                f"| {row['query_ms']} | {row['load_s']} | {same} |"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval embed-bench", description="Vitesse des embedders.")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--caps", default="native,avx2")
    parser.add_argument("--passages", type=int, default=120)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--retrieval",
        action="store_true",
        help="la recherche de chaque modèle à côté (SPF-QR, PIAF ; vecteurs en cache)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--from", dest="source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--vectors", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.worker, json.loads(args.source.read_text(encoding="utf-8")), args.vectors)))
        return 0
    caps = [c.strip() for c in args.caps.split(",") if c.strip()]
    unknown = [c for c in caps if c not in CAPS]
    if unknown:
        parser.error(f"plafond inconnu : {unknown[0]} (connus : {', '.join(CAPS)})")
    runs = PROJECT_ROOT / "eval" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    passages_file = runs / "embed-bench-passages.json"  # ignored, like every run
    passages_file.write_text(json.dumps(sample_passages(args.passages), ensure_ascii=False), encoding="utf-8")
    rows = [run(v.strip(), cap, passages_file) for v in args.variants.split(",") if v.strip() for cap in caps]
    compare(rows, runs)
    cpu = Cpu.read().describe()
    models = list(dict.fromkeys(v.strip().partition(":")[0] for v in args.variants.split(",") if v.strip()))
    found = retrieval(models) if args.retrieval else {}
    if args.json:
        print(json.dumps({"cpu": cpu, "rows": rows, "retrieval": found}, ensure_ascii=False))
    else:
        print(markdown(rows, cpu))
        if found:
            print("\nRecherche hybride de chaque modèle (python -m eval retrieval) :\n")
            print(retrieval_markdown(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
