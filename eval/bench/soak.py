"""A long run: the served chat answers questions one after another while its memory is watched,
and a crowd loads the page itself.

``python -m eval soak [--questions 1000] [--every 100] [--page-clients 32] [--page-loads 5]``:

1. indexes the seed articles into a temporary data folder, builds the chat's pipeline with
   the real models and serves the chat window on a free loopback port
   (:mod:`eval.bench.concurrency`);
2. a crowd of ``--page-clients`` threads each loads the page ``--page-loads`` times over HTTP
   (``/``, then ``/config``, as a browser does): latencies p50/p95/max and errors;
3. one client asks ``--questions`` questions in a row (the answerable seeds questions, in
   turn) through the ``chat`` API; the resident memory (RSS) of the app's process and of the
   model's process (:mod:`rag.models.worker`) is read at the start, every ``--every`` questions and at
   the end.

The report (``eval/runs/<timestamp>/soak.md`` and ``soak.json``) gives the RSS table, its growth
from the first checkpoint after warm-up to the end, every error, and the latencies. Exit code 1
if an answer or a page load failed.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from eval.bench.concurrency import _client, ask, is_complete, seed_pipeline, seed_questions, serve
from eval.report import new_run_dir
from rag.config import PROJECT_ROOT, Settings

RUNS = PROJECT_ROOT / "eval" / "runs"


def rss_mb(pid: int | None) -> float | None:
    """The resident memory of process ``pid``, in MB (None if it is gone)."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_s": None, "p95_s": None, "max_s": None}
    array = np.asarray(values)
    return {
        "p50_s": round(float(np.percentile(array, 50)), 4),
        "p95_s": round(float(np.percentile(array, 95)), 4),
        "max_s": round(float(array.max()), 4),
    }


def page_burst(url: str, clients: int, loads: int) -> dict:
    """``clients`` threads each load ``/`` then ``/config`` ``loads`` times."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def work() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            start.wait()
            for _ in range(loads):
                began = time.perf_counter()
                try:
                    for path in ("/", "/config"):
                        response = client.get(path)
                        if response.status_code != 200:
                            raise RuntimeError(f"{path}: HTTP {response.status_code}")
                    outcome = None
                except Exception as exc:  # counted and reported
                    outcome = f"{type(exc).__name__}: {exc}"
                with lock:
                    latencies.append(time.perf_counter() - began)
                    if outcome:
                        errors.append(outcome)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return {
        "clients": clients,
        "loads": clients * loads,
        "errors": errors,
        "wall_s": round(time.perf_counter() - began, 3),
        **_percentiles(latencies),
    }


def soak(url: str, questions: list[str], *, every: int, pids: dict[str, int | None], timeout: float) -> dict:
    client = _client(url)
    checkpoints = [{"questions": 0, **{name: rss_mb(pid) for name, pid in pids.items()}}]
    latencies, failures = [], []
    for number, question in enumerate(questions, start=1):
        began = time.perf_counter()
        try:
            answer = ask(client, question, timeout)
            if not is_complete(answer):
                failures.append(f"{number}: {answer[:80]}")
        except Exception as exc:  # reported, and the soak goes on
            failures.append(f"{number}: {type(exc).__name__}: {exc}")
        latencies.append(time.perf_counter() - began)
        if number % every == 0 or number == len(questions):
            checkpoints.append({"questions": number, **{name: rss_mb(pid) for name, pid in pids.items()}})
            shown = [f"{k} {v:.0f} Mo" for k, v in checkpoints[-1].items() if k != "questions" and v is not None]
            print(f"  {number} questions : " + ", ".join(shown), flush=True)
    client.close()
    return {"questions": len(questions), "failures": failures, "checkpoints": checkpoints, **_percentiles(latencies)}


def growth(checkpoints: list[dict], name: str) -> float | None:
    """RSS growth of ``name`` from the first checkpoint after warm-up (the first ``every``
    questions) to the end, in MB."""
    values = [c[name] for c in checkpoints[1:] if c.get(name) is not None]
    return round(values[-1] - values[0], 1) if len(values) >= 2 else None


def format_report(result: dict) -> str:
    pages, run = result["pages"], result["soak"]
    lines = [
        f"# Soak : {run['questions']} questions d'affilée, modèle {result['model']}",
        "",
        f"Pages : {pages['clients']} clients × {pages['loads'] // pages['clients']} chargements (/ puis /config) : "
        f"p50 {pages['p50_s']:.3f} s, p95 {pages['p95_s']:.3f} s, max {pages['max_s']:.3f} s, "
        f"{len(pages['errors'])} erreur(s), {pages['wall_s']:.1f} s en tout.",
        "",
        f"Réponses : p50 {run['p50_s']:.3f} s, p95 {run['p95_s']:.3f} s, max {run['max_s']:.3f} s ; "
        f"{len(run['failures'])} échec(s).",
        "",
        "| questions | RSS appli (Mo) | RSS modèle (Mo) |",
        "|---|---|---|",
    ]
    for checkpoint in run["checkpoints"]:
        app, model = checkpoint.get("app"), checkpoint.get("model")
        lines.append(f"| {checkpoint['questions']} | {app or 0:.0f} | {model or 0:.0f} |")
    lines += [
        "",
        f"Croissance après échauffement : appli {result['growth']['app']} Mo, modèle {result['growth']['model']} Mo.",
    ]
    lines += [f"- échec {failure}" for failure in run["failures"][:20]]
    lines += [f"- page : {error}" for error in pages["errors"][:20]]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval soak", description="Longue série de questions et charge.")
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100, help="relevé de la mémoire toutes les N questions")
    parser.add_argument("--page-clients", type=int, default=32)
    parser.add_argument("--page-loads", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    with tempfile.TemporaryDirectory(prefix="depeche-soak-") as home:
        settings = Settings.from_env().with_(home=Path(home))
        pipeline = seed_pipeline(settings)
        app, url = serve(pipeline, settings=settings)
        try:
            worker = getattr(pipeline.generator, "worker", None)
            pids = {"app": os.getpid(), "model": worker.pid if worker is not None else None}
            print(f"Pages : {args.page_clients} clients…", flush=True)
            pages = page_burst(url, args.page_clients, args.page_loads)
            print(f"Soak : {args.questions} questions…", flush=True)
            run = soak(url, seed_questions(args.questions), every=args.every, pids=pids, timeout=args.timeout)
        finally:
            app.close()
    result = {
        "model": getattr(pipeline.generator, "name", "?"),
        "pages": pages,
        "soak": run,
        "growth": {name: growth(run["checkpoints"], name) for name in ("app", "model")},
    }
    folder = new_run_dir(RUNS)
    (folder / "soak.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    report = format_report(result)
    (folder / "soak.md").write_text(report + "\n", encoding="utf-8")
    print(report)
    print(f"\nRapport : {folder / 'soak.md'}")
    return 1 if run["failures"] or pages["errors"] else 0
