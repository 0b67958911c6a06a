"""Several chat users at once: every one gets a whole answer, and how long each waits.

``python -m eval concurrency [--clients 8] [--concurrency N] [--timeout S] [--json]``:

1. indexes the seed articles into a temporary data folder and builds the chat's pipeline
   over it with the real models (:func:`rag.components.build_pipeline`);
2. serves the chat window (:func:`ui.app.build_app`) behind Gradio's queue on a free local
   port, as ``python -m ui`` does;
3. asks one question alone (the warm-up, and the latency of a lone user), then has
   ``--clients`` threads, each with its own ``gradio_client.Client``, ask a different
   answerable question of ``eval/gold/seeds.jsonl`` at the same moment through the ``chat``
   API endpoint.

It prints each client's latency (submission to final answer), their median, 95th
percentile and maximum, the wall time of the whole burst, and whether every answer is
complete: not empty and not an error (``⚠️ …``). Exit code 1 if one is not.

The model answers one request at a time (its process, :class:`rag.answer.generator_process.ProcessGenerator`,
serves one), so with N clients the last waits about N answers: the latencies measure the queue.
Past ``DEPECHE_CHAT_CONCURRENCY`` + ``DEPECHE_QUEUE_DEPTH`` answers, a client gets «Serveur occupé»
at once (:mod:`ui.admission`): counted as busy, not as a failure.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import PROJECT_ROOT, Settings

SEEDS_GOLD = PROJECT_ROOT / "eval" / "gold" / "seeds.jsonl"
API_NAME = "/chat"
ERROR_PREFIX = "⚠️"
BUSY_PREFIX = "⚠️ Serveur occupé"


@dataclass(frozen=True)
class ClientResult:
    client: int
    question: str
    answer: str
    latency_s: float
    error: str | None = None  # an exception in the client (timeout, connection)

    @property
    def complete(self) -> bool:
        return self.error is None and is_complete(self.answer)

    @property
    def busy(self) -> bool:
        """Refused at once because the queue was full (ui.admission): an answer, not a failure."""
        return self.error is None and self.answer.strip().startswith(BUSY_PREFIX)


@dataclass(frozen=True)
class Burst:
    clients: list[ClientResult]
    wall_s: float
    alone_s: float | None  # one client alone, before the burst

    @property
    def latencies(self) -> list[float]:
        return [c.latency_s for c in self.clients]

    @property
    def all_complete(self) -> bool:
        """Every client got its answer or, past the queue depth, «serveur occupé» at once."""
        return all(c.complete or c.busy for c in self.clients)

    def summary(self) -> dict[str, Any]:
        latencies = np.asarray(self.latencies)
        busy = [c.latency_s for c in self.clients if c.busy]
        return {
            "clients": len(self.clients),
            "complete": sum(c.complete for c in self.clients),
            "busy": len(busy),
            "busy_max_s": round(max(busy), 3) if busy else None,
            "p50_s": round(float(np.percentile(latencies, 50)), 3),
            "p95_s": round(float(np.percentile(latencies, 95)), 3),
            "max_s": round(float(latencies.max()), 3),
            "wall_s": round(self.wall_s, 3),
            "alone_s": None if self.alone_s is None else round(self.alone_s, 3),
        }


def is_complete(answer: str) -> bool:
    """A whole answer: some text, and not an error message."""
    text = answer.strip()
    return bool(text) and not text.startswith(ERROR_PREFIX)


def reply_text(result: Any) -> str:
    """The answer in what the ``chat`` endpoint returns: the text itself, or the longest text
    in a tuple or list of outputs (chat messages included)."""
    if isinstance(result, str):
        return result
    texts: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            collect(value.get("content"))
        elif isinstance(value, (list, tuple)):
            for item in value:
                collect(item)

    collect(result)
    return max(texts, key=len, default="")


def seed_questions(count: int, path: Path = SEEDS_GOLD) -> list[str]:
    """``count`` different answerable questions of the seeds gold set that stand alone (no
    follow-ups), in file order; repeated when the set has fewer."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [r["question"] for r in rows if r["answerable"] and not r.get("history")]
    return [questions[i % len(questions)] for i in range(count)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False)


def ask(client, question: str, timeout: float) -> str:
    return reply_text(client.submit(message=question, api_name=API_NAME).result(timeout=timeout))


def run_burst(url: str, questions: Sequence[str], *, timeout: float = 300.0) -> tuple[list[ClientResult], float]:
    """One thread and one client per question, all submitted at once; (results, wall time)."""
    clients = [_client(url) for _ in questions]  # connecting is not part of the latency
    start = threading.Barrier(len(questions) + 1)
    results: list[ClientResult | None] = [None] * len(questions)

    def work(number: int) -> None:
        start.wait()
        began = time.perf_counter()
        try:
            answer, error = ask(clients[number], questions[number], timeout), None
        except Exception as exc:  # reported as this client's failure
            answer, error = "", f"{type(exc).__name__}: {exc}"
        results[number] = ClientResult(number + 1, questions[number], answer, time.perf_counter() - began, error)

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(len(questions))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout + 30)
    wall = time.perf_counter() - began
    for client in clients:
        client.close()
    return [r or ClientResult(n + 1, questions[n], "", wall, "no result") for n, r in enumerate(results)], wall


def serve(pipeline, *, settings: Settings | None = None, concurrency: int | None = None):
    """The chat app for ``pipeline``, launched behind its queue on a free local port: (app, url)."""
    from ui.admission import server_threads
    from ui.app import build_app

    options = {"settings": settings} if settings and "settings" in inspect.signature(build_app).parameters else {}
    app = build_app(pipeline, **options)
    port = free_port()
    queue = {"default_concurrency_limit": concurrency} if concurrency else {}
    app.queue(**queue).launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,
        max_threads=server_threads(settings or Settings.from_env()),
    )
    return app, f"http://127.0.0.1:{port}/"


def measure(
    pipeline,
    questions: Sequence[str],
    *,
    settings: Settings | None = None,
    concurrency: int | None = None,
    timeout: float = 300.0,
    warm_up: bool = True,
) -> Burst:
    """Serve ``pipeline``, ask one question alone (if ``warm_up``), then all ``questions`` at once."""
    app, url = serve(pipeline, settings=settings, concurrency=concurrency or len(questions))
    try:
        alone = None
        if warm_up:
            client = _client(url)
            began = time.perf_counter()
            ask(client, questions[0], timeout)
            alone = time.perf_counter() - began
            client.close()
        results, wall = run_burst(url, questions, timeout=timeout)
    finally:
        app.close()
    return Burst(results, wall, alone)


def seed_pipeline(settings: Settings):
    """The chat's pipeline over the seed articles, indexed into ``settings.home``."""
    from index.build import build_index
    from rag.components import build_pipeline, load_embedder

    build_index(settings, [settings.seeds_dir], load_embedder(settings), progress=False)
    return build_pipeline(settings)


def format_report(burst: Burst, model: str) -> str:
    summary = burst.summary()
    lines = [
        f"{summary['clients']} clients en même temps, une question des seeds chacun ; modèle {model}.",
        "",
    ]
    for client in burst.clients:
        state = (
            "complète"
            if client.complete
            else "serveur occupé"
            if client.busy
            else f"INCOMPLÈTE ({client.error or client.answer[:60]!r})"
        )
        first_line = client.answer.strip().splitlines()[0][:70] if client.answer.strip() else ""
        lines.append(f"  client {client.client:>2} : {client.latency_s:6.2f} s, {state} — {first_line}")
    lines.append("")
    if summary["alone_s"] is not None:
        lines.append(f"Un client seul : {summary['alone_s']:.2f} s")
    lines += [
        f"Latences (soumission → réponse finale) : p50 {summary['p50_s']:.2f} s, "
        f"p95 {summary['p95_s']:.2f} s, max {summary['max_s']:.2f} s",
        f"Durée totale : {summary['wall_s']:.2f} s ; réponses complètes : {summary['complete']}/{summary['clients']}",
    ]
    if summary["busy"]:
        lines.append(
            f"Refusées à l'entrée (serveur occupé) : {summary['busy']}, en {summary['busy_max_s']:.2f} s au plus"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval concurrency", description="Plusieurs utilisateurs à la fois dans la discussion."
    )
    parser.add_argument("--clients", type=int, default=8, help="clients simultanés (défaut : 8)")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="file Gradio : requêtes traitées à la fois (défaut : --clients)"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="secondes d'attente par réponse")
    parser.add_argument("--json", action="store_true", help="un objet JSON sur la sortie standard")
    args = parser.parse_args(argv)
    if args.clients < 1:
        parser.error("--clients doit valoir au moins 1")

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    quiet = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()  # Gradio prints
    with quiet, tempfile.TemporaryDirectory(prefix="depeche-concurrency-") as home:
        settings = Settings.from_env().with_(home=Path(home))
        pipeline = seed_pipeline(settings)
        burst = measure(
            pipeline,
            seed_questions(args.clients),
            settings=settings,
            concurrency=args.concurrency,
            timeout=args.timeout,
        )
    model = getattr(pipeline.generator, "name", "?")
    if args.json:
        print(
            json.dumps(
                {
                    **burst.summary(),
                    "model": model,
                    "results": [asdict(c) | {"complete": c.complete} for c in burst.clients],
                },
                ensure_ascii=False,
            )
        )
    else:
        print(format_report(burst, model))
    return 0 if burst.all_complete else 1
