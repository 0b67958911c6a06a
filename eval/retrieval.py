"""The retrieval benchmark: index a SQuAD-format dataset once, then score bm25, dense and
hybrid retrieval on its questions, side by side.

``python -m eval retrieval --dataset eval/datasets/spf_qr_test.json [--json]``
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from eval.metrics import KS, contains_answer, first_hit, percentile, retrieval_scores
from eval.squad import GoldQuestion
from index.build import build_index_from_documents
from rag.config import RETRIEVAL_MODES, Settings
from rag.documents import Document
from rag.embedding import Embedder
from rag.retrieval import Retriever, make_retriever
from rag.store import IndexStore

DEPTH = max(KS)


@dataclass(frozen=True)
class BenchmarkResult:
    chunks: int
    index_seconds: float
    results: dict[str, dict[str, float]]  # mode -> metric -> value

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.index_seconds if self.index_seconds else float("nan")

    def as_json(self) -> dict:
        return {
            "chunks": self.chunks,
            "index_seconds": round(self.index_seconds, 2),
            "chunks_per_second": round(self.chunks_per_second, 2),
            "results": {mode: {k: round(v, 4) for k, v in m.items()} for mode, m in self.results.items()},
        }


def score_retriever(
    retriever: Retriever, questions: Sequence[GoldQuestion], *, progress: bool = False, label: str = ""
) -> dict[str, float]:
    """doc@k, ans@k, mrr and query latency (p50/p95, ms) of one retriever over the questions."""
    doc_ranks, answer_ranks, latencies = [], [], []
    for question in tqdm(questions, desc=label, unit="q", disable=not progress, leave=False):
        started = time.perf_counter()
        passages = retriever.retrieve(question.question, DEPTH)
        latencies.append((time.perf_counter() - started) * 1000)
        doc_ranks.append(first_hit([p.doc_id == question.doc_id for p in passages]))
        answer_ranks.append(first_hit([contains_answer(p.text, question.answers) for p in passages]))
    scores = retrieval_scores(doc_ranks, answer_ranks)
    scores["p50_ms"] = percentile(latencies, 50)
    scores["p95_ms"] = percentile(latencies, 95)
    return scores


def run_benchmark(
    documents: Sequence[Document],
    questions: Sequence[GoldQuestion],
    settings: Settings,
    embedder: Embedder,
    *,
    modes: Sequence[str] = RETRIEVAL_MODES,
    progress: bool = True,
) -> BenchmarkResult:
    """Index ``documents`` in a temporary folder with ``settings``' chunking, then score each mode."""
    with tempfile.TemporaryDirectory(prefix="depeche-bench-") as home:
        bench_settings = settings.with_(home=Path(home))
        report = build_index_from_documents(bench_settings, documents, embedder, progress=progress)
        store = IndexStore.open(bench_settings.index_dir, embed_model=embedder.name)
        make_retriever("hybrid", store, embedder).retrieve("échauffement", 1)  # warm-up, not timed
        results = {
            mode: score_retriever(make_retriever(mode, store, embedder), questions, progress=progress, label=mode)
            for mode in modes
        }
        store.close()
    return BenchmarkResult(report.chunks, report.seconds, results)


def format_table(result: BenchmarkResult) -> str:
    columns = [f"doc@{k}" for k in KS] + [f"ans@{k}" for k in KS] + ["mrr", "p50_ms", "p95_ms"]
    header = "| mode | " + " | ".join(columns) + " |"
    lines = [header, "|" + "---|" * (len(columns) + 1)]
    for mode, metrics in result.results.items():
        cells = [f"{metrics[c]:.1f}" if c.endswith("_ms") else f"{metrics[c]:.2f}" for c in columns]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
