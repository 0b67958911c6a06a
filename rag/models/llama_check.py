"""Does llama.cpp run on this CPU? A tiny generation in a subprocess, before any user asks.

A llama.cpp build can crash on a CPU it was not built for. A native build
(``-march=native``) dies with SIGILL on a CPU that lacks one of its instructions, and
llama.cpp's AMX path segfaults on some Xeons (llama.cpp #20824). In the chat, that kills the
whole process at the first question. ``make`` runs ``python -m rag.models.llama_check`` right after
the install, and again whenever the CPU changes. If the generation dies, the check stops with
one line that names the cause and the fix.

The verdict is read from the outside. The child prints ``llama_print_system_info()``
before it generates, so a crash can still be blamed on AMX or not:

>>> crash = from_outcome(-11, "CPU : AVX2 = 1 | AMX_INT8 = 1 |", "", 0.5)
>>> crash.ok, "SIGSEGV" in crash.message, "#20824" in crash.message
(False, True, True)
>>> from_outcome(0, "CPU : AVX2 = 1 |", '{"tokens": 8}', 0.5).ok
True
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROMPT = "Question : Quelle est la capitale de la France ?\nRéponse :"
TOKENS = 8
TIMEOUT = 300  # seconds: loading a GGUF and 8 tokens take about 1 s here
FIX = "réinstallez la compilation portable du projet : `rm -rf .venv .cache/wheels && make install`"
# The instructions the project's portable build (Makefile, LLAMA_CMAKE_ARGS) assumes.
REQUIRED_CPU_FLAGS = ("avx", "avx2", "fma", "f16c")


@dataclass(frozen=True)
class LlamaCheck:
    ok: bool
    message: str  # one line, for the user
    system_info: str = ""
    seconds: float = 0.0


def amx_enabled(system_info: str) -> bool:
    """Whether llama.cpp was built with its AMX path (``AMX_INT8 = 1`` in its system info).

    >>> amx_enabled("CPU : SSE3 = 1 | AVX2 = 1 | AMX_INT8 = 1 | REPACK = 1 |")
    True
    >>> amx_enabled("CPU : SSE3 = 1 | AVX2 = 1 | REPACK = 1 |")
    False
    """
    return "AMX_INT8 = 1" in system_info


def missing_cpu_flags(cpuinfo: str) -> list[str]:
    """The instructions the portable build needs that this CPU lacks (x86-64 only).

    >>> missing_cpu_flags("flags : fpu sse avx f16c fma")
    ['avx2']
    >>> missing_cpu_flags("Features : fp asimd")  # not x86: nothing to say
    []
    """
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return [flag for flag in REQUIRED_CPU_FLAGS if flag not in flags]
    return []


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def from_outcome(returncode: int, system_info: str, stdout: str, seconds: float, stderr: str = "") -> LlamaCheck:
    """The verdict on a child run: its exit status, the system info it printed, its result."""
    if returncode < 0:
        name = _signal_name(returncode)
        if amx_enabled(system_info):
            cause = "llama.cpp a été compilé avec AMX, dont le chemin plante sur certains Xeon (llama.cpp #20824)"
        elif name == "SIGILL":
            cause = "llama.cpp a été compilé pour un autre processeur (instruction inconnue de celui-ci)"
        elif name == "SIGKILL":
            cause = "le processus a été tué, sans doute faute de mémoire"
        else:
            cause = "la bibliothèque native de llama.cpp a échoué sur ce processeur"
        message = f"llama.cpp a planté ({name}) pendant une génération d’essai : {cause} ; {FIX}."
        return LlamaCheck(False, message, system_info, seconds)
    if returncode != 0:
        last = next((line for line in reversed(stderr.splitlines()) if line.strip()), "sans message")
        return LlamaCheck(
            False, f"La génération d’essai de llama.cpp a échoué (code {returncode}) : {last}", system_info
        )
    if amx_enabled(system_info):
        message = (
            "llama.cpp est compilé avec AMX, dont le chemin plante sur certains Xeon (llama.cpp #20824), "
            f"même si l’essai a réussi ; {FIX}."
        )
        return LlamaCheck(False, message, system_info, seconds)
    try:
        tokens = json.loads(stdout.strip().splitlines()[-1])["tokens"]
    except (IndexError, ValueError, KeyError, TypeError):
        return LlamaCheck(False, "La génération d’essai de llama.cpp n’a rien rendu de lisible.", system_info, seconds)
    if tokens < 1:
        return LlamaCheck(False, "La génération d’essai de llama.cpp n’a produit aucun jeton.", system_info, seconds)
    return LlamaCheck(
        True, f"llama.cpp : génération d’essai réussie ({tokens} jetons, {seconds:.1f} s).", system_info, seconds
    )


def run_check(
    model: Path, *, threads: int = 2, timeout: float = TIMEOUT, command: list[str] | None = None
) -> LlamaCheck:
    """Generate a few tokens with ``model`` in a child process and judge how it ended.

    ``command`` replaces the child (tests use it to simulate a crash).
    """
    if command is None:
        command = [sys.executable, "-m", "rag.models.llama_check", "--child", str(model), "--threads", str(threads)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=os.environ.copy())
    except subprocess.TimeoutExpired:
        return LlamaCheck(False, f"La génération d’essai de llama.cpp n’a pas fini en {timeout:.0f} s ; {FIX}.")
    seconds = time.perf_counter() - started
    lines = done.stdout.splitlines()
    system_info = next((line.removeprefix("system_info ") for line in lines if line.startswith("system_info ")), "")
    result = "\n".join(line for line in lines if not line.startswith("system_info "))
    return from_outcome(done.returncode, system_info, result, seconds, done.stderr)


def _child(model: Path, threads: int) -> int:
    """Load ``model``, print the system info, generate a few tokens, print how many."""
    import llama_cpp

    print("system_info", llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip(), flush=True)
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=256, n_threads=threads, n_threads_batch=threads, verbose=False)
    out = llm.create_completion(PROMPT, max_tokens=TOKENS, temperature=0.0)
    print(json.dumps({"tokens": out["usage"]["completion_tokens"], "text": out["choices"][0]["text"]}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    from rag.config import Settings
    from rag.errors import DepecheError
    from rag.models.gguf import resolve_gguf

    parser = argparse.ArgumentParser(prog="python -m rag.models.llama_check", description=__doc__.split("\n")[0])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child, args.threads)

    cpuinfo = Path("/proc/cpuinfo")
    missing = missing_cpu_flags(cpuinfo.read_text()) if cpuinfo.is_file() else []
    if missing:
        print(
            f"Erreur : ce processeur n’a pas {', '.join(missing)}, que la compilation portable de llama.cpp "
            "demande (Makefile, LLAMA_CMAKE_ARGS) : retirez ces options et relancez `make install`.",
            file=sys.stderr,
        )
        return 1
    try:
        model = resolve_gguf(Settings.from_env().llm_path, Settings.from_env().cache)
    except DepecheError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    check = run_check(model, threads=args.threads)
    if check.system_info:
        print(f"llama_print_system_info() : {check.system_info}")
    print(check.message if check.ok else f"Erreur : {check.message}", file=sys.stdout if check.ok else sys.stderr)
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
