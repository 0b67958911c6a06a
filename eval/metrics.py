"""Retrieval metrics over ranked passages, checked against gold documents and answer spans.

- ``doc@k``: a top-k passage comes from the gold document;
- ``ans@k``: a top-k passage contains a gold answer (both normalized: case, accents,
  apostrophes and white space do not matter);
- ``mrr``: mean reciprocal rank of the first passage that contains the answer (0 past 10).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.text import fold_accents

KS = (1, 3, 5, 10)
MRR_DEPTH = 10


def normalize_text(text: str) -> str:
    """``"L’Union  Européenne"`` -> ``"l'union europeenne"``."""
    return " ".join(fold_accents(text.lower().replace("’", "'")).split())


def contains_answer(passage: str, answers: Sequence[str]) -> bool:
    text = normalize_text(passage)
    return any(normalize_text(a) in text for a in answers if a.strip())


def first_hit(flags: Sequence[bool]) -> int | None:
    """1-based rank of the first true flag, or None."""
    return next((rank for rank, flag in enumerate(flags, start=1) if flag), None)


def retrieval_scores(doc_ranks: Sequence[int | None], answer_ranks: Sequence[int | None]) -> dict[str, float]:
    """Aggregate per-question first-hit ranks (None: not found) into doc@k, ans@k and mrr."""
    n = len(doc_ranks)
    if n == 0:
        return {}
    scores: dict[str, float] = {}
    for k in KS:
        scores[f"doc@{k}"] = sum(r is not None and r <= k for r in doc_ranks) / n
    for k in KS:
        scores[f"ans@{k}"] = sum(r is not None and r <= k for r in answer_ranks) / n
    scores["mrr"] = sum(1 / r for r in answer_ranks if r is not None and r <= MRR_DEPTH) / n
    return scores


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of ``values``, interpolated linearly; NaN if empty."""
    return float(np.percentile(values, q)) if len(values) else float("nan")
