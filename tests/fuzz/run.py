"""``python -m tests.fuzz.run [--seconds 60] [--kinds pdf docx …]``: fuzz each reader in turn.

For each format, a seed corpus (the seed articles, the test fixtures, and a PDF and a DOCX
made like the tests' own) is copied to ``.cache/fuzz/corpus/KIND/`` and libFuzzer grows it
there across runs; :mod:`tests.fuzz.target` then runs for ``--seconds`` with a 10 s limit
per input and 2 GB of memory. The report gives the executions per reader and every crash,
whose input is kept in ``.cache/fuzz/crashes/``. A crash found and fixed is copied into
``tests/fixtures/fuzz/KIND/`` where ``tests/test_fuzz_regressions.py`` replays it.
Exit code 1 if a reader crashed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rag.config import PROJECT_ROOT
from tests.fuzz.target import SUFFIXES

CACHE = PROJECT_ROOT / ".cache" / "fuzz"
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_STATS = re.compile(r"#(\d+)\s+(?:pulse|NEW|REDUCE|DONE|INITED)\b.*?exec/s: (\d+)")


def seed_corpus(kind: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = SUFFIXES[kind]
    sources = [*sorted((PROJECT_ROOT / "seeds").glob("*.txt")), *sorted(FIXTURES.glob(f"*{suffix}"))]
    if kind in ("text", "markdown"):
        sources = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
    if kind in ("pdf", "docx"):
        from tests.test_readers import make_docx, make_pdf

        with tempfile.TemporaryDirectory() as scratch:
            made = Path(scratch) / f"seed{suffix}"
            if kind == "pdf":
                make_pdf(made, [["Élections : la participation en hausse", "mardi 11 juin 2024", "Le texte."]])
            else:
                make_docx(made)
            shutil.copy(made, folder / f"made{suffix}")
        sources = []
    for source in sources:
        shutil.copy(source, folder / source.name)


def fuzz(kind: str, seconds: int) -> dict:
    corpus = CACHE / "corpus" / kind
    seed_corpus(kind, corpus)
    crashes = CACHE / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "tests.fuzz.target", kind, str(corpus),
        f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048", "-max_len=200000",
        f"-artifact_prefix={crashes}/{kind}-", "-print_final_stats=1",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
    log = done.stderr
    (CACHE / f"{kind}.log").write_text(log)
    runs = _DONE.search(log)
    stats = _STATS.findall(log)
    executions = int(runs.group(1)) if runs else int(stats[-1][0]) if stats else 0
    artifacts = re.findall(r"Test unit written to (\S+)", log)
    return {
        "kind": kind,
        "executions": executions,
        "exec_per_s": int(stats[-1][1]) if stats else 0,
        "crashed": done.returncode != 0,
        "artifacts": artifacts,
        "error": _first_error(log) if done.returncode != 0 else "",
    }


def _first_error(log: str) -> str:
    for line in log.splitlines():
        if "Error" in line or "Exception" in line or "==ERROR" in line:
            return line.strip()[:160]
    return log.strip().splitlines()[-1][:160] if log.strip() else ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description="Fuzz the readers with atheris.")
    parser.add_argument("--seconds", type=int, default=60, help="per reader (default 60)")
    parser.add_argument("--kinds", nargs="+", default=list(SUFFIXES), choices=list(SUFFIXES))
    args = parser.parse_args(argv)
    results = []
    for kind in args.kinds:
        print(f"{kind} : {args.seconds} s…", flush=True)
        result = fuzz(kind, args.seconds)
        results.append(result)
        state = f"PLANTAGE {result['error']} -> {result['artifacts']}" if result["crashed"] else "aucun plantage"
        print(f"  {result['executions']} exécutions ({result['exec_per_s']}/s) ; {state}", flush=True)
    return 1 if any(r["crashed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
