"""Ask every gold question through the full pipeline and score what comes back.

Per question (:class:`ItemResult`): whether a supporting passage was retrieved (and at which
rank in the top 5), the answer's exact match, token F1 and gold-token recall, which cited
passages support it, whether the bot refused, and the latency. :func:`aggregate` turns the
list into the flat metrics of the report (``retrieval.hit@1`` …).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tqdm import tqdm

from eval.answer_metrics import best_over, exact_match, token_f1, token_recall
from eval.gold import GoldItem
from eval.metrics import normalize_text, percentile
from index.build import build_index_from_documents
from rag.config import Settings
from rag.models.embedding import Embedder
from rag.pipeline import Pipeline
from rag.sources.documents import Document
from rag.store.interface import Store
from rag.store.manifest import index_exists
from rag.store.records import SCHEMA_VERSION, Passage

RETRIEVAL_KS = (1, 3, 5)


@dataclass
class ItemResult:
    item: GoldItem
    answer: str
    refused: bool
    citations: list[int]
    cited_supporting: list[bool]  # one flag per citation
    support_rank: int | None  # rank of the first supporting passage in the top 5, if any
    exact: float | None  # answer scores: answerable questions only
    f1: float | None
    recall: float | None
    first_token_s: float | None
    total_s: float
    tokens: int
    passages: list[dict] = field(default_factory=list)
    draft: str = ""
    revised: bool = False
    quoted: bool = False  # the answer is a quotation of the evidence, the draft having failed the check
    search_question: str = ""
    short: str = ""  # the short answer (read paths): what F1 and EM score; the whole answer otherwise
    path: str = "llm"  # "reader", "yesno", "metadata", "across" or "llm" (rag.answer.routing)
    confidence: float | None = None  # the reader's calibrated confidence
    worker_overhead_s: float | None = None  # what the model's own process added to this answer
    scope: str = ""  # the dates the question was scoped to («articles d'octobre 2024»), if any
    yes_no_right: bool | None = None  # the answer's «Oui»/«Non» is the gold's (both say one)

    def as_json(self) -> dict:
        return {
            "id": self.item.id,
            "question": self.item.question,
            "gold": self.item.answer,
            "answerable": self.item.answerable,
            "kind": self.item.kind,
            "answer": self.answer,
            "refused": self.refused,
            "citations": self.citations,
            "cited_supporting": self.cited_supporting,
            "support_rank": self.support_rank,
            "exact": self.exact,
            "f1": self.f1,
            "recall": self.recall,
            "first_token_s": self.first_token_s,
            "total_s": self.total_s,
            "tokens": self.tokens,
            "passages": self.passages,
            "draft": self.draft,
            "revised": self.revised,
            "quoted": self.quoted,
            "search_question": self.search_question,
            "short": self.short,
            "path": self.path,
            "confidence": self.confidence,
            "worker_overhead_s": self.worker_overhead_s,
            "scope": self.scope,
            "yes_no_right": self.yes_no_right,
        }


class SupportJudge:
    """Does a passage support a gold item? It must come from one of the item's documents and
    overlap at least half of a support text (or contain it, normalized). With no support
    text (a question on metadata), any passage of the document counts."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._bodies: dict[str, str] = {}

    def _body(self, doc_id: str) -> str:
        if doc_id not in self._bodies:
            document = self.store.document(doc_id)
            self._bodies[doc_id] = document.body if document else ""
        return self._bodies[doc_id]

    def supports(self, passage: Passage, item: GoldItem) -> bool:
        if passage.doc_id not in item.doc_ids:
            return False
        if not item.support:
            return True
        body, text = self._body(passage.doc_id), normalize_text(passage.text)
        for support in item.support:
            if normalize_text(support) in text:
                return True
            start = body.find(support)
            if start >= 0:
                overlap = min(start + len(support), passage.end) - max(start, passage.start)
                if overlap >= 0.5 * min(len(support), passage.end - passage.start):
                    return True
        return False


def evaluate(items: Sequence[GoldItem], pipeline: Pipeline, *, progress: bool = True) -> list[ItemResult]:
    judge = SupportJudge(pipeline.retriever.store)
    results = []
    for item in tqdm(items, desc="Évaluation", unit="question", disable=not progress):
        retrieved = pipeline.retrieve(item.question, item.history, max(RETRIEVAL_KS))  # within its dates
        support_rank = next((rank for rank, p in enumerate(retrieved, start=1) if judge.supports(p, item)), None)
        overhead_before = getattr(pipeline.generator, "overhead_s", None)
        answer = pipeline.answer(item.question, item.history)
        overhead = None if overhead_before is None else pipeline.generator.overhead_s - overhead_before
        golds = item.accepted_answers
        scored = item.answerable and bool(golds)
        short = answer.short or answer.text  # F1 and EM score the short answer, recall the whole one
        results.append(
            ItemResult(
                item=item,
                answer=answer.text,
                refused=answer.refused,
                citations=answer.citations,
                cited_supporting=[judge.supports(p, item) for p in answer.cited_passages],
                support_rank=support_rank,
                exact=best_over(exact_match, short, golds) if scored else None,
                f1=best_over(token_f1, short, golds) if scored else None,
                recall=best_over(token_recall, answer.text, golds) if scored else None,
                first_token_s=answer.first_token_s,
                total_s=answer.total_s,
                tokens=answer.generated_chunks,
                passages=[
                    {"n": n, "doc_id": p.doc_id, "title": p.title, "date": p.date, "start": p.start, "text": p.text}
                    for n, p in enumerate(answer.passages, start=1)
                ],
                draft=answer.draft,
                revised=answer.revised,
                quoted=any(s.origin == "quote" for s in answer.sentences),
                search_question=answer.search_question,
                short=answer.short,
                path=answer.path,
                confidence=answer.confidence,
                worker_overhead_s=overhead or None,  # None: the model was not asked (or runs in process)
                scope=answer.scope,
                yes_no_right=yes_no_agrees(answer.text, golds) if scored and not answer.refused else None,
            )
        )
    return results


def yes_no_agrees(answer: str, golds: Sequence[str]) -> bool | None:
    """Whether the answer opens with the gold's «Oui» or «Non»; None unless both open with one.

    >>> yes_no_agrees("Non. Selon [1] : « … »", ["Oui, c'est son premier bureau."])
    False
    >>> yes_no_agrees("Oui. Selon [1] : « … »", ["Oui"]), yes_no_agrees("Munich.", ["Oui"])
    (True, None)
    """
    from rag.answer.yes_no import opening_yes_no

    said = opening_yes_no(answer)
    gold = next((g for g in map(opening_yes_no, golds) if g), None)
    if said is None or gold is None:
        return None
    return said == gold


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(results: Sequence[ItemResult]) -> dict[str, float | None]:
    answerable = [r for r in results if r.item.answerable]
    unanswerable = [r for r in results if not r.item.answerable]
    metrics: dict[str, float | None] = {
        "count.questions": len(results),
        "count.answerable": len(answerable),
    }
    for k in RETRIEVAL_KS:
        metrics[f"retrieval.hit@{k}"] = _mean(
            [float(r.support_rank is not None and r.support_rank <= k) for r in answerable]
        )
    metrics["retrieval.mrr"] = _mean([1 / r.support_rank if r.support_rank else 0.0 for r in answerable])
    for name in ("exact", "f1", "recall"):
        metrics[f"answer.{name}"] = _mean([getattr(r, name) for r in answerable if getattr(r, name) is not None])
    answered = [r for r in answerable if not r.refused]
    metrics["citation.rate"] = _mean([float(bool(r.citations)) for r in answered])
    flags = [flag for r in answerable for flag in r.cited_supporting]
    metrics["citation.precision"] = _mean([float(f) for f in flags])
    metrics["answer.revised"] = _mean([float(r.revised) for r in results])
    metrics["answer.quoted"] = _mean([float(r.quoted) for r in results])
    metrics["answer.yes_no_right"] = _mean([float(r.yes_no_right) for r in results if r.yes_no_right is not None])
    metrics["refusal.unanswerable"] = _mean([float(r.refused) for r in unanswerable])
    metrics["refusal.answerable"] = _mean([float(r.refused) for r in answerable])
    first = [r.first_token_s for r in results if r.first_token_s is not None]
    total = [r.total_s for r in results]
    metrics["latency.first_token_p50_s"] = percentile(first, 50) if first else None
    metrics["latency.first_token_p95_s"] = percentile(first, 95) if first else None
    metrics["latency.total_p50_s"] = percentile(total, 50) if total else None
    metrics["latency.total_p95_s"] = percentile(total, 95) if total else None
    generating = [(r.tokens, r.total_s - r.first_token_s) for r in results if r.first_token_s is not None]
    seconds = sum(s for _, s in generating)
    metrics["latency.tokens_per_s"] = sum(t for t, _ in generating) / seconds if seconds > 0 else None
    # What running the model in its own process adds to an answer that used it (pipes, pickling).
    overheads = [r.worker_overhead_s * 1000 for r in results if r.worker_overhead_s is not None]
    metrics["latency.model_process_overhead_p50_ms"] = percentile(overheads, 50) if overheads else None
    metrics["latency.model_process_overhead_p95_ms"] = percentile(overheads, 95) if overheads else None
    return metrics


def breakdown(results: Sequence[ItemResult], key: str) -> dict[str, dict[str, float | None]]:
    """Per value of ``key`` (``"kind"``: the gold set's question kind; ``"path"``: how it was
    answered; ``"kind / path"``: both): questions, F1, recall, and the refusal rate of
    answerable and unanswerable ones."""
    groups: dict[str, list[ItemResult]] = {}
    for result in results:
        kind = result.item.kind or "question"
        value = kind if key == "kind" else result.path if key == "path" else f"{kind} / {result.path}"
        groups.setdefault(value, []).append(result)
    table = {}
    for value, group in sorted(groups.items()):
        answerable = [r for r in group if r.item.answerable]
        unanswerable = [r for r in group if not r.item.answerable]
        table[value] = {
            "questions": len(group),
            "f1": _mean([r.f1 for r in answerable if r.f1 is not None]),
            "recall": _mean([r.recall for r in answerable if r.recall is not None]),
            "refused.answerable": _mean([float(r.refused) for r in answerable]),
            "refused.unanswerable": _mean([float(r.refused) for r in unanswerable]),
        }
    return table


def eval_index(
    settings: Settings, documents: Sequence[Document], embedder: Embedder, *, progress: bool = True
) -> Settings:
    """Settings whose data folder holds an index of ``documents`` (built once, then reused).

    The folder lives in the cache, keyed by the documents, the model and the chunking, so
    the eval never touches the user's own index. What the build took is kept beside it
    (:func:`index_build`).
    """
    key = hashlib.sha256()
    for document in documents:
        key.update(document.doc_id.encode() + b"\0" + document.sha256.encode() + b"\0")
    key.update(json.dumps([embedder.name, settings.chunks.size, settings.chunks.overlap, SCHEMA_VERSION]).encode())
    # Always the embedded store: the answer eval does not depend on where passages are kept
    # (`python -m eval retrieval --store` compares the stores).
    eval_settings = settings.with_(home=settings.cache / "eval-index" / key.hexdigest()[:16], milvus_uri="")
    if not index_exists(eval_settings.index_dir):
        computed = getattr(embedder, "computed", None)
        report = build_index_from_documents(eval_settings, documents, embedder, progress=progress)
        build = {
            "documents": report.documents,
            "passages": report.chunks,
            "seconds": round(report.seconds, 1),
            "embedded": None if computed is None else embedder.computed - computed,  # the rest came from the cache
            "model": embedder.name,
            "built": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        (eval_settings.home / BUILD_RECORD).write_text(json.dumps(build, indent=1) + "\n")
    return eval_settings


BUILD_RECORD = "build.json"


def index_build(eval_settings: Settings) -> dict:
    """What building the eval index in ``eval_settings.home`` took (documents, passages,
    seconds, vectors embedded rather than found in the cache); {} for an index built before
    this was recorded."""
    try:
        return json.loads((eval_settings.home / BUILD_RECORD).read_text())
    except (OSError, ValueError):
        return {}


@dataclass(frozen=True)
class EvalParts:
    """What an answer eval asks with: the models and the retriever over an eval index of its
    documents (:func:`eval_index`), built as the chat builds them (:mod:`rag.components`)."""

    embedder: Embedder
    retriever: object
    generator: object
    checker: object
    reading: object | None  # None on the LLM path (DEPECHE_ANSWER=llm)

    index: Settings | None = None  # the eval index's settings (its folder: ``index.home``)

    @classmethod
    def load(
        cls, settings: Settings, documents: Sequence[Document], *, vector_cache: bool = False, refusal: bool = True
    ) -> EvalParts:
        """``vector_cache``: the index is built with the vectors kept in ``.cache/eval-vectors``
        (:class:`eval.vector_cache.CachedEmbedder`), so another subset of the same documents
        embeds only what it adds; questions are always embedded by the model itself. ``refusal=False``:
        the read paths without the refusal model (what :mod:`eval.studies.refusal` fits it from)."""
        from rag.components import load_embedder, load_generator, load_reading, make_checker, resolved_hybrid_alpha
        from rag.search.retrieval import make_retriever
        from rag.store.embedded import IndexStore

        embedder = load_embedder(settings)
        building = embedder
        if vector_cache:
            from eval.vector_cache import CachedEmbedder

            building = CachedEmbedder(embedder, settings.cache / "eval-vectors" / "vectors.sqlite")
        eval_settings = eval_index(settings, documents, building)
        store = IndexStore.open(eval_settings.index_dir, embed_model=embedder.name)
        retriever = make_retriever(settings.retrieval_mode, store, embedder, alpha=resolved_hybrid_alpha(settings))
        generator, checker = load_generator(settings), make_checker(settings, embedder)
        reading = load_reading(settings, generator, checker, store, refusal=refusal)
        return cls(embedder, retriever, generator, checker, reading, eval_settings)

    def over(self, settings: Settings, documents: Sequence[Document]) -> EvalParts:
        """The same models over an eval index of other ``documents`` (built once, like :meth:`load`'s)."""
        import copy
        from dataclasses import replace

        from rag.components import resolved_hybrid_alpha
        from rag.search.retrieval import make_retriever
        from rag.store.embedded import IndexStore

        eval_settings = eval_index(settings, documents, self.embedder, progress=False)
        store = IndexStore.open(eval_settings.index_dir, embed_model=self.embedder.name)
        retriever = make_retriever(settings.retrieval_mode, store, self.embedder, alpha=resolved_hybrid_alpha(settings))
        reading = copy.copy(self.reading)
        if reading is not None:
            reading.documents = store.document  # the metadata path reads this index's articles,
            reading.term_weights = store.term_weights  # and the sentence choice weighs its terms
        return replace(self, retriever=retriever, reading=reading, index=eval_settings)

    def pipeline(self, settings: Settings, *, reading: bool = True, **options) -> Pipeline:
        """The pipeline over these parts (``reading=False``: the previous path, the LLM writes)."""
        return Pipeline(
            self.retriever, self.generator, top_k=settings.top_k, checker=self.checker,
            reading=self.reading if reading else None, **options,
        )  # fmt: skip
