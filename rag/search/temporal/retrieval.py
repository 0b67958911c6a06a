"""Retrieval within a question's dates (:class:`~rag.search.temporal.DateScope`), over any retriever.

A range keeps the passages of the documents dated in it, *before* the top ``k`` are taken:
the retriever ranks deeper and deeper (``k`` × 4, × 16 …) until ``k`` passages of those
documents are found or the whole index has been ranked. The stores are not asked for a
filter: every backend (embedded, Milvus) and every retriever (dense, BM25, hybrid) serves
it the same way, and the documents in range come from ``store.documents()``, whose dates
keep their precision (a document of «2024-10» is in any range that overlaps October 2024).
An undated document (a newsroom archive's Belgian or Algerian outlets give no date) may be of
any date: it stays among the candidates of a range that holds dated documents; a range that
holds none is said to be empty, whatever undated documents the corpus has.

An ordering («le plus récent») keeps the passages of one document: among the documents of
the ``k`` × :data:`ORDER_POOL` best passages that are relevant (their best passage scores at
least :data:`ORDER_RELEVANCE` of the best one's), the latest dated (or the earliest). The
question is about one subject (ranked first) and asks for its latest news: the date decides
among the articles on it, not among every article of the corpus.
"""

from __future__ import annotations

from datetime import date

from rag.search.retrieval import Retriever
from rag.search.temporal.scope import DateScope, date_span
from rag.store.records import Passage

ORDER_POOL = 4  # passages ranked, per passage wanted, before the latest document is chosen
ORDER_RELEVANCE = 0.6  # of the best passage's score: a document below it is on another subject
DEEPER = 4  # how much deeper each new search goes when too few passages are in range


class DatedRetrieval:
    """``retriever`` restricted to a :class:`DateScope`'s dates and ordered by it."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        self._newest: tuple[str, date | None] | None = None  # (index version, its newest article's day)

    @property
    def store(self):
        return getattr(self.retriever, "store", None)

    def newest(self) -> date | None:
        """The last day of the newest dated article (None: no store, or no dated article): what a
        month without its year counts back from («en janvier» over an archive of 2019 is January
        2019). Kept per published version of the index."""
        if self.store is None:
            return None
        snapshot = self.store.snapshot()
        version = snapshot.version
        if self._newest is None or self._newest[0] != version:
            spans = [span for d in snapshot.documents() if (span := date_span(d.date)) is not None]
            self._newest = (version, date.fromisoformat(max(end for _, end in spans)) if spans else None)
        return self._newest[1]

    def documents_in(self, scope: DateScope) -> set[str] | None:
        """The ids of the documents dated in ``scope``'s range, and of the undated ones when the
        range holds any dated document (none holds: the empty set); None when it has no range, or
        when the retriever has no store to list (every document is then allowed)."""
        if not scope.ranged or self.store is None:
            return None
        documents = self.store.snapshot().documents()
        dated = {d.doc_id for d in documents if scope.contains(d.date)}
        return dated | {d.doc_id for d in documents if not d.date} if dated else dated

    def _indexed(self) -> int:
        """How many passages the index holds: the deepest a search can go."""
        return sum(d.chunks for d in self.store.snapshot().documents()) if self.store is not None else 0

    def retrieve(self, question: str, k: int, scope: DateScope, allowed: set[str] | None = None) -> list[Passage]:
        """The ``k`` best passages of ``question`` in ``scope`` (``allowed``: its documents, as
        :meth:`documents_in` gives them, passed when already known)."""
        if allowed is None:
            allowed = self.documents_in(scope)
        wanted = k * ORDER_POOL if scope.order else k
        passages = self._ranked(question, wanted, allowed)
        if scope.order:
            return self._ordered(passages, scope.order)[:k]
        return passages[:k]

    def _ranked(self, question: str, k: int, allowed: set[str] | None) -> list[Passage]:
        if allowed is None:
            return self.retriever.retrieve(question, k)
        if not allowed:
            return []
        total, depth = self._indexed(), k * DEEPER
        while True:
            found = self.retriever.retrieve(question, depth)
            kept = [p for p in found if p.doc_id in allowed]
            if len(kept) >= k or len(found) < depth or depth >= total:
                return kept[:k]
            depth *= DEEPER

    @staticmethod
    def _ordered(passages: list[Passage], order: str) -> list[Passage]:
        """The passages of the latest (or earliest) dated relevant document, best first; all
        of them, as ranked, when no relevant document has a date."""
        if not passages:
            return []
        best: dict[str, float] = {}
        for passage in passages:
            best.setdefault(passage.doc_id, passage.score)
        floor = passages[0].score * ORDER_RELEVANCE if passages[0].score > 0 else float("-inf")
        dated = {}
        for passage in passages:
            span = date_span(passage.date)
            if span is not None and best[passage.doc_id] >= floor:
                dated[passage.doc_id] = span
        if not dated:
            return passages
        if order == "latest":
            chosen = max(dated, key=lambda doc: (dated[doc][1], best[doc]))
        else:
            chosen = min(dated, key=lambda doc: (dated[doc][0], -best[doc]))
        return [p for p in passages if p.doc_id == chosen]
