"""How the store holds up as the archive grows: ``python -m eval scale``.

``python -m eval scale [--sizes 10000 100000 1000000] [--queries 100] [--stores embedded milvus-lite] [--json]``

A synthetic corpus, grown size by size in one index (10k, then 100k, then 1M passages by
default), and at each size:

- **disk**: the bytes of the published index version;
- **RSS** of a fresh process that opens the index and answers the queries, as the chat would
  (its peak, models aside: the chat adds its embedder, reader and LLM to it);
- **query p50/p95** for BM25, dense and hybrid retrieval (:mod:`rag.search.retrieval`, the product's
  retrievers, passages fetched from the store included; the query's embedding is computed
  once beforehand: it costs the same at every size);
- **add one article / remove one**: through the product's write path
  (:func:`index.writing.new_version`: a new version, written and published); past
  ``SEGMENTS_FROM`` passages the embedded store adds a segment or hides a document;
- **open**: the time a fresh process takes to open the index (what the chat pays when a new
  version appears), and the hybrid query p50 once one article was added (two segments);
- **optimize**: ``python -m index optimize``'s fold of every segment into one (embedded store);
- **dense recall@10** of the store's vector search against exact search (numpy, over the same
  vectors).

The corpus (:func:`synthetic_articles`): real French sentences, from ``seeds/`` and the
SPF-QR pages, recombined at random into passages of about 800 characters, six passages an
article, dated between 2015 and 2026. Embedding a million passages would take a day on two
cores, so only ``SAMPLE`` passages are embedded for real; every other passage's vector is a
real one plus Gaussian noise (cosine about 0.9 to its source), renormalized: the vectors keep
the clustered shape of real ones at the cost of a few minutes. The queries are the SPF-QR and
seeds questions, embedded for real.

Each backend of :mod:`rag.store` is measured the same way; the report (``eval/runs/<time>-scale/``)
has the table and a plot of the query times and the write times against the size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.metrics import percentile
from rag.config import PROJECT_ROOT, Settings
from rag.sources.chunking import Chunk
from rag.sources.documents import Document

SIZES = (10_000, 100_000, 1_000_000)
PASSAGES_PER_ARTICLE = 6
PASSAGE_CHARS = 800
SAMPLE = 1_000  # passages embedded for real; the others are noisy copies of their vectors
NOISE_COSINE = 0.9  # about the cosine of a noisy copy with its source
SEED = 2026
K = 10
LOAD_BATCH = 1000  # articles generated, and their vectors drawn, at a time
SPF = PROJECT_ROOT / "eval" / "datasets" / "spf_qr_test.json"
SEEDS_GOLD = PROJECT_ROOT / "eval" / "gold" / "seeds.jsonl"


@dataclass(frozen=True)
class SizeFigures:
    backend: str
    passages: int
    articles: int
    load_seconds: float  # to grow the index to this size (bulk load, vectors given)
    disk_bytes: int
    rss_bytes: int  # of a fresh process that opened the index and ran every query
    query_ms: dict[str, dict[str, float]]  # mode -> {"p50", "p95"}
    add_one_s: float
    remove_one_s: float
    recall_at_10: float
    nprobe_sweep: dict[str, dict[str, float]] = field(default_factory=dict)  # nprobe -> recall, dense ms
    open_s: float = 0.0  # a fresh process opening the index
    hybrid_after_add_ms: float = 0.0  # hybrid p50 once one article was added (a delta segment)
    optimize_s: float = 0.0  # folding the segments into one (embedded store)
    add_file_s: float = 0.0  # python -m index add of one article file, embedding aside (duplicate checks in)


# -- the corpus ------------------------------------------------------------------------


def sentence_pool() -> list[str]:
    """Real French sentences: the seed articles' and the SPF-QR pages', without duplicates."""
    from rag.search.evidence import split_sentences

    texts = [p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))]
    data = json.loads(SPF.read_text(encoding="utf-8"))["data"]
    texts += [paragraph["context"] for article in data for paragraph in article["paragraphs"]]
    pool = {s.strip() for text in texts for s in split_sentences(text) if 40 <= len(s.strip()) <= 400}
    return sorted(pool)


def synthetic_articles(pool: Sequence[str], first: int, count: int, seed: int = SEED) -> Iterator[Document]:
    """Articles ``first`` to ``first + count - 1``, each the same at every run (its own seed)."""
    for number in range(first, first + count):
        rng = random.Random(seed * 1_000_003 + number)
        passages = []
        for _ in range(PASSAGES_PER_ARTICLE):
            sentences: list[str] = []
            while sum(len(s) + 1 for s in sentences) < PASSAGE_CHARS - 100:
                sentences.append(rng.choice(pool))
            passages.append(" ".join(sentences))
        body = "\n\n".join(passages)
        date = f"{rng.randint(2015, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        title = passages[0][:80].rsplit(" ", 1)[0]
        yield Document(f"synth-{number:07d}", title, date, f"synthetique/{number}.txt", body, f"{number:064x}")


def fingerprints(document: Document) -> dict:
    """Duplicate fingerprints of the size the product stores (:mod:`rag.sources.dedup`), drawn at random
    instead of computed: what an ``add`` reads and compares costs the same."""
    from rag.sources.dedup import NUM_PERM

    digest = hashlib.sha256(document.doc_id.encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    return {"text_hash": digest.hex(), "minhash": rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64).tobytes()}


class GivenVectors:
    """An embedder that returns vectors drawn beforehand: an ``add`` measured without embedding."""

    def __init__(self, name: str, vectors: np.ndarray) -> None:
        self.name, self.dimension, self._vectors = name, int(vectors.shape[1]), vectors

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._vectors[: len(texts)]

    def embed_query(self, text: str) -> np.ndarray:
        return self._vectors[0]


def chunks_of(document: Document) -> list[Chunk]:
    """The article's passages as chunks (the corpus is made of passages: no splitter needed)."""
    chunks, start = [], 0
    for position, text in enumerate(document.body.split("\n\n")):
        chunks.append(Chunk(document.doc_id, position, start, start + len(text), text))
        start += len(text) + 2
    return chunks


NOISE_BLOCK = 1024  # passages whose noise is drawn together: passage i's depends on i alone


def vectors_for(first_passage: int, count: int, sample: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Vectors of passages ``first_passage`` onwards: passage i's is ``sample[i % len(sample)]``
    plus noise that brings its cosine to about ``NOISE_COSINE``, renormalized. Passage i's
    vector is the same whatever range it is asked in (its noise comes from block i // NOISE_BLOCK)."""
    dimension = sample.shape[1]
    spread = np.sqrt(1 / NOISE_COSINE**2 - 1) / np.sqrt(dimension)
    end = first_passage + count
    pieces = []
    for block in range(first_passage // NOISE_BLOCK, -(-end // NOISE_BLOCK)):
        noise = np.random.default_rng([seed, block]).normal(0.0, spread, size=(NOISE_BLOCK, dimension))
        low, high = max(first_passage, block * NOISE_BLOCK), min(end, (block + 1) * NOISE_BLOCK)
        pieces.append(noise[low - block * NOISE_BLOCK : high - block * NOISE_BLOCK])
    noise = np.concatenate(pieces) if pieces else np.zeros((0, dimension))
    noisy = sample[np.arange(first_passage, end) % len(sample)] + noise.astype(np.float32)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def questions(limit: int) -> list[str]:
    data = json.loads(SPF.read_text(encoding="utf-8"))["data"]
    found = [
        qa["question"] for article in data for paragraph in article["paragraphs"] for qa in paragraph.get("qas", [])
    ]
    found += [json.loads(line)["question"] for line in SEEDS_GOLD.read_text(encoding="utf-8").splitlines() if line]
    return found[:limit]


# -- measuring -------------------------------------------------------------------------


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def exact_top(vectors_of, total: int, queries: np.ndarray, k: int = K, block: int = 200_000) -> list[set[int]]:
    """The exact top ``k`` passage numbers of each query, scanning the vectors block by block."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, total, block):
        vectors = vectors_of(start, min(block, total - start))
        scores = queries @ vectors.T
        ids = np.broadcast_to(np.arange(start, start + len(vectors)), scores.shape)
        merged_scores = np.concatenate([best_scores, scores], axis=1)
        merged_ids = np.concatenate([best_ids, ids], axis=1)
        keep = np.argsort(-merged_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, keep, axis=1)
        best_ids = np.take_along_axis(merged_ids, keep, axis=1)
    return [set(row.tolist()) for row in best_ids]


_PROBE = """
import json, sys, time
import numpy as np
from pathlib import Path
from rag.config import Settings
from rag.store.backend import open_index
from rag.search.retrieval import make_retriever

home, queries_file, k, uri = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[5]
loaded = np.load(queries_file)
texts, vectors = json.loads(str(loaded["texts"])), loaded["vectors"]

class Known:
    name, dimension = sys.argv[4], vectors.shape[1]
    def embed_query(self, text):
        return vectors[texts.index(text)]
    def embed_passages(self, texts):
        raise RuntimeError("no passage is embedded here")

started = time.perf_counter()
store = open_index(Settings(home=home, milvus_uri=uri))
opened = time.perf_counter() - started
times, dense = {}, []
for mode in ("bm25", "dense", "hybrid"):
    retriever = make_retriever(mode, store, Known(), alpha=0.5)
    retriever.retrieve(texts[0], k)  # warm
    times[mode] = []
    for text in texts:
        started = time.perf_counter()
        retriever.retrieve(text, k)
        times[mode].append(time.perf_counter() - started)
for vector in vectors:
    dense.append([i for i, _ in store.vector_search(vector, k)])
# An approximate index: the same dense searches at other nprobe values (recall against time).
sweep = {}
segments = getattr(store, "_segments", None)
index = segments[0].vectors if segments else None
if index is not None and hasattr(index, "nprobe"):
    chosen = index.nprobe
    for nprobe in (8, 32, 64, 128, 256, 512):
        index.nprobe = nprobe
        started = time.perf_counter()
        found = [[i for i, _ in store.vector_search(vector, k)] for vector in vectors]
        sweep[nprobe] = {"dense": found, "ms": 1000 * (time.perf_counter() - started) / len(vectors)}
    index.nprobe = chosen
# The peak of this process's own memory: ru_maxrss would count the parent's, from before exec.
status = Path("/proc/self/status").read_text()
rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) * 1024
print(json.dumps({"times": times, "dense": dense, "rss": rss, "sweep": sweep, "open": opened}))
"""


def probe(settings: Settings, queries_file: Path, embed_model: str) -> dict:
    """Open the index in a fresh process, as the chat does, run every query; its timings, its
    dense results (chunk ids) and its peak RSS (Milvus Lite's engine included: it runs in the
    process that opens its file)."""
    if settings.milvus_uri:
        from rag.store.milvus import disconnect

        disconnect(settings.milvus_uri)  # a Lite file admits one process: the probe's turn
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(settings.home), str(queries_file), str(K), embed_model, settings.milvus_uri],
        check=True,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the run ---------------------------------------------------------------------------


BACKENDS = ("embedded", "milvus-lite")


def run_scale(
    sizes: Sequence[int], query_count: int, work: Path, *, backend: str = "embedded", embedder=None
) -> list[SizeFigures]:
    """Grow one index through ``sizes`` (passages) in ``work`` and measure it at each size, on
    ``backend``: the embedded store, or Milvus Lite on a file (:mod:`rag.store.milvus`)."""
    from index.writing import new_version
    from rag.components import load_embedder
    from rag.store.records import IndexInfo
    from rag.store.versions import current_version

    work = work / backend
    work.mkdir(parents=True, exist_ok=True)
    lite = str(work / "milvus.db") if backend == "milvus-lite" else ""
    settings = replace(Settings.from_env(), home=work, milvus_uri=lite, milvus_token="")
    embedder = embedder or load_embedder(settings)
    pool = sentence_pool()
    print(f"{len(pool)} phrases réelles ; {SAMPLE} passages plongés pour de vrai.", file=sys.stderr)
    sample_texts = [chunks_of(d)[0].text for d in synthetic_articles(pool, 10**9, SAMPLE)]
    sample = np.asarray(embedder.embed_passages(sample_texts), dtype=np.float32)
    texts = questions(query_count)
    query_vectors = np.stack([np.asarray(embedder.embed_query(t), dtype=np.float32) for t in texts])
    queries_file = work / "queries.npz"
    np.savez(queries_file, texts=json.dumps(texts), vectors=query_vectors)

    info = IndexInfo(embedder.name, int(sample.shape[1]), PASSAGE_CHARS, 0)
    figures, articles, chunk_ids = [], 0, []  # chunk_ids[n]: the store's id of passage n
    for size in sorted(sizes):
        wanted = -(-size // PASSAGES_PER_ARTICLE) - articles
        started = time.perf_counter()
        fresh = info if articles == 0 else None
        with new_version(settings, fresh=fresh, embed_model=embedder.name, on_wait=None) as store:
            progress = tqdm(total=wanted, desc=f"{size} passages", unit="art")
            for start in range(articles, articles + wanted, LOAD_BATCH):
                batch = list(synthetic_articles(pool, start, min(LOAD_BATCH, articles + wanted - start)))
                chunked = [chunks_of(d) for d in batch]
                vectors = vectors_for(len(chunk_ids), sum(len(c) for c in chunked), sample)
                offset = 0
                for document, chunks in zip(batch, chunked, strict=True):
                    chunk_ids += store.add_document(
                        document, chunks, vectors[offset : offset + len(chunks)], **fingerprints(document)
                    )
                    offset += len(chunks)
                progress.update(len(batch))
            progress.close()
        load_seconds = time.perf_counter() - started
        articles += wanted
        passages = len(chunk_ids)
        disk = folder_bytes(Path(lite) if lite else current_version(settings.index_dir))

        measured = probe(settings, queries_file, embedder.name)
        position = {chunk_id: n for n, chunk_id in enumerate(chunk_ids)}
        exact = exact_top(lambda s, c: vectors_for(s, c, sample), passages, query_vectors)
        recall = recall_at(measured["dense"], position, exact)
        sweep = {
            nprobe: {"recall": recall_at(run["dense"], position, exact), "dense_ms": run["ms"]}
            for nprobe, run in measured["sweep"].items()
        }

        extra = next(synthetic_articles(pool, 2 * 10**9, 1))
        started = time.perf_counter()
        with new_version(settings, embed_model=embedder.name, on_wait=None) as store:
            extra_chunks = chunks_of(extra)
            store.add_document(extra, extra_chunks, vectors_for(10**9, len(extra_chunks), sample))
        add_one = time.perf_counter() - started
        after_add = probe(settings, queries_file, embedder.name)
        started = time.perf_counter()
        with new_version(settings, embed_model=embedder.name, on_wait=None) as store:
            store.remove_document(extra.doc_id)
        remove_one = time.perf_counter() - started
        started = time.perf_counter()
        with new_version(settings, embed_model=embedder.name, on_wait=None) as store:
            store.optimize()
        optimize = time.perf_counter() - started
        add_file = add_one_file(settings, work, next(synthetic_articles(pool, 3 * 10**9, 1)), embedder.name, sample)

        query_ms = {
            mode: {"p50": 1000 * percentile(t, 50), "p95": 1000 * percentile(t, 95)}
            for mode, t in measured["times"].items()
        }
        figure = SizeFigures(
            backend,
            passages,
            articles,
            load_seconds,
            disk,
            int(measured["rss"]),
            query_ms,
            add_one,
            remove_one,
            recall,
            sweep,
            open_s=measured["open"],
            hybrid_after_add_ms=1000 * percentile(after_add["times"]["hybrid"], 50),
            optimize_s=optimize,
            add_file_s=add_file,
        )
        print(summary_line(figure), file=sys.stderr)
        figures.append(figure)
    return figures


def add_one_file(settings: Settings, work: Path, article: Document, embed_model: str, sample: np.ndarray) -> float:
    """Seconds for :func:`index.update.add_documents` (what ``python -m index add`` runs) to add
    one article file, its vectors given: reading it, checking it against every stored
    document's fingerprints, writing and publishing. The article is removed afterwards."""
    from index.update import add_documents, remove_documents

    folder = work / "one-article"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path = folder / "depeche.txt"
    path.write_text(f"{article.title}\n\n{article.body}", encoding="utf-8")
    vectors = vectors_for(4 * 10**9, 64, sample)
    started = time.perf_counter()
    report = add_documents(settings, [path], GivenVectors(embed_model, vectors), progress=False, on_wait=None)
    seconds = time.perf_counter() - started
    if report.added:
        remove_documents(settings, report.added, on_wait=None)
    return seconds


def recall_at(results: list[list[int]], position: dict[int, int], exact: list[set[int]]) -> float:
    """Mean share of the exact top K (passage numbers) among a search's results (chunk ids)."""
    found = [{position[i] for i in ids if i in position} for ids in results]
    return float(np.mean([len(f & e) / K for f, e in zip(found, exact, strict=True)]))


def summary_line(f: SizeFigures) -> str:
    q = " · ".join(f"{m} {v['p50']:.1f}/{v['p95']:.1f} ms" for m, v in f.query_ms.items())
    return (
        f"{f.backend} {f.passages} passages : disque {f.disk_bytes / 1e6:.0f} Mo, RSS {f.rss_bytes / 1e6:.0f} Mo, "
        f"{q}, ajout d'un article {f.add_one_s:.2f} s, retrait {f.remove_one_s:.2f} s, rappel@10 {f.recall_at_10:.3f}, "
        f"ouverture {f.open_s:.2f} s, hybride après un ajout {f.hybrid_after_add_ms:.1f} ms, "
        f"optimisation {f.optimize_s:.1f} s, `index add` d'un fichier {f.add_file_s:.2f} s"
    )


def markdown(figures: Sequence[SizeFigures]) -> str:
    lines = [
        "# Passage à l'échelle",
        "",
        "| backend | passages | disk | RSS | BM25 p50/p95 | dense p50/p95 | hybrid p50/p95 | add one | remove one "
        "| dense recall@10 | load | open | hybrid p50 after an add | optimize | `index add` of a file |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        q = {m: f"{v['p50']:.1f} / {v['p95']:.1f} ms" for m, v in f.query_ms.items()}
        lines.append(
            f"| {f.backend} | {f.passages:,} | {f.disk_bytes / 1e6:,.0f} MB | {f.rss_bytes / 1e6:,.0f} MB "
            f"| {q['bm25']} | {q['dense']} | {q['hybrid']} | {f.add_one_s:.2f} s | {f.remove_one_s:.2f} s "
            f"| {f.recall_at_10:.3f} | {f.load_seconds:.0f} s | {f.open_s:.2f} s | {f.hybrid_after_add_ms:.1f} ms "
            f"| {f.optimize_s:.1f} s | {f.add_file_s:.2f} s |"
        )
    for f in figures:
        if f.nprobe_sweep:
            cells = ", ".join(f"{n}: {v['recall']:.3f} ({v['dense_ms']:.1f} ms)" for n, v in f.nprobe_sweep.items())
            lines.append(f"\n{f.backend}, {f.passages:,} passages, inverted file: nprobe: recall@10 (dense) — {cells}")
    lines += ["", "![query and write times against the size](scale.png)", ""]
    return "\n".join(lines)


def plot(figures: Sequence[SizeFigures], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (queries, writes) = plt.subplots(1, 2, figsize=(11, 4))
    for backend in sorted({f.backend for f in figures}):
        mine = [f for f in figures if f.backend == backend]
        sizes = [f.passages for f in mine]
        for mode in ("bm25", "dense", "hybrid"):
            queries.plot(sizes, [f.query_ms[mode]["p50"] for f in mine], marker="o", label=f"{backend} {mode}")
        writes.plot(sizes, [f.add_one_s for f in mine], marker="o", label=f"{backend} ajout d'un article")
        writes.plot(sizes, [f.remove_one_s for f in mine], marker="s", label=f"{backend} retrait d'un article")
    for axis, title, unit in ((queries, "Requête (p50)", "ms"), (writes, "Écriture", "s")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("passages")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str]) -> int:
    from eval.report import new_run_dir

    parser = argparse.ArgumentParser(prog="python -m eval scale", description="Le magasin face à la taille.")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="passages, par ordre croissant")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--work", type=Path, default=None, help="dossier de travail (par défaut : temporaire)")
    parser.add_argument("--stores", nargs="+", choices=BACKENDS, default=list(BACKENDS), help="les magasins mesurés")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="depeche-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        figures = [f for backend in args.stores for f in run_scale(args.sizes, args.queries, work, backend=backend)]
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    folder = new_run_dir(PROJECT_ROOT / "eval" / "runs")
    folder = folder.rename(folder.with_name(folder.name + "-scale"))
    (folder / "report.md").write_text(markdown(figures), encoding="utf-8")
    (folder / "figures.json").write_text(json.dumps([asdict(f) for f in figures], indent=1), encoding="utf-8")
    plot(figures, folder / "scale.png")
    if args.json:
        print(json.dumps([asdict(f) for f in figures]))
    else:
        print(markdown(figures))
    print(f"Rapport : {folder / 'report.md'}", file=sys.stderr)
    print(
        f"Pic de mémoire de ce processus : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} Mo",
        file=sys.stderr,
    )
    return 0
