"""French keyword search: BM25 (bm25s) over stemmed, accent-folded words.

The analyzer turns text into search terms the same way for passages and questions:

>>> FrenchAnalyzer().terms("L'Économie qu'elle relance à Munich")
['econom', 'relanc', 'munich']

- elisions are split: ``l'``, ``d'``, ``qu'``, ``j'``, ``n'``, ``s'``, ``c'``, ``m'``, ``t'``
  and ``jusqu'``, ``lorsqu'``, ``puisqu'`` (straight or curly apostrophe);
- French stopwords are dropped (bm25s' list, plus the elided particles);
- words are stemmed with Snowball's French stemmer (PyStemmer), *then* accent-folded and
  lowercased, so ``école``, ``Ecoles`` and ``ÉCOLE`` meet.

The index is rebuilt whole whenever a segment's chunks change (bm25s has no incremental
update), from the terms the store keeps for each chunk: only new chunks are analyzed, and 5,000
passages re-index in about 0.2 s. A store of several segments (:mod:`rag.store.embedded`) has
one index per segment and scores them all with the same term weights, those of every segment
together (:meth:`KeywordIndex.search_terms`), so that their scores compare.
"""

from __future__ import annotations

import collections
import functools
import json
import logging
import math
import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_FRENCH

from rag.text import fold_accents

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its logger to DEBUG when imported

_ELISION = re.compile(r"\b(?:jusqu|lorsqu|puisqu|qu|[ldjnsctm])['’]", re.IGNORECASE)
_WORD = re.compile(r"\w+")
IDS_NAME = "chunk_ids.json"
_fold = functools.lru_cache(maxsize=1 << 17)(fold_accents)  # stems repeat: fold each once


class FrenchAnalyzer:
    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("french")
        # PyStemmer: "the algorithm has internal state, so must not be called concurrently";
        # one analyzer serves the chat's threads (the answer check, the evidence).
        self._stemmer_lock = threading.Lock()
        self._stopwords = {fold_accents(w) for w in STOPWORDS_FRENCH} | {"qu", "jusqu", "lorsqu", "puisqu"}

    def terms(self, text: str) -> list[str]:
        words = _WORD.findall(_ELISION.sub(" ", text.lower().replace("œ", "oe").replace("æ", "ae")))
        kept = [w for w in words if _fold(w) not in self._stopwords]
        with self._stemmer_lock:
            stems = self._stemmer.stemWords(kept)
        return [_fold(s) for s in stems if s]


def lucene_idf(document_frequency: int, documents: int) -> float:
    """Lucene's idf, the one bm25s applies (``bm25s.scoring._score_idf_lucene``)."""
    return math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


class KeywordIndex:
    """BM25 over chunks; results are ``(chunk_id, score)``, best first."""

    def __init__(self, analyzer: FrenchAnalyzer | None = None) -> None:
        self.analyzer = analyzer or FrenchAnalyzer()
        self._bm25 = None
        self._ids = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._ids)

    def build(self, chunk_ids: Sequence[int], texts: Sequence[str]) -> None:
        self.build_from_terms(chunk_ids, [self.analyzer.terms(t) for t in texts])

    def build_from_terms(self, chunk_ids: Sequence[int], terms: Sequence[Sequence[str]]) -> None:
        """Index chunks already analyzed (:meth:`FrenchAnalyzer.terms`)."""
        self._ids = np.asarray(chunk_ids, dtype=np.int64)
        if not len(self._ids):
            self._bm25 = None
            return
        self._bm25 = bm25s.BM25()  # Lucene's BM25, k1=1.5, b=0.75
        self._bm25.index([list(t) for t in terms], show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return self.search_terms(self.analyzer.terms(query), k)

    def search_terms(
        self,
        terms: Sequence[str],
        k: int,
        *,
        idf: Mapping[str, float] | None = None,
        exclude: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """The ``k`` best chunks for analyzed ``terms``, best first, with their BM25 scores.

        ``idf`` gives each term's weight in place of this index's own (bm25s stores every
        score already multiplied by it, so each term's scores are rescaled by the ratio);
        ``exclude`` is a mask over this index's chunks (:meth:`mask`) of chunks to leave out.
        """
        if self._bm25 is None:
            return []
        vocabulary = self._bm25.vocab_dict
        terms = [t for t in terms if t in vocabulary]
        if not terms:
            return []
        k = min(k, len(self._ids))
        if idf is None and exclude is None:
            positions, scores = self._bm25.retrieve([terms], k=k, show_progress=False, n_threads=1)
            return [(int(self._ids[p]), float(s)) for p, s in zip(positions[0], scores[0], strict=True) if s > 0]
        totals = np.zeros(len(self._ids), dtype=np.float32)
        for term, count in collections.Counter(terms).items():
            weight = count * (1.0 if idf is None else idf[term] / self.idf(term))
            totals += weight * self._bm25.get_scores([term])
        if exclude is not None:
            totals[exclude] = 0
        best = np.argpartition(-totals, k - 1)[:k] if k < len(totals) else np.arange(len(totals))
        best = best[np.argsort(-totals[best], kind="stable")]
        return [(int(self._ids[p]), float(totals[p])) for p in best if totals[p] > 0]

    def document_frequency(self, term: str) -> int:
        """How many of this index's chunks hold ``term``."""
        if self._bm25 is None or term not in self._bm25.vocab_dict:
            return 0
        column = self._bm25.vocab_dict[term]
        indptr = self._bm25.scores["indptr"]  # bm25s keeps a term-major (CSC) score matrix
        return int(indptr[column + 1] - indptr[column])

    def idf(self, term: str) -> float:
        """This index's weight for ``term``: Lucene's idf, as bm25s computes it."""
        return lucene_idf(self.document_frequency(term), len(self))

    def mask(self, chunk_ids: np.ndarray) -> np.ndarray:
        """A mask over this index's chunks: true for those among ``chunk_ids``."""
        return np.isin(self._ids, chunk_ids)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / IDS_NAME).write_text(json.dumps(self._ids.tolist()))
        if self._bm25 is not None:
            self._bm25.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, analyzer: FrenchAnalyzer | None = None, *, mapped: bool = False) -> KeywordIndex:
        """The index saved in ``directory``; ``mapped``, its score matrix stays in the files,
        mapped into memory (an index that is only read)."""
        index = cls(analyzer)
        index._ids = np.asarray(json.loads((directory / IDS_NAME).read_text()), dtype=np.int64)
        if len(index._ids):
            index._bm25 = bm25s.BM25.load(str(directory), show_progress=False, mmap=mapped)
        return index
