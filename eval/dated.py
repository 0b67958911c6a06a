"""Date-scoped questions measured: ``python -m eval dated [--limit N] [--json]``.

The gold set ``eval/gold/dated.jsonl`` asks about a corpus built for it,
``eval/datasets/dated/*.txt`` (31 dated articles, several on each subject at different dates,
so that the date decides the answer). Each question holds its expected scope (``"scope":
{"start", "end", "order"}``, or null when its dates are not a scope) and the day it is asked
(``"today"``, for «le mois dernier»).

Every question is asked twice through the full pipeline: with the date filter
(``DEPECHE_DATE_FILTER=on``) and without it. Beside the usual answer metrics
(:func:`eval.run.aggregate`), the report gives:

- ``scope.parse_accuracy``: the share of questions whose parsed scope (range and ordering)
  is the gold one (the parser alone, the same with or without the filter);
- ``date.shown_in_range`` / ``date.cited_in_range``: over the questions with a gold range,
  the share of the passages shown to the model (cited in the answer) whose article is dated
  in that range: the filter's precision;
- ``date.order_right``: over the questions asking for the latest or earliest article, the
  share whose answer cites the gold article;
- ``refusal.empty_range``: the share of questions whose range holds no article that the bot
  refused (with the filter, it says «Aucun article du corpus n'est daté …»).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from eval.gold import GoldItem, load_gold_jsonl
from eval.run import ItemResult
from rag.config import PROJECT_ROOT, Settings
from rag.search.temporal import DateScope, scoped_search

DATED_CORPUS = PROJECT_ROOT / "eval" / "datasets" / "dated"
DATED_GOLD = PROJECT_ROOT / "eval" / "gold" / "dated.jsonl"
RUNS = PROJECT_ROOT / "eval" / "runs"
DATE_METRICS = [
    "scope.parse_accuracy",
    "date.shown_in_range",
    "date.cited_in_range",
    "date.order_right",
    "refusal.empty_range",
]
ANSWER_METRICS = [
    "retrieval.hit@1", "retrieval.hit@3", "retrieval.hit@5", "retrieval.mrr",
    "answer.exact", "answer.f1", "answer.recall",
    "citation.rate", "citation.precision",
    "refusal.unanswerable", "refusal.answerable",
    "latency.total_p50_s",
]  # fmt: skip


def load_scopes(path: Path) -> dict[str, tuple[dict | None, date]]:
    """Each question's gold scope and the day it is asked, by id."""
    scopes = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            scopes[row["id"]] = (row.get("scope"), date.fromisoformat(row["today"]))
    return scopes


def gold_range(scope: dict | None) -> DateScope | None:
    """The gold scope's range as a :class:`DateScope` (None without a range)."""
    if not scope or (scope.get("start") is None and scope.get("end") is None):
        return None
    return DateScope(scope.get("start"), scope.get("end"))


def parse_accuracy(items: Sequence[GoldItem], scopes: dict[str, tuple[dict | None, date]]) -> float | None:
    """The share of ``items`` whose scope, as the pipeline reads it, is the gold one."""
    right = []
    for item in items:
        gold, today = scopes[item.id]
        scope, _ = scoped_search(item.question, item.history, today)
        parsed = None if scope is None else {"start": scope.start, "end": scope.end, "order": scope.order}
        expected = None if gold is None else {k: gold.get(k) for k in ("start", "end", "order")}
        right.append(float(parsed == expected))
    return sum(right) / len(right) if right else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def date_metrics(results: Sequence[ItemResult], scopes: dict[str, tuple[dict | None, date]]) -> dict:
    """The filter's precision, the ordering's accuracy and the empty ranges' refusals."""
    shown, cited, ordered, empty = [], [], [], []
    for result in results:
        gold, _ = scopes[result.item.id]
        in_range = gold_range(gold)
        if in_range is not None:
            if not result.item.answerable:
                empty.append(float(result.refused))
            shown += [float(in_range.contains(p.get("date"))) for p in result.passages]
            if not result.refused:
                cited += [float(in_range.contains(result.passages[n - 1].get("date"))) for n in result.citations]
        if gold and gold.get("order") and result.item.answerable:
            docs = {result.passages[n - 1]["doc_id"] for n in result.citations}
            ordered.append(float(not result.refused and bool(docs) and docs <= set(result.item.doc_ids)))
    return {
        "date.shown_in_range": _mean(shown),
        "date.cited_in_range": _mean(cited),
        "date.order_right": _mean(ordered),
        "refusal.empty_range": _mean(empty),
    }


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def comparison_table(on: dict, off: dict, names: Sequence[str]) -> list[str]:
    lines = ["| metric | date filter on | date filter off | delta |", "|---|---|---|---|"]
    for name in names:
        a, b = on.get(name), off.get(name)
        delta = f"{a - b:+.3f}" if isinstance(a, float) and isinstance(b, float) else "—"
        lines.append(f"| {name} | {_fmt(a)} | {_fmt(b)} | {delta} |")
    return lines


def run(items: Sequence[GoldItem], scopes, settings: Settings, *, progress: bool = True):
    """Both runs over the dated corpus: (metrics on, results on, metrics off, results off, config)."""
    from eval.run import EvalParts, aggregate, evaluate
    from rag.sources.files import load_documents

    documents, _ = load_documents(sorted(DATED_CORPUS.glob("*.txt")))
    parts = EvalParts.load(settings, documents)
    embedder, generator = parts.embedder, parts.generator
    outcome = {}
    for name, date_filter in (("on", True), ("off", False)):
        results: list[ItemResult] = []
        for today in sorted({scopes[item.id][1] for item in items}):  # the questions asked on each day
            asked = [item for item in items if scopes[item.id][1] == today]
            pipeline = parts.pipeline(settings, today=lambda day=today: day, date_filter=date_filter)
            results += evaluate(asked, pipeline, progress=progress)
        order = {item.id: n for n, item in enumerate(items)}
        results.sort(key=lambda r: order[r.item.id])
        metrics = aggregate(results) | date_metrics(results, scopes)
        metrics["scope.parse_accuracy"] = parse_accuracy(items, scopes) if date_filter else None
        outcome[name] = (metrics, results)
    config = {
        "dataset": str(DATED_GOLD.relative_to(PROJECT_ROOT)),
        "corpus": f"{DATED_CORPUS.relative_to(PROJECT_ROOT)} ({len(documents)} articles)",
        "questions": len(items),
        "embed_model": embedder.name,
        "llm": generator.name,
        "retrieval": settings.retrieval_mode,
        "answer": settings.answer_mode,
        "top_k": settings.top_k,
    }
    return outcome["on"], outcome["off"], config


def write_report(folder: Path, on, off, config: dict) -> None:
    from eval.report import breakdown_table, markdown_report

    (metrics_on, results_on), (metrics_off, results_off) = on, off
    summary = {"on": metrics_on, "off": metrics_off, "config": config}
    (folder / "metrics.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    for name, results in (("results.jsonl", results_on), ("results_off.jsonl", results_off)):
        with (folder / name).open("w", encoding="utf-8") as handle:
            for result in results:
                handle.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
    lines = [
        "# Questions datées : avec et sans le filtre de dates",
        "",
        f"{config['questions']} questions ({config['dataset']}) sur {config['corpus']}.",
        "",
        *comparison_table(metrics_on, metrics_off, DATE_METRICS + ANSWER_METRICS),
        "",
        "## Filtre désactivé, par type de question",
        "",
        *breakdown_table(results_off, "kind"),
        "",
    ]
    detail = markdown_report(metrics_on, results_on, "Filtre de dates activé")
    (folder / "report.md").write_text("\n".join(lines) + "\n" + detail.replace("\n# ", "\n## ", 1), encoding="utf-8")


def main(argv: list[str]) -> int:
    from eval.report import new_run_dir

    parser = argparse.ArgumentParser(prog="python -m eval dated", description="Évaluer les questions datées.")
    parser.add_argument("--limit", type=int, default=None, help="un échantillon de N questions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="les métriques en un objet JSON")
    parser.add_argument("--runs", type=Path, default=RUNS, help="où écrire le rapport")
    args = parser.parse_args(argv)
    items = load_gold_jsonl(DATED_GOLD)
    scopes = load_scopes(DATED_GOLD)
    if args.limit and args.limit < len(items):
        items = random.Random(args.seed).sample(items, args.limit)
    on, off, config = run(items, scopes, Settings.from_env(), progress=not args.json)
    folder = new_run_dir(args.runs)
    write_report(folder, on, off, config)
    if args.json:
        print(json.dumps({"on": on[0], "off": off[0]}, ensure_ascii=False))
        return 0
    print(f"{'metric':<26} {'filtre':>8} {'sans':>8}")
    for name in DATE_METRICS + ANSWER_METRICS:
        print(f"{name:<26} {_fmt(on[0].get(name)):>8} {_fmt(off[0].get(name)):>8}")
    print(f"\nRapport : {folder / 'report.md'}")
    return 0
