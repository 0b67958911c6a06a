"""``python -m eval ingest-memory``: the memory an index build takes on awkward input.

Two inputs a newsroom may hand over, written to a temporary folder: one text file of 50 MB (an
export, a dump), and an archive of 10,000 one-line files. Each is indexed by
``build_index`` in a fresh process, with a stand-in embedder (hashed words, no model) so that
what is measured is the pipeline's own memory: reading (in its fenced child process), chunking,
the pending vectors, the store. The embedding model adds its own, constant, share (about
1 GB for EmbeddingGemma int8 through OpenVINO). Reported: passages, seconds, and the indexing
process's peak RSS.

    python -m eval ingest-memory [--megabytes 50] [--files 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag.config import PROJECT_ROOT

WORDS = (
    "le gouvernement a annoncé mardi une réforme des retraites qui suscite la colère des syndicats "
    "tandis que la ville de Lyon prépare son budget pour l'année prochaine selon le maire"
).split()


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."


def big_file(folder: Path, megabytes: int) -> None:
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "export.txt").open("w", encoding="utf-8") as handle:
        handle.write("Un export de 50 Mo\n\n")
        written = 0
        while written < megabytes * 1_000_000:
            paragraph = " ".join(sentence(rng) for _ in range(6)) + "\n\n"
            handle.write(paragraph)
            written += len(paragraph.encode())


def many_files(folder: Path, count: int) -> None:
    rng = random.Random(1)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"depeche-{n:05d}.txt").write_text(f"{sentence(rng)} Dépêche {n}.\n", encoding="utf-8")


class HashedWords:
    """A stand-in embedder: 768 dimensions, each word hashed into one (no model, no memory)."""

    name, dimension = "hashed-words", 768

    def embed_passages(self, texts):
        import zlib

        import numpy as np

        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split():
                vectors[row, zlib.crc32(word.encode()) % self.dimension] += 1.0
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)

    def embed_query(self, text):
        return self.embed_passages([text])[0]


def worker(source: Path, home: Path) -> dict:
    """Index ``source`` into ``home`` in this process; its figures."""
    from index.build import build_index
    from rag.config import Settings
    from rag.models.vector_cache import kept_until_published

    settings = Settings.from_env().with_(home=home)
    started = time.perf_counter()
    with kept_until_published(HashedWords(), home) as embedder:
        report = build_index(settings, [source], embedder, progress=False)
    return {
        "documents": report.documents,
        "passages": report.chunks,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval ingest-memory", description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    rows = {}
    with tempfile.TemporaryDirectory(prefix="depeche-memory-") as work:
        work = Path(work)
        big_file(work / "big", args.megabytes)
        many_files(work / "many", args.files)
        for label, source in (
            (f"un fichier de {args.megabytes} Mo", work / "big"),
            (f"{args.files} fichiers", work / "many"),
        ):
            command = [
                sys.executable,
                "-m",
                "eval",
                "ingest-memory",
                "--worker",
                str(source),
                str(work / f"home-{source.name}"),
            ]
            done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
            rows[label] = json.loads(done.stdout.strip().splitlines()[-1])
    if args.json:
        print(json.dumps(rows, indent=1, ensure_ascii=False))
        return 0
    for label, row in rows.items():
        print(
            f"{label} : {row['documents']} documents, {row['passages']} passages en {row['seconds']} s ; "
            f"mémoire maximale {row['peak_rss_mb']} Mo"
        )
    return 0
