"""What an eval run leaves behind, in ``eval/runs/<timestamp>/``: ``metrics.json``,
``results.jsonl`` (one line per question), ``report.md`` (the metrics, then every question,
worst first) and two plots, ``hit_at_k.png`` and ``latency.png``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from eval.run import RETRIEVAL_KS, ItemResult, breakdown

METRIC_ORDER = [
    "retrieval.hit@1", "retrieval.hit@3", "retrieval.hit@5", "retrieval.mrr",
    "answer.exact", "answer.f1", "answer.recall",
    "answer.revised", "answer.quoted", "answer.yes_no_right",
    "citation.rate", "citation.precision",
    "refusal.unanswerable", "refusal.answerable",
    "latency.first_token_p50_s", "latency.first_token_p95_s", "latency.total_p50_s", "latency.total_p95_s",
    "latency.tokens_per_s", "latency.model_process_overhead_p50_ms", "latency.model_process_overhead_p95_ms",
]  # fmt: skip


def new_run_dir(root: Path) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder, n = root / stamp, 1
    while folder.exists():
        n += 1
        folder = root / f"{stamp}-{n}"
    folder.mkdir(parents=True)
    return folder


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _badness(result: ItemResult) -> tuple:
    """Worst first: wrongly refused or answered, then low F1, then uncited."""
    if not result.item.answerable:
        return (0 if not result.refused else 2, 0.0)
    return (0 if result.refused else 1, result.f1 or 0.0, float(all(result.cited_supporting or [False])))


def breakdown_table(results: Sequence[ItemResult], key: str) -> list[str]:
    """A Markdown table of :func:`eval.run.breakdown` (by question kind or by answer path)."""
    lines = [
        f"| {key} | questions | F1 | recall | answerable refused | unanswerable refused |",
        "|---|---|---|---|---|---|",
    ]
    for value, row in breakdown(results, key).items():
        cells = [row["f1"], row["recall"], row["refused.answerable"], row["refused.unanswerable"]]
        lines.append(f"| {value} | {row['questions']} | " + " | ".join(_fmt(c) for c in cells) + " |")
    return lines


def markdown_report(
    metrics: dict,
    results: Sequence[ItemResult],
    title: str,
    previous: tuple[dict, Sequence[ItemResult]] | None = None,
) -> str:
    """The metrics (beside the previous answer path's, when it ran too), the tables by kind and
    by path, then every question, worst first."""
    if previous is None:
        lines = [f"# {title}", "", "| metric | value |", "|---|---|"]
        lines += [f"| {name} | {_fmt(metrics.get(name))} |" for name in METRIC_ORDER]
    else:
        lines = [f"# {title}", "", "| metric | this path | previous path (LLM) | delta |", "|---|---|---|---|"]
        for name in METRIC_ORDER:
            a, b = metrics.get(name), previous[0].get(name)
            delta = f"{a - b:+.3f}" if a is not None and b is not None else "—"
            lines.append(f"| {name} | {_fmt(a)} | {_fmt(b)} | {delta} |")
    lines += ["", f"{metrics['count.questions']} questions, {metrics['count.answerable']} answerable.", ""]
    lines += ["## By question kind", "", *breakdown_table(results, "kind"), ""]
    lines += ["## By answer path", "", *breakdown_table(results, "path"), ""]
    lines += ["## By question kind and answer path", "", *breakdown_table(results, "kind / path"), ""]
    if previous is not None:
        lines += ["## Previous path (LLM), by question kind", "", *breakdown_table(previous[1], "kind"), ""]
    lines += ["## Questions, worst first", ""]
    for r in sorted(results, key=_badness):
        status = "refusée" if r.refused else "répondue"
        scores = (
            f"F1 {_fmt(r.f1)} · rappel {_fmt(r.recall)} · EM {_fmt(r.exact)}"
            if r.item.answerable
            else "sans réponse dans le corpus"
        )
        cited = ", ".join(f"[{n}] {'✓' if ok else '✗'}" for n, ok in zip(r.citations, r.cited_supporting, strict=True))
        lines += [
            f"### {r.item.id} ({r.item.kind or 'question'}) — {status}",
            f"- **Question** : {r.item.question}",
            f"- **Attendu** : {r.item.answer or '(refus)'}",
            f"- **Réponse** : {r.answer}",
            f"- **Chemin** : {r.path}"
            + (f" · réponse courte « {r.short} »" if r.short else "")
            + (f" · confiance {r.confidence:.2f}" if r.confidence is not None else ""),
            *([f"- **Brouillon du modèle** (corrigé par la vérification) : {r.draft}"] if r.revised else []),
            *(
                [f"- **Question cherchée** : {r.search_question}"]
                if r.search_question not in ("", r.item.question)
                else []
            ),  # noqa: E501
            *([f"- **Dates** : {r.scope}"] if r.scope else []),
            f"- **Citations** : {cited or 'aucune'} · passage justificatif au rang {r.support_rank or '> 5'}",
            f"- **Scores** : {scores} · {r.total_s:.2f} s",
            "",
        ]
    return "\n".join(lines)


def write_plots(folder: Path, metrics: dict, results: Sequence[ItemResult]) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    ks = list(RETRIEVAL_KS)
    hits = [metrics.get(f"retrieval.hit@{k}") or 0.0 for k in ks]
    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.plot(ks, hits, marker="o")
    axis.set(xlabel="k", ylabel="hit@k", ylim=(0, 1.02), xticks=ks, title="Passage justificatif dans le top k")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(folder / "hit_at_k.png", dpi=110)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.hist([r.total_s for r in results], bins=15, alpha=0.7, label="réponse complète")
    axis.hist([r.first_token_s for r in results if r.first_token_s is not None], bins=15, alpha=0.7,
              label="premier mot")  # fmt: skip
    axis.set(xlabel="secondes", ylabel="questions", title="Latence")
    axis.legend()
    figure.tight_layout()
    figure.savefig(folder / "latency.png", dpi=110)
    plt.close(figure)


def write_run(
    folder: Path,
    metrics: dict,
    results: Sequence[ItemResult],
    *,
    title: str,
    config: dict,
    previous: tuple[dict, Sequence[ItemResult]] | None = None,
) -> None:
    summary = {
        "metrics": metrics,
        "by_kind": breakdown(results, "kind"),
        "by_path": breakdown(results, "path"),
        "by_kind_path": breakdown(results, "kind / path"),
        "config": config,
    }
    if previous is not None:
        summary["previous"] = {"metrics": previous[0], "by_kind": breakdown(previous[1], "kind")}
    (folder / "metrics.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    with (folder / "results.jsonl").open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
    (folder / "report.md").write_text(markdown_report(metrics, results, title, previous), encoding="utf-8")
    write_plots(folder, metrics, results)


def load_metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())["metrics"]


def compare(run_a: Path, run_b: Path) -> str:
    """A table of each metric in both runs and the change from A to B."""
    a, b = load_metrics(run_a), load_metrics(run_b)
    lines = [f"{'metric':<28} {run_a.name:>16} {run_b.name:>16} {'delta':>9}"]
    for name in METRIC_ORDER:
        va, vb = a.get(name), b.get(name)
        delta = f"{vb - va:+.3f}" if va is not None and vb is not None else "—"
        lines.append(f"{name:<28} {_fmt(va):>16} {_fmt(vb):>16} {delta:>9}")
    return "\n".join(lines)
