"""Ingestion benchmark: how fast documents go into the index, and where the time goes.

``python -m eval.bench.ingest [--work DIR] [--repeat N] [--json]``, on the real embedding model:

1. ``add`` of the 532 SPF-QR pages, written as separate text files, into an empty index,
   under cProfile: documents/s, passages/s, and the share of the time spent embedding
   (near duplicates kept: templated service-public.fr pages are distinct pages);
2. ``rebuild`` of that index with smaller chunks (640/100, as after changing the chunk
   settings), also profiled: it gives an index of more than 5,000 passages;
3. adding one typical article (a seed, 8 passages) to that index, ``--repeat`` times (removing
   it in between), with the model loaded: total time, its embedding time, and the rest;
   then the same through the command line (``python -m index add``), wall clock, model
   loading included.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from index.update import UpdateReport, add_documents, rebuild_index, remove_documents
from rag.components import load_embedder
from rag.config import PROJECT_ROOT, ChunkSettings, Settings
from rag.store.embedded import IndexStore

SPF = PROJECT_ROOT / "eval" / "datasets" / "spf_qr_test.json"
ARTICLE = PROJECT_ROOT / "seeds" / "2025-03-27-openai-munich.txt"
REBUILD_CHUNKS = ChunkSettings(size=640, overlap=100)


class TimedEmbedder:
    """Counts the seconds spent in the model."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds = inner, 0.0
        self.name, self.dimension = inner.name, inner.dimension

    def embed_passages(self, texts):
        started = time.perf_counter()
        try:
            return self.inner.embed_passages(texts)
        finally:
            self.seconds += time.perf_counter() - started

    def embed_query(self, text):
        return self.inner.embed_query(text)


def write_pages(folder: Path) -> int:
    """The SPF-QR pages as ``<n>.txt`` files: title line, blank line, paragraphs."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    pages = json.loads(SPF.read_text(encoding="utf-8"))["data"]
    for n, page in enumerate(pages):
        body = "\n\n".join(p["context"] for p in page["paragraphs"])
        (folder / f"spf-{n:03d}.txt").write_text(f"{page['title']}\n\n{body}\n", encoding="utf-8")
    return len(pages)


def profiled(run: Callable[[], UpdateReport], embedder: TimedEmbedder, label: str) -> dict:
    embedder.seconds = 0.0
    profile = cProfile.Profile()
    started = time.perf_counter()
    report = profile.runcall(run)
    seconds = time.perf_counter() - started
    embedded = len(report.rebuilt) or len(report.added) + len(report.updated)
    stats = pstats.Stats(profile)
    top = sorted(
        (
            (value[3], f"{Path(key[0]).name}:{key[2]}")
            for key, value in stats.stats.items()
            if "index/" in key[0] or "rag/" in key[0]
        ),
        reverse=True,
    )
    return {
        "step": label,
        "documents": embedded,
        "passages": report.chunks,
        "seconds": round(seconds, 2),
        "documents_per_s": round(embedded / seconds, 2),
        "passages_per_s": round(report.chunks / seconds, 2),
        "embedding_s": round(embedder.seconds, 2),
        "embedding_share": round(embedder.seconds / seconds, 3),
        "top_project_functions_cumulative_s": [(name, round(s, 2)) for s, name in top[:8]],
        "summary": report.summary(),
    }


def add_one(settings: Settings, embedder: TimedEmbedder, repeat: int) -> dict:
    totals, embeddings = [], []
    for _ in range(repeat):
        embedder.seconds = 0.0
        started = time.perf_counter()
        report = add_documents(settings, [ARTICLE], embedder, progress=False, on_wait=None)
        totals.append(time.perf_counter() - started)
        embeddings.append(embedder.seconds)
        assert report.added, report.summary()
        remove_documents(settings, report.added, on_wait=None)
    overheads = [t - e for t, e in zip(totals, embeddings, strict=True)]
    return {
        "step": "add one article, model loaded",
        "passages": report.chunks,
        "total_s_median": round(statistics.median(totals), 3),
        "embedding_s_median": round(statistics.median(embeddings), 3),
        "rest_s_median": round(statistics.median(overheads), 3),
        "rest_s_max": round(max(overheads), 3),
    }


def add_one_cli(settings: Settings) -> dict:
    env = {**os.environ, "DEPECHE_HOME": str(settings.home)}
    env.update(DEPECHE_CHUNK_SIZE=str(settings.chunks.size), DEPECHE_CHUNK_OVERLAP=str(settings.chunks.overlap))

    def wall(*arguments: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "index", *arguments], env=env, check=True, capture_output=True)
        return time.perf_counter() - started

    add = wall("add", str(ARTICLE))
    unchanged = wall("add", str(ARTICLE))
    remove = wall("remove", "2025-03-27-openai-munich")
    return {
        "step": "command line, wall clock (Python start, imports, model load included)",
        "add_s": round(add, 2),
        "add_unchanged_s": round(unchanged, 2),
        "remove_s": round(remove, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.ingest", description="Benchmark de l'indexation.")
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / ".cache" / "ingest-bench")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only-one", action="store_true", help="only step 3, on the index of an earlier run")
    args = parser.parse_args(argv)

    settings = Settings.from_env().with_(home=args.work / "home")
    rebuilt = settings.with_(chunks=REBUILD_CHUNKS)
    started = time.perf_counter()
    embedder = TimedEmbedder(load_embedder(settings))
    results = [{"step": "load embedding model", "seconds": round(time.perf_counter() - started, 2)}]
    if not args.only_one:
        shutil.rmtree(settings.home, ignore_errors=True)
        pages = write_pages(args.work / "pages")
        results.append(
            profiled(
                lambda: add_documents(
                    settings, [args.work / "pages"], embedder, keep_near_duplicates=True, on_wait=None
                ),
                embedder,
                f"add {pages} pages",
            )
        )
        results.append(profiled(lambda: rebuild_index(rebuilt, embedder, on_wait=None), embedder, "rebuild 640/100"))
    results.append({"step": "index", "passages": IndexStore.open(settings.index_dir).counts()[1]})
    results.append(add_one(rebuilt, embedder, args.repeat))
    results.append(add_one_cli(rebuilt))
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for result in results:
            print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
