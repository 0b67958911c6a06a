"""``python -m eval open``: the open questions' gold set answered by each way of answering them,
side by side.

Ways (``--ways``, comma-separated):

- ``avant``: the path before open questions had their own (``open_answer="off"``): a cause or
  a manner read as one sentence, a summary or a list written by the LLM from three passages;
- ``citations``: the sentences gathered across articles, quoted (``DEPECHE_OPEN=quote``);
- ``redaction:NAME``: the LLM ``NAME`` writes from them, checked (``DEPECHE_OPEN=write``);
  ``NAME`` is ``gemma`` (the default GGUF) or a GGUF file.

For each answer: the share of its key points stated (:func:`eval.open.points.states`), the
share of the draft's sentences the check kept (written answers), citation precision (the
cited passages from an article that holds a key point), its length and its times. Seeds
questions are asked over the seed articles; press questions over the newsroom eval's index
(the same fixed subset of the archive, :mod:`eval.presse.command`).

    python -m eval open [--ways avant,citations,redaction:/tmp/qwen05.gguf] [--half 1|2|both]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from eval.open.gold import GOLD, OpenItem, load_open_gold
from eval.open.points import states
from rag.config import PROJECT_ROOT, Settings

_MARKER = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True)
class OpenResult:
    id: str
    half: int | None
    kind: str
    corpus: str
    way: str
    question: str
    answer: str
    path: str
    refused: bool
    points: int
    stated: int
    kept: int  # sentences shown that the model wrote (0 for quotations)
    dropped: int  # sentences of the draft the check removed
    cited: int
    cited_right: int  # cited passages from an article that holds a key point
    chars: int
    first_token_s: float | None
    total_s: float

    @property
    def recall(self) -> float:
        return self.stated / self.points if self.points else 0.0


def score(item: OpenItem, way: str, answer) -> OpenResult:
    """One answer against its item's key points."""
    text = _MARKER.sub("", answer.text)
    stated = 0 if answer.refused else sum(states(text, p.keys) for p in item.points)
    cited = [p.doc_id for p in answer.cited_passages]
    written = sum(1 for s in answer.sentences if s.origin == "model")
    return OpenResult(
        item.id, item.half, item.kind, item.corpus, way, item.question, answer.text, answer.path, answer.refused,
        len(item.points), stated, written, len(answer.dropped), len(cited),
        sum(doc in item.doc_ids for doc in cited), len(answer.text), answer.first_token_s, answer.total_s,
    )  # fmt: skip


def summary(results: Sequence[OpenResult]) -> dict[str, float | int | None]:
    """The figures of one way over some questions."""
    if not results:
        return {"questions": 0}
    cited = sum(r.cited for r in results)
    drafted = sum(r.kept + r.dropped for r in results)
    firsts = [r.first_token_s for r in results if r.first_token_s is not None]
    return {
        "questions": len(results),
        "key_point_recall": round(statistics.mean(r.recall for r in results), 3),
        "refused": round(sum(r.refused for r in results) / len(results), 3),
        "draft_supported": round(sum(r.kept for r in results) / drafted, 3) if drafted else None,
        "written": round(sum(r.kept > 0 for r in results) / len(results), 3),
        "citation_precision": round(sum(r.cited_right for r in results) / cited, 3) if cited else None,
        "chars_p50": int(statistics.median(r.chars for r in results)),
        "first_token_p50_s": round(statistics.median(firsts), 2) if firsts else None,
        "total_p50_s": round(statistics.median(r.total_s for r in results), 2),
        "total_p95_s": round(sorted(r.total_s for r in results)[int(0.95 * (len(results) - 1))], 2),
    }


def ask(items: Sequence[OpenItem], pipeline, way: str, progress: bool) -> list[OpenResult]:
    results = []
    for n, item in enumerate(items, 1):
        answer = pipeline.answer(item.question)
        results.append(score(item, way, answer))
        if progress:
            r = results[-1]
            print(f"  {way} {n}/{len(items)} {item.id} {r.stated}/{r.points} {r.total_s:.1f} s {r.path}", flush=True)
    return results


def _pipelines(settings: Settings, parts, way: str, generators: dict):
    """The pipeline of one way over ``parts`` (its generator loaded once per GGUF)."""
    from rag.components import load_generator

    if way == "avant":
        return parts.pipeline(settings, open_answer="off")
    if way == "citations":
        return parts.pipeline(settings, open_answer="quote")
    name = way.split(":", 1)[1]
    if name not in generators:
        llm = None if name == "gemma" else Path(name).expanduser().resolve()
        generators[name] = parts.generator if llm is None else load_generator(settings.with_(llm_path=llm))
    pipeline = parts.pipeline(settings, open_answer="write")
    pipeline.generator = generators[name]
    return pipeline


def main(argv: list[str]) -> int:
    from eval.presse.archive import ARCHIVE, documents, load_archive, subset
    from eval.presse.command import DEFAULT_ARTICLES
    from eval.presse.command import GOLD as PRESSE_GOLD
    from eval.presse.gold import load_presse_gold
    from eval.report import new_run_dir
    from eval.run import EvalParts
    from rag.sources.files import load_documents

    parser = argparse.ArgumentParser(prog="python -m eval open", description="Les questions ouvertes, côte à côte.")
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--ways", default="avant,citations", help="avant, citations, redaction:gemma|FICHIER.gguf")
    parser.add_argument("--half", choices=("1", "2", "both"), default="both")
    parser.add_argument("--articles", default=str(DEFAULT_ARTICLES))
    parser.add_argument("--runs", type=Path, default=PROJECT_ROOT / "eval" / "runs")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    items = load_open_gold(args.gold)
    if args.half != "both":
        items = [i for i in items if i.half == int(args.half)]
    settings = Settings.from_env()
    archive = load_archive(ARCHIVE)
    presse_gold = load_presse_gold(PRESSE_GOLD, {a.id: f"{a.title}\n{a.text}" for a in archive.values()})
    size = None if args.articles == "all" else int(args.articles)
    # The newsroom eval's index: its gold articles and the same draw (the open set's are among them).
    ids = subset(archive, [d for i in presse_gold for d in i.articles] + [d for i in items for d in i.doc_ids
                                                                            if d in archive], size)  # fmt: skip
    presse_parts = EvalParts.load(settings, documents(archive, ids), vector_cache=True)
    seeds_parts = presse_parts.over(settings, load_documents([settings.seeds_dir])[0])
    generators: dict = {}
    results: list[OpenResult] = []
    for way in [w.strip() for w in args.ways.split(",") if w.strip()]:
        for corpus, parts in (("seeds", seeds_parts), ("presse", presse_parts)):
            chosen = [i for i in items if i.corpus == corpus]
            if chosen:
                results += ask(chosen, _pipelines(settings, parts, way, generators), way, not args.quiet)
    ways = list(dict.fromkeys(r.way for r in results))
    table = {
        way: {half: summary([r for r in results if r.way == way and (half == "both" or r.half == int(half))])
              for half in ("1", "2", "both")}
        for way in ways
    }  # fmt: skip
    kinds = sorted({r.kind for r in results})
    by_kind = {way: {k: summary([r for r in results if r.way == way and r.kind == k]) for k in kinds} for way in ways}
    folder = new_run_dir(args.runs)
    folder = folder.rename(folder.with_name(folder.name + "-open"))
    info = {
        "articles": len(ids),
        "embed_model": presse_parts.embedder.name,
        "gold": str(args.gold),
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }
    (folder / "metrics.json").write_text(
        json.dumps({"info": info, "summary": table, "by_kind": by_kind}, indent=1, ensure_ascii=False) + "\n"
    )
    with (folder / "results.jsonl").open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(asdict(result), ensure_ascii=False) + "\n")
    print(markdown(table))
    print(f"\nRapport : {folder / 'metrics.json'}")
    return 0


def markdown(table: dict) -> str:
    """The side-by-side table: one row per way and half."""
    names = ("key_point_recall", "draft_supported", "citation_precision", "refused", "written", "chars_p50",
             "first_token_p50_s", "total_p50_s", "total_p95_s")  # fmt: skip
    lines = ["| way | half | n | " + " | ".join(names) + " |", "|---" * (len(names) + 3) + "|"]
    for way, halves in table.items():
        for half, row in halves.items():
            values = " | ".join("—" if row.get(n) is None else str(row.get(n)) for n in names)
            lines.append(f"| {way} | {half} | {row.get('questions', 0)} | {values} |")
    return "\n".join(lines)
