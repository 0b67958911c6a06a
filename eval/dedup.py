"""Measure duplicate detection (:mod:`rag.sources.dedup`) on the test set ``eval/gold/dedup.jsonl``.

``python -m eval.dedup [--dataset PATH] [--json] [--sweep]`` prints:

- near-duplicate detection (``near_duplicate`` pairs are positives, ``distinct`` pairs
  negatives; a pair is flagged when its estimated Jaccard similarity reaches the threshold):
  precision, recall and F1 at several thresholds and at :data:`rag.sources.dedup.NEAR_DUPLICATE_THRESHOLD`,
  recall by edit intensity and false positives by kind of negative;
- an index check: every edited copy looked up with :func:`rag.sources.dedup.find_near_duplicate`
  among all the other texts of the set, as a new document meets the index;
- a corpus scan: every service-public.fr page of ``eval/datasets/spf_qr_test.json`` looked
  up among the 531 others (how many distinct pages would be reported as near duplicates);
- exact duplicates: how many ``exact_duplicate`` pairs share :func:`rag.sources.dedup.text_hash`
  (all must), and how many other pairs do (none may);
- the MinHash estimate against the exact Jaccard similarity of the shingle sets;
- timing: signatures per second, and :func:`rag.sources.dedup.similarities` against a
  5,000-signature matrix (median of several runs).

``--sweep`` adds the comparison of shingle sizes and signature lengths that chose
:data:`rag.sources.dedup.SHINGLE_SIZE` and :data:`rag.sources.dedup.NUM_PERM`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.studies.dedup_set import SPF_DATASET, load_spf
from rag.config import PROJECT_ROOT
from rag.sources import dedup

DATASET = PROJECT_ROOT / "eval" / "gold" / "dedup.jsonl"
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
INTENSITIES = ("light", "medium", "heavy")
BENCH_ROWS = 5_000
BENCH_RUNS = 51
SIGNATURE_PASSES = 3
SWEEP_SHINGLES = (1, 2, 3, 4, 5, 7)
SWEEP_PERMS = (64, 128, 256)


@dataclass(frozen=True)
class Pair:
    """One labelled pair of the set (see ``eval/studies/dedup_set.py``)."""

    pid: str
    kind: str  # near_duplicate, exact_duplicate or distinct
    intensity: str | None  # light/medium/heavy for near duplicates, the kind of negative for distinct
    source_a: str  # "spf:F34355", "seed:<stem>", "topic:<name>"; an edited copy adds "~<intensity>"
    source_b: str
    text_a: str
    text_b: str


@dataclass(frozen=True)
class Scored:
    """A pair with its MinHash estimate and its exact Jaccard similarity."""

    pair: Pair
    estimate: float
    exact: float


def load_pairs(path: Path = DATASET) -> list[Pair]:
    """The pairs of a dedup ``.jsonl`` file, in file order."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            pairs.append(
                Pair(
                    row["id"],
                    row["kind"],
                    row["intensity"],
                    row["source_a"],
                    row["source_b"],
                    row["text_a"],
                    row["text_b"],
                )
            )
    return pairs


def origin(source: str) -> str:
    """The text a source derives from: ``"spf:F1~heavy"`` -> ``"spf:F1"``."""
    return source.partition("~")[0]


def unique_texts(pairs: list[Pair]) -> list[str]:
    """Every text of the set once, in order of first appearance."""
    return list(dict.fromkeys(text for p in pairs for text in (p.text_a, p.text_b)))


def score(pairs: list[Pair], shingle_size: int, num_perm: int) -> tuple[list[Scored], dict[str, np.ndarray], float]:
    """Signatures of every text, each pair scored, and the signatures computed per second."""
    texts = unique_texts(pairs)
    start = time.perf_counter()
    signatures = {text: dedup.signature(text, shingle_size=shingle_size, num_perm=num_perm) for text in texts}
    rate = len(texts) / (time.perf_counter() - start)
    sets = {text: dedup.shingles(text, shingle_size) for text in texts}
    scored = [
        Scored(
            p,
            float(dedup.similarities(signatures[p.text_a], signatures[p.text_b][None, :])[0]),
            dedup.jaccard(sets[p.text_a], sets[p.text_b]),
        )
        for p in pairs
    ]
    return scored, signatures, rate


def signature_rate(texts: list[str], passes: int = SIGNATURE_PASSES) -> float:
    """Signatures per second with the module's settings: the best of ``passes`` passes over ``texts``."""
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        for text in texts:
            dedup.signature(text)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def detection(scored: list[Scored], threshold: float) -> dict:
    """Precision, recall and F1 of near-duplicate detection at ``threshold`` (exact pairs left out)."""
    positives = [s.estimate >= threshold for s in scored if s.pair.kind == "near_duplicate"]
    negatives = [s.estimate >= threshold for s in scored if s.pair.kind == "distinct"]
    tp, fp = sum(positives), sum(negatives)
    fn = len(positives) - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / len(positives) if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def rate_by_group(scored: list[Scored], kind: str, threshold: float) -> dict[str, dict]:
    """For each intensity (or kind of negative) of ``kind``: pairs flagged, pairs, and the
    range of the exact Jaccard similarity."""
    groups: dict[str, list[Scored]] = defaultdict(list)
    for s in scored:
        if s.pair.kind == kind:
            groups[s.pair.intensity or ""].append(s)
    return {
        name: {
            "flagged": sum(s.estimate >= threshold for s in items),
            "pairs": len(items),
            "jaccard_min": min(s.exact for s in items),
            "jaccard_median": statistics.median(s.exact for s in items),
            "jaccard_max": max(s.exact for s in items),
        }
        for name, items in groups.items()
    }


def auc(scored: list[Scored]) -> float:
    """Probability that a near-duplicate pair scores above a distinct pair (ties count half)."""
    positives = np.array([s.estimate for s in scored if s.pair.kind == "near_duplicate"])[:, None]
    negatives = np.array([s.estimate for s in scored if s.pair.kind == "distinct"])[None, :]
    return float(
        ((positives > negatives).sum() + 0.5 * (positives == negatives).sum()) / (positives.size * negatives.size)
    )


def best_threshold(scored: list[Scored]) -> dict:
    """The threshold (by steps of 0.01) with the best F1; the highest such one on ties."""
    candidates = [detection(scored, t / 100) for t in range(1, 100)]
    return max(candidates, key=lambda d: (round(d["f1"], 9), d["threshold"]))


def estimate_error(scored: list[Scored]) -> dict:
    """How far the MinHash estimate is from the exact Jaccard similarity of the shingle sets."""
    errors = np.array([abs(s.estimate - s.exact) for s in scored])
    return {
        "mean_abs": float(errors.mean()),
        "p95_abs": float(np.percentile(errors, 95)),
        "max_abs": float(errors.max()),
    }


def hash_agreement(pairs: list[Pair]) -> dict:
    """Exact-duplicate pairs whose hashes agree, and other pairs whose hashes (wrongly) agree."""
    same = [dedup.text_hash(p.text_a) == dedup.text_hash(p.text_b) for p in pairs]
    exact = [s for s, p in zip(same, pairs, strict=True) if p.kind == "exact_duplicate"]
    others = [s for s, p in zip(same, pairs, strict=True) if p.kind != "exact_duplicate"]
    return {"exact_agree": sum(exact), "exact_pairs": len(exact), "others_agree": sum(others), "others": len(others)}


def index_check(pairs: list[Pair], signatures: dict[str, np.ndarray], threshold: float) -> dict[str, dict]:
    """Each edited copy looked up among every text of the set but the near-duplicate copies.

    Per intensity: how often the lookup returns the copy's original (or another copy of that
    original, which the negatives hold), another text, or nothing.
    """
    copies = [p for p in pairs if p.kind == "near_duplicate"]
    copy_texts = {p.text_b for p in copies}
    names: dict[str, str] = {}
    for p in pairs:
        names.setdefault(p.text_a, p.source_a)
        names.setdefault(p.text_b, p.source_b)
    stored = [t for t in unique_texts(pairs) if t not in copy_texts]
    matrix = np.stack([signatures[t] for t in stored])
    ids = [names[t] for t in stored]
    outcome: dict[str, dict] = {}
    for p in copies:
        match = dedup.find_near_duplicate(signatures[p.text_b], ids, matrix, threshold)
        result = "none" if match is None else ("original" if origin(match.doc_id) == origin(p.source_a) else "other")
        counts = outcome.setdefault(p.intensity or "", {"original": 0, "other": 0, "none": 0, "stored": len(stored)})
        counts[result] += 1
    return outcome


def corpus_scan(texts: list[str], thresholds: list[float]) -> dict:
    """Every text looked up among the others: per threshold, the texts that would be reported
    as near duplicates of another one, and the pairs above it."""
    start = time.perf_counter()
    matrix = np.stack([dedup.signature(text) for text in texts])
    seconds = time.perf_counter() - start
    scores = np.stack([dedup.similarities(sig, matrix) for sig in matrix])
    np.fill_diagonal(scores, 0.0)
    best, upper = scores.max(axis=1), np.triu(scores, 1)
    return {
        "texts": len(texts),
        "signature_seconds": seconds,
        "flagged": {str(t): {"texts": int((best >= t).sum()), "pairs": int((upper >= t).sum())} for t in thresholds},
    }


def bench_similarities(signatures: list[np.ndarray], rows: int = BENCH_ROWS, runs: int = BENCH_RUNS) -> dict:
    """Median time of :func:`similarities` and :func:`find_near_duplicate` over ``rows`` signatures
    (the set's signatures repeated: the time does not depend on their content)."""
    base = np.stack(signatures)
    matrix = np.resize(base, (rows, base.shape[1]))
    ids = [str(i) for i in range(rows)]
    query = signatures[0]

    def median_ms(call) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    return {
        "rows": rows,
        "runs": runs,
        "similarities_ms": median_ms(lambda: dedup.similarities(query, matrix)),
        "find_near_duplicate_ms": median_ms(lambda: dedup.find_near_duplicate(query, ids, matrix)),
        "matrix_mib": matrix.nbytes / 2**20,
    }


def sweep(pairs: list[Pair]) -> list[dict]:
    """Best-F1 threshold, recall by intensity there, estimate error and speed per configuration."""
    rows = []
    for size in SWEEP_SHINGLES:
        for perms in SWEEP_PERMS:
            scored, _, rate = score(pairs, size, perms)
            best = best_threshold(scored)
            by_intensity = rate_by_group(scored, "near_duplicate", best["threshold"])
            rows.append(
                {
                    "shingle_size": size,
                    "num_perm": perms,
                    **best,
                    "auc": auc(scored),
                    **{f"recall_{k}": v["flagged"] / v["pairs"] for k, v in by_intensity.items()},
                    "mean_abs_error": estimate_error(scored)["mean_abs"],
                    "signatures_per_s": rate,
                }
            )
    return rows


def threshold_rows(scored: list[Scored], thresholds: list[float], corpus: dict | None) -> list[dict]:
    """Detection at each threshold, with recall by intensity and the corpus pages flagged."""
    rows = []
    for t in thresholds:
        by_intensity = rate_by_group(scored, "near_duplicate", t)
        row = detection(scored, t)
        row.update({f"recall_{k}": v["flagged"] / v["pairs"] for k, v in by_intensity.items()})
        if corpus is not None:
            row["corpus_flagged"] = corpus["flagged"][str(t)]["texts"]
        rows.append(row)
    return rows


def evaluate(pairs: list[Pair], corpus_texts: list[str] | None = None, with_sweep: bool = False) -> dict:
    """Every measure of the module docstring, as one JSON-ready dict."""
    threshold = dedup.NEAR_DUPLICATE_THRESHOLD
    thresholds = sorted({*THRESHOLDS, threshold})
    scored, signatures, _ = score(pairs, dedup.SHINGLE_SIZE, dedup.NUM_PERM)
    texts = unique_texts(pairs)
    corpus = corpus_scan(corpus_texts, thresholds) if corpus_texts else None
    result = {
        "pairs": len(pairs),
        "config": {
            "shingle_size": dedup.SHINGLE_SIZE,
            "num_perm": dedup.NUM_PERM,
            "threshold": threshold,
            "scheme": dedup.SCHEME,
            "seed": dedup.SEED,
        },
        "thresholds": threshold_rows(scored, thresholds, corpus),
        "chosen": detection(scored, threshold),
        "best_f1": best_threshold(scored),
        "auc": auc(scored),
        "near_by_intensity": rate_by_group(scored, "near_duplicate", threshold),
        "distinct_by_group": rate_by_group(scored, "distinct", threshold),
        "index_check": index_check(pairs, signatures, threshold),
        "corpus_scan": corpus,
        "hashes": hash_agreement(pairs),
        "estimate_error": estimate_error(scored),
        "timing": {
            "texts": len(texts),
            "mean_words": sum(len(t.split()) for t in texts) / len(texts),
            "signatures_per_s": signature_rate(texts),
            "signature_passes": SIGNATURE_PASSES,
            **bench_similarities(list(signatures.values())),
        },
    }
    if with_sweep:
        result["sweep"] = sweep(pairs)
    return result


def format_report(result: dict) -> str:
    """The result as a compact plain-text report."""
    config = result["config"]
    threshold = config["threshold"]
    corpus = result["corpus_scan"]
    corpus_header = f" {'corpus':>6}" if corpus else ""
    lines = [
        f"{result['pairs']} pairs; shingles of {config['shingle_size']} words, {config['num_perm']} permutations "
        f"({config['scheme']}, seed {config['seed']}), threshold {threshold}",
        "",
        "Near-duplicate detection: near_duplicate pairs (positives) vs distinct pairs (negatives)"
        + (f"; corpus = SPF pages (of {corpus['texts']}) flagged against the others" if corpus else ""),
        f"  {'threshold':>9} {'TP':>4} {'FP':>4} {'FN':>4} {'prec':>6} {'recall':>6} {'F1':>6}"
        f" {'light':>6} {'medium':>6} {'heavy':>6}{corpus_header}",
    ]
    for row in result["thresholds"]:
        mark = "  <- chosen" if row["threshold"] == threshold else ""
        corpus_cell = f" {row['corpus_flagged']:>6}" if corpus else ""
        lines.append(
            f"  {row['threshold']:>9.2f} {row['tp']:>4} {row['fp']:>4} {row['fn']:>4} {row['precision']:>6.3f} "
            f"{row['recall']:>6.3f} {row['f1']:>6.3f} {row['recall_light']:>6.2f} {row['recall_medium']:>6.2f} "
            f"{row['recall_heavy']:>6.2f}{corpus_cell}{mark}"
        )
    best = result["best_f1"]
    lines.append(f"  best F1 {best['f1']:.3f} at {best['threshold']:.2f}; ROC AUC {result['auc']:.3f}")
    lines += ["", f"Near duplicates found at {threshold}, by edit intensity (exact Jaccard min / median / max)"]
    for name, row in result["near_by_intensity"].items():
        lines.append(f"  {name:<18} {_ratio(row)}   J {_spread(row)}")
    lines += ["", f"Distinct pairs flagged at {threshold}, by kind of negative (exact Jaccard min / median / max)"]
    for name, row in result["distinct_by_group"].items():
        lines.append(f"  {name:<18} {_ratio(row)}   J {_spread(row)}")
    lines += ["", "Index check: each copy looked up among the set's other texts (original / other / none)"]
    for name, row in result["index_check"].items():
        lines.append(
            f"  {name:<18} {row['original']:>3} / {row['other']:>3} / {row['none']:>3}   among {row['stored']} texts"
        )
    hashes, error, timing = result["hashes"], result["estimate_error"], result["timing"]
    lines += [
        "",
        f"Exact duplicates: text_hash equal for {hashes['exact_agree']}/{hashes['exact_pairs']} reformatted pairs, "
        f"{hashes['others_agree']}/{hashes['others']} other pairs",
        f"MinHash vs exact Jaccard (all pairs): mean abs error {error['mean_abs']:.4f}, p95 {error['p95_abs']:.4f}, "
        f"max {error['max_abs']:.4f}",
        f"Signatures: {timing['signatures_per_s']:.0f}/s ({timing['texts']} texts of "
        f"{timing['mean_words']:.0f} words on average, best of {timing['signature_passes']} passes)",
        f"Against {timing['rows']} signatures ({timing['matrix_mib']:.1f} MiB): similarities "
        f"{timing['similarities_ms']:.2f} ms, find_near_duplicate {timing['find_near_duplicate_ms']:.2f} ms "
        f"(median of {timing['runs']} runs)",
    ]
    if corpus:
        lines.append(f"Corpus scan: {corpus['texts']} pages signed in {corpus['signature_seconds']:.2f} s")
    if "sweep" in result:
        lines += ["", "Sweep (best-F1 threshold of each configuration)", _format_sweep(result["sweep"])]
    return "\n".join(lines)


def _ratio(row: dict) -> str:
    return f"{row['flagged']:>3}/{row['pairs']:<3} ({row['flagged'] / row['pairs']:.0%})".ljust(14)


def _spread(row: dict) -> str:
    return f"{row['jaccard_min']:.2f} / {row['jaccard_median']:.2f} / {row['jaccard_max']:.2f}"


def _format_sweep(rows: list[dict]) -> str:
    lines = [
        f"  {'shingle':>7} {'perm':>5} {'AUC':>6} {'thresh':>6} {'F1':>6} {'prec':>6} {'recall':>6} "
        f"{'light':>6} {'medium':>6} {'heavy':>6} {'abs err':>7} {'sig/s':>6}"
    ]
    for r in rows:
        lines.append(
            f"  {r['shingle_size']:>7} {r['num_perm']:>5} {r['auc']:>6.3f} {r['threshold']:>6.2f} {r['f1']:>6.3f} "
            f"{r['precision']:>6.3f} {r['recall']:>6.3f} {r['recall_light']:>6.2f} {r['recall_medium']:>6.2f} "
            f"{r['recall_heavy']:>6.2f} {r['mean_abs_error']:>7.4f} {r['signatures_per_s']:>6.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.dedup", description="Mesurer la détection des doublons.")
    parser.add_argument("--dataset", type=Path, default=DATASET, help="un .jsonl de paires (eval/studies/dedup_set.py)")
    parser.add_argument("--json", action="store_true", help="un objet JSON sur la sortie standard")
    parser.add_argument("--sweep", action="store_true", help="comparer tailles de shingles et nombres de permutations")
    parser.add_argument(
        "--corpus", type=Path, default=SPF_DATASET, help="fichier SQuAD dont chaque page est comparée aux autres"
    )
    parser.add_argument("--no-corpus", action="store_true", help="sans le balayage du corpus")
    args = parser.parse_args(argv)
    corpus_texts = None if args.no_corpus else [source.text for source in load_spf(args.corpus)]
    result = evaluate(load_pairs(args.dataset), corpus_texts, with_sweep=args.sweep)
    print(json.dumps(result, ensure_ascii=False) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
