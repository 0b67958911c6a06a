"""``python -m eval presse``: the newsroom gold set through the full pipeline, half by half.

    python -m eval presse [--articles 1500] [--half 1|2|both] [--gold FILE] [--archive FILE]
                          [--limit N] [--no-seeds] [--json]

1. The gold set is checked (:func:`eval.presse.gold.load_presse_gold`): a line whose answer is
   not in its evidence, or whose article is unknown, stops the eval with one line naming it.
2. The archive's subset (:func:`eval.presse.archive.subset`: every gold article, then a fixed
   random draw; ``--articles all`` for the whole archive) is indexed once, in the cache, keyed
   by its articles, the model and the chunking; the vectors are kept in ``.cache/eval-vectors``,
   so another subset embeds only the passages it adds.
3. Every question is asked as the chat asks it (defaults, follow-ups with their history) and
   scored (:mod:`eval.presse.run`, :mod:`eval.presse.scoring`); the seeds gold set is asked
   beside it with the same models.
4. The report (``eval/runs/<timestamp>-presse/``) gives each half's figures side by side,
   by kind and by path, how long the indexing took, and the first half's questions, worst
   first. The second half is reported, never read question by question: rules are tuned on
   the first half only.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path

from eval.presse.archive import ARCHIVE, documents, load_archive, subset
from eval.presse.gold import load_presse_gold
from eval.presse.run import PresseResult, ask_all, by_kind, by_path, summary
from rag.config import PROJECT_ROOT, Settings
from rag.models.cpu import Cpu

GOLD = PROJECT_ROOT / "eval" / "gold" / "presse.jsonl"
DEFAULT_ARTICLES = 1500
SUMMARY_ROWS = [
    ("answerable.right", "réponses justes (questions avec réponse)"),
    ("answerable.f1", "F1 de la réponse courte"),
    ("answerable.gold_cited", "article de référence cité (réponses données)"),
    ("answerable.refused", "questions avec réponse refusées"),
    ("unanswerable.refused", "questions sans réponse refusées"),
    ("search.gold_in_top5", "article de référence dans les 5 premiers passages"),
    ("type_errors", "réponses du mauvais type (qui, combien, quand)"),
    ("latency.p50_s", "temps de réponse p50 (s)"),
    ("latency.p95_s", "temps de réponse p95 (s)"),
]


def _fmt(value) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _halves(results: Sequence[PresseResult]) -> dict[str, list[PresseResult]]:
    columns = {f"moitié {h}": [r for r in results if r.half == h] for h in (1, 2)}
    columns = {name: group for name, group in columns.items() if group}
    if len(columns) > 1:
        columns["ensemble"] = list(results)
    return columns


def markdown(results: Sequence[PresseResult], info: dict, seeds: dict | None) -> str:
    columns = _halves(results)
    summaries = {name: summary(group) for name, group in columns.items()}
    lines = ["# Évaluation : archive de presse", ""]
    build = info.get("index", {})
    lines += [
        f"{info['articles']} articles indexés ({build.get('passages', '?')} passages), modèle {info['embed_model']}, "
        f"lecteur et LLM par défaut ; indexation : {build.get('seconds', '?')} s "
        f"({build.get('embedded', '?')} passages calculés, le reste lu dans le cache de vecteurs), "
        f"{'réutilisée' if info.get('index_reused') else 'faite pour cette évaluation'} ; "
        f"CPU : {info['cpu']}.",
        "",
        "| mesure | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for key, label in [("questions", "questions"), ("answerable", "avec réponse"), ("unanswerable", "sans réponse")]:
        lines.append(f"| {label} | " + " | ".join(_fmt(s[key]) for s in summaries.values()) + " |")
    for key, label in SUMMARY_ROWS:
        if key == "type_errors":
            cells = [f"{s['type_errors']} / {s['typed_answers']}" for s in summaries.values()]
        else:
            cells = [_fmt(s[key]) for s in summaries.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if seeds is not None:
        lines += ["", "Jeu des seeds, mêmes modèles : " + ", ".join(f"{k} {_fmt(v)}" for k, v in seeds.items()) + "."]
    for name, group in columns.items():
        lines += [
            "",
            f"## Par type de question ({name})",
            "",
            "| type | avec réponse | justes | sans réponse | refusées | ensemble |",
            "|---|---|---|---|---|---|",
        ]
        for kind, row in by_kind(group).items():
            lines.append(
                f"| {kind} | {row['answerable']} | {_fmt(row['right'])} | {row['unanswerable']} | "
                f"{_fmt(row['refused'])} | {_fmt(row['overall'])} |"
            )
        lines += ["", f"## Par chemin ({name})", "", "| chemin | questions | justes | refusées | p50 (s) |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for path, row in by_path(group).items():
            lines.append(
                f"| {path} | {row['questions']} | {_fmt(row['right'])} | {_fmt(row['refused'])} | "
                f"{_fmt(row['latency.p50_s'])} |"
            )
    first = [r for r in results if r.half != 2]
    lines += ["", "## Questions de la première moitié, les pires d'abord", ""]
    order = sorted(first, key=lambda r: (r.right is True or (not r.answerable and r.refused), r.kind, r.id))
    for r in order:
        verdict = ("juste" if r.right else "refusée" if r.refused else "fausse") if r.answerable else (
            "refusée (bien)" if r.refused else "répondue (à tort)")  # fmt: skip
        lines += [
            f"### {r.id} ({r.kind}) — {verdict}",
            *([f"- **Avant** : {' / '.join(r.history)}"] if r.history else []),
            f"- **Question** : {r.question}",
            f"- **Attendu** : {r.gold or '(refus)'}",
            f"- **Réponse** : {r.answer}",
            f"- **Chemin** : {r.path}"
            + (f" · courte « {r.short} »" if r.short else "")
            + (f" · confiance {r.confidence:.2f}" if r.confidence is not None else "")
            + (f" · dates : {r.scope}" if r.scope else "")
            + (" · **mauvais type**" if r.type_error else ""),
            f"- **Cités** : {', '.join(r.cited) or 'aucun'}"
            + ("" if r.searched is None else f" · référence dans les 5 premiers : {'oui' if r.searched else 'non'}")
            + f" · {r.seconds:.2f} s",
            "",
        ]
    return "\n".join(lines)


def seeds_figures(parts, settings: Settings) -> dict:
    """The seeds gold set through a pipeline over the seeds with the same models."""
    from eval.gold import SEEDS_GOLD, load_gold_jsonl
    from eval.run import aggregate, evaluate
    from rag.sources.files import load_documents

    seeds_parts = parts.over(settings, load_documents([settings.seeds_dir])[0])
    metrics = aggregate(evaluate(load_gold_jsonl(SEEDS_GOLD), seeds_parts.pipeline(settings), progress=False))
    names = ("answer.f1", "citation.precision", "refusal.unanswerable", "refusal.answerable", "latency.total_p50_s")
    return {name: metrics.get(name) for name in names}


def main(argv: list[str]) -> int:
    from eval.report import new_run_dir
    from eval.run import EvalParts, index_build

    parser = argparse.ArgumentParser(
        prog="python -m eval presse", description="L'archive de presse, question par question."
    )
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--articles", default=str(DEFAULT_ARTICLES), help="articles indexés (nombre, ou all)")
    parser.add_argument("--half", choices=("1", "2", "both"), default="both")
    parser.add_argument("--limit", type=int, default=None, help="un échantillon de N questions (tirage fixé)")
    parser.add_argument("--no-seeds", action="store_true", help="sans le jeu des seeds à côté")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=Path, default=PROJECT_ROOT / "eval" / "runs")
    args = parser.parse_args(argv)

    archive = load_archive(args.archive)
    texts = {a.id: f"{a.title}\n{a.text}" for a in archive.values()}
    items = load_presse_gold(args.gold, texts)
    # The same index whatever is asked of it: every gold article, so that halves and samples compare.
    size = None if args.articles == "all" else int(args.articles)
    ids = subset(archive, [doc for item in items for doc in item.articles], size)
    if args.half != "both":
        items = [i for i in items if i.half == int(args.half)]
    if args.limit and args.limit < len(items):
        items = random.Random(0).sample(items, args.limit)

    settings = Settings.from_env()
    started = time.perf_counter()
    parts = EvalParts.load(settings, documents(archive, ids), vector_cache=True)
    build = index_build(parts.index)
    reused = time.perf_counter() - started < 0.5 * float(build.get("seconds") or 0)
    results = ask_all(items, parts.pipeline(settings), progress=not args.json)
    seeds = None if args.no_seeds else seeds_figures(parts, settings)

    info = {
        "articles": len(ids),
        "embed_model": parts.embedder.name,
        "index": build,
        "index_reused": reused,
        "cpu": Cpu.read().describe(),
        "gold": str(args.gold),
        "half": args.half,
    }
    folder = new_run_dir(args.runs)
    folder = folder.rename(folder.with_name(folder.name + "-presse"))
    columns = {name: summary(group) for name, group in _halves(results).items()}
    payload = {"info": info, "summary": columns, "by_kind": {n: by_kind(g) for n, g in _halves(results).items()},
               "by_path": {n: by_path(g) for n, g in _halves(results).items()}, "seeds": seeds}  # fmt: skip
    (folder / "metrics.json").write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    with (folder / "results.jsonl").open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
    report = markdown(results, info, seeds)
    (folder / "report.md").write_text(report + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(report.split("\n## Par type")[0])
        print(f"\nRapport : {folder / 'report.md'}")
    return 0
