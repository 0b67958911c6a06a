"""What reading costs, and what int8 changes: ``python -m eval reader-bench``.

- **Cost.** Each question of the seeds gold set is read over three passages of the seeds, cut
  at about 800 characters (the index's largest passages), in one batched call of
  :meth:`rag.answer.reader.Reader.read`; p50 and p95 of the wall time, after a warm-up, on
  ``--threads`` threads.
- **Quality.** The reader reads the held-out PIAF test articles (:mod:`eval.studies.piaf_examples`'
  split, never trained on) one paragraph each: span F1 on the answerable questions, the
  no-answer AUC, and refusals at the manifest's threshold.

Both run for the fp32 reader and for its dynamic int8 quantization (``torch.ao``), so the
choice between them is made on figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from rag.config import PROJECT_ROOT, Settings

SEEDS_GOLD = PROJECT_ROOT / "eval" / "gold" / "seeds.jsonl"


def seed_passages(settings: Settings, size: int = 800) -> list[str]:
    """The seeds' text cut into pieces of about ``size`` characters, at spaces: the index's
    largest passages, the worst case of a reading."""
    from rag.sources.files import load_documents

    documents, _ = load_documents([settings.seeds_dir])
    pieces = []
    for document in documents:
        text = " ".join(document.body.split())
        while len(text) > size // 2:
            cut = text.rfind(" ", 0, size) if len(text) > size else len(text)
            pieces.append(text[:cut])
            text = text[cut:].strip()
    return pieces


def timings(reader, questions: list[str], passages: list[str], per_question: int = 3) -> dict:
    reader.read(questions[0], passages[:per_question])  # warm-up
    times = []
    for i, question in enumerate(questions):
        chosen = [passages[(i + k) % len(passages)] for k in range(per_question)]
        started = time.perf_counter()
        reader.read(question, chosen)
        times.append(time.perf_counter() - started)
    times.sort()
    return {
        "questions": len(times),
        "p50_ms": round(1000 * statistics.median(times), 1),
        "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 1),
    }


def quality(reader, manifest: dict) -> dict:
    from eval.studies.piaf_examples import examples_for, load_piaf, split_articles
    from eval.studies.reader_calibration import figures, scored_examples
    from rag.answer.reader import Calibration

    data = load_piaf()
    _, _, test_articles = split_articles(data, manifest["hyperparameters"]["seed"])
    examples = examples_for(data, test_articles, manifest["hyperparameters"]["seed"] + 2)
    scored = scored_examples(reader, data, examples)
    return figures(scored, examples, Calibration(**manifest["calibration"]), manifest["threshold"])


def main(argv: list[str]) -> int:
    from eval.gold import load_gold_jsonl
    from rag.answer.reader import Reader, load_manifest
    from rag.models.e5_convert import ensure_e5_model

    parser = argparse.ArgumentParser(prog="python -m eval reader-bench", description="Coût et qualité du lecteur.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="+", choices=["fp32", "int8"], default=["fp32", "int8"])
    parser.add_argument("--no-quality", action="store_true", help="le coût seulement")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    base = ensure_e5_model(settings.cache)
    passages = seed_passages(settings)
    questions = [item.question for item in load_gold_jsonl(SEEDS_GOLD)]
    manifest = load_manifest()
    report = {
        "passages": {"count": 3, "mean_chars": round(statistics.mean(len(p) for p in passages))},
        "threads": args.threads,
    }
    for variant in args.variants:
        reader = Reader(base, threads=args.threads, int8=variant == "int8")
        report[variant] = {"cost": timings(reader, questions, passages)}
        if not args.no_quality:
            report[variant]["piaf_test"] = quality(reader, manifest)
        if not args.json:
            print(f"{variant} : {json.dumps(report[variant], ensure_ascii=False)}", flush=True)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"3 passages de {report['passages']['mean_chars']} caractères en moyenne, {args.threads} threads.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
