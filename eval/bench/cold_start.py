"""``python -m eval cold-start``: how long a user waits on a cold start, over repeated runs.

Two waits, each measured ``--runs`` times in fresh processes, over the seeds' index (built
once in a temporary home, with the configured models): a one-question command,
``python -m rag ask "…"``, to its exit (the answer printed); and ``make chat``'s steps
(``python -m rag.models.prepare``, ``python -m index build --if-missing``, ``python -m ui``) to the
first page served. It reports the minimum, the median and the maximum of each, with the peak
memory of the ask, and the CPU's flags. Models already assembled (``make install``): what is
measured is a start, not a first installation.

    python -m eval cold-start [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from eval.bench.concurrency import free_port
from rag.config import PROJECT_ROOT
from rag.models.cpu import Cpu

QUESTION = "Dans quelle ville OpenAI a-t-il installé son premier bureau en Europe continentale ?"
PAGE_TIMEOUT_S = 300


def _run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, env=env, cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def time_ask(env: dict[str, str]) -> tuple[float, int]:
    """Seconds for one ``python -m rag ask``, and the peak RSS (MB) of the processes run so far."""
    started = time.perf_counter()
    _run([sys.executable, "-m", "rag", "ask", QUESTION], env)
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def time_chat(env: dict[str, str]) -> float:
    """Seconds from ``make chat``'s first step to the chat's page served."""
    port = free_port()
    started = time.perf_counter()
    _run([sys.executable, "-m", "rag.models.prepare"], env)
    _run([sys.executable, "-m", "index", "build", "--if-missing"], env)
    server = subprocess.Popen(
        [sys.executable, "-m", "ui", "--port", str(port)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < PAGE_TIMEOUT_S:
            if server.poll() is not None:
                raise RuntimeError(f"python -m ui s'est arrêté (code {server.returncode})")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    if page.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"page non servie en {PAGE_TIMEOUT_S} s")
    finally:
        server.terminate()
        server.wait(timeout=30)


def spread(values: list[float]) -> dict[str, float]:
    """
    >>> spread([3.0, 1.0, 2.0])
    {'min': 1.0, 'median': 2.0, 'max': 3.0}
    """
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval cold-start", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="depeche-cold-") as home:
        env = {**os.environ, "DEPECHE_HOME": home}
        _run([sys.executable, "-m", "index", "build"], env)
        asks = [time_ask(env) for _ in range(args.runs)]
        chats = [time_chat(env) for _ in range(args.runs)]
    report = {
        "cpu": Cpu.read().describe(),
        "runs": args.runs,
        "ask_s": spread([seconds for seconds, _ in asks]),
        "ask_peak_rss_mb": max(rss for _, rss in asks),
        "chat_page_s": spread(chats),
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"CPU : {report['cpu']} · {args.runs} exécutions de chaque")
    for label, key in (("python -m rag ask « … »", "ask_s"), ("make chat → page servie", "chat_page_s")):
        s = report[key]
        print(f"{label:<26} min {s['min']:.1f} s · médiane {s['median']:.1f} s · max {s['max']:.1f} s")
    print(f"mémoire maximale d'une question : {report['ask_peak_rss_mb']} Mo")
    return 0
