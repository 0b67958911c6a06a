"""The retrieval benchmark: index a dataset once, then score bm25, dense and hybrid retrieval
on its questions, side by side.

``python -m eval retrieval --dataset eval/datasets/spf_qr_test.json [--json]``

The dataset is a SQuAD file (a passage answers when it contains a gold answer span) or a
hand-written gold set over ``seeds/`` (``eval/gold/seeds.jsonl``: a passage answers when it
supports the item as in the full eval, :class:`eval.run.SupportJudge`; a follow-up is searched
as its standalone question). Unanswerable items are left out. ``alphas`` also scores the convex
hybrid at other fusion weights, over the same index.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from eval.gold import GoldItem
from eval.metrics import KS, contains_answer, first_hit, percentile, retrieval_scores
from index.build import build_index_from_documents
from rag.config import RETRIEVAL_MODES, Settings
from rag.models.embedding import Embedder
from rag.search.followup import standalone_question
from rag.search.retrieval import HybridRetriever, Retriever, make_retriever
from rag.sources.documents import Document
from rag.store.backend import open_index
from rag.store.records import Passage

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


Judge = Callable[[Passage, GoldItem], bool]


def span_judge(passage: Passage, item: GoldItem) -> bool:
    """SQuAD: the passage contains one of the gold answers (normalized)."""
    return contains_answer(passage.text, item.accepted_answers)


def score_retriever(
    retriever: Retriever,
    items: Sequence[GoldItem],
    judge: Judge = span_judge,
    *,
    progress: bool = False,
    label: str = "",
) -> dict[str, float]:
    """doc@k, ans@k, mrr and query latency (p50/p95, ms) of one retriever over the items."""
    doc_ranks, answer_ranks, latencies = [], [], []
    for item in tqdm(items, desc=label, unit="q", disable=not progress, leave=False):
        started = time.perf_counter()
        passages = retriever.retrieve(standalone_question(item.question, item.history), DEPTH)
        latencies.append((time.perf_counter() - started) * 1000)
        doc_ranks.append(first_hit([p.doc_id in item.doc_ids for p in passages]))
        answer_ranks.append(first_hit([judge(p, item) for p in passages]))
    scores = retrieval_scores(doc_ranks, answer_ranks)
    scores["p50_ms"] = percentile(latencies, 50)
    scores["p95_ms"] = percentile(latencies, 95)
    return scores


def run_benchmark(
    documents: Sequence[Document],
    items: Sequence[GoldItem],
    settings: Settings,
    embedder: Embedder,
    *,
    modes: Sequence[str] = RETRIEVAL_MODES,
    alphas: Sequence[float] = (),
    support_judged: bool = False,
    progress: bool = True,
    store_backend: str = "embedded",
) -> BenchmarkResult:
    """Index ``documents`` in a temporary folder with ``settings``' chunking, then score each
    mode (and the convex hybrid at each of ``alphas``). ``support_judged``: judge answers by the
    items' support passages (gold sets) rather than by answer spans (SQuAD). ``store_backend``:
    ``embedded`` or ``milvus-lite`` (a Milvus Lite file in the same temporary folder)."""
    from eval.run import SupportJudge

    items = [item for item in items if item.answerable]
    with tempfile.TemporaryDirectory(prefix="depeche-bench-") as home:
        lite = str(Path(home) / "milvus.db") if store_backend == "milvus-lite" else ""
        bench_settings = settings.with_(home=Path(home), milvus_uri=lite)
        report = build_index_from_documents(bench_settings, documents, embedder, progress=progress)
        store = open_index(bench_settings, embed_model=embedder.name)
        judge = SupportJudge(store).supports if support_judged else span_judge
        make_retriever("hybrid", store, embedder).retrieve("échauffement", 1)  # warm-up, not timed
        results = {
            mode: score_retriever(make_retriever(mode, store, embedder), items, judge, progress=progress, label=mode)
            for mode in modes
        }
        for alpha in alphas:
            retriever = HybridRetriever(store, embedder, fusion="convex", alpha=alpha)
            results[f"hybrid α={alpha:g}"] = score_retriever(retriever, items, judge, label=f"α={alpha:g}")
        store.close()
        if lite:
            from rag.store.milvus import disconnect

            disconnect(lite)
    return BenchmarkResult(report.chunks, report.seconds, results)


def format_table(result: BenchmarkResult) -> str:
    columns = [f"doc@{k}" for k in KS] + [f"ans@{k}" for k in KS] + ["mrr", "p50_ms", "p95_ms"]
    header = "| mode | " + " | ".join(columns) + " |"
    lines = [header, "|" + "---|" * (len(columns) + 1)]
    for mode, metrics in result.results.items():
        cells = [f"{metrics[c]:.1f}" if c.endswith("_ms") else f"{metrics[c]:.2f}" for c in columns]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
