"""Which llama.cpp build to ship: prompt processing and generation speed, build against build.

``python -m eval llama-bench [--builds portable native-sans-amx] [--threads 2] [--json]``

Each build is a llama-cpp-python wheel compiled by ``make llama-wheel`` with its own flags
into ``.cache/wheels/`` (keyed by version and flags, so the product's install never picks it
up). The wheel is unpacked beside it and its libraries are loaded in a child process through
``LLAMA_CPP_LIB_PATH``, with the same Python package. The child runs the default model (Gemma 3
270M Q4_K_M) on a French prompt of about 600 tokens made from ``seeds/``: it times prompt
processing, then greedy generation. The first round is a warm-up; the medians of the others
are reported.

- ``portable``: the Makefile's flags, AVX2 without AVX-512 or AMX (what ``make install`` uses).
- ``native-sans-amx``: every x86 extension this CPU has (AVX-512, VNNI, BF16...), AMX off.
  It is built for this CPU, so it could die with SIGILL on another.

Sets: the portable build's flags, ``LLAMA_CMAKE_ARGS`` in the ``Makefile`` (AVX2, no AVX-512 or
AMX). On a 2-core Xeon with AVX-512 and AMX, Gemma 3 270M Q4_K_M: portable 420.8 prompt
tokens/s and 41.5 generated tokens/s; native without AMX 625.9 and 45.7, not shipped: it dies
with SIGILL on a CPU without AVX-512. ``python -m eval llama-bench``, 2026-12-02.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.config import PROJECT_ROOT

PROMPT_TOKENS = 600
GENERATED_TOKENS = 64
# /proc/cpuinfo flag -> ggml CMake option, for a build with every extension this CPU has.
CPU_OPTIONS = {
    "avx": "GGML_AVX",
    "avx2": "GGML_AVX2",
    "fma": "GGML_FMA",
    "f16c": "GGML_F16C",
    "bmi2": "GGML_BMI2",
    "avx_vnni": "GGML_AVX_VNNI",
    "avx512f": "GGML_AVX512",
    "avx512vbmi": "GGML_AVX512_VBMI",
    "avx512_vnni": "GGML_AVX512_VNNI",
    "avx512_bf16": "GGML_AVX512_BF16",
}
AMX_OFF = "-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"


@dataclass
class BuildResult:
    build: str
    cmake_args: str
    system_info: str
    prompt_tokens: int
    generated_tokens: int
    prompt_tokens_per_s: float
    generation_tokens_per_s: float
    rounds: int


def native_without_amx(cpuinfo: str) -> str:
    """CMake arguments enabling each x86 extension listed in ``cpuinfo``, AMX forced off.

    >>> cpu = "flags : avx avx2 fma f16c bmi2 avx512f avx512cd avx512vl avx512dq avx512bw avx512_vnni amx_int8"
    >>> native_without_amx(cpu)
    '-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AVX_VNNI=OFF -DGGML_AVX512=ON -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=OFF \
-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF'
    """
    line = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), "")
    flags = set(line.partition(":")[2].split())
    if "avx512f" in flags and not {"avx512cd", "avx512vl", "avx512dq", "avx512bw"} <= flags:
        flags.discard("avx512f")  # GGML_AVX512 turns on all five
    options = " ".join(f"-D{option}={'ON' if flag in flags else 'OFF'}" for flag, option in CPU_OPTIONS.items())
    return f"-DGGML_NATIVE=OFF {options} {AMX_OFF} -DLLAVA_BUILD=OFF"


def _make(*args: str) -> str:
    """Run ``make -s ARGS`` (its output shown on stderr) and return its last line."""
    command = ["make", "-s", "--no-print-directory", *args]
    last = ""
    with subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True) as process:
        for line in process.stdout:
            sys.stderr.write(line)
            last = line.strip() or last
    if process.returncode != 0:
        from rag.errors import DepecheError

        raise DepecheError(f"`make {' '.join(args)}` a échoué (code {process.returncode}).")
    return last


def wheel_libraries(cmake_args: str | None) -> tuple[Path, str]:
    """Compile (once) the wheel for ``cmake_args`` (None: the Makefile's), unpack it, and
    return its ``llama_cpp/lib`` folder and the flags it was built with."""
    override = [] if cmake_args is None else [f"LLAMA_CMAKE_ARGS={cmake_args}"]
    folder = PROJECT_ROOT / _make("llama-wheel", *override)
    build = dict(line.split(" ", 1) for line in (folder / "BUILD").read_text().splitlines() if " " in line)
    wheel = next(folder.glob("llama_cpp_python-*.whl"))
    unpacked = PROJECT_ROOT / ".cache" / "llama-bench" / folder.name
    if not (unpacked / "llama_cpp" / "lib").is_dir():
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(unpacked)
    return unpacked / "llama_cpp" / "lib", build.get("cmake_args", "")


def french_prompt(tokenize, n_tokens: int) -> list[int]:
    """The first ``n_tokens`` tokens of the seed articles, one after the other."""
    text = "\n\n".join(path.read_text(encoding="utf-8") for path in sorted((PROJECT_ROOT / "seeds").glob("*.txt")))
    tokens = tokenize(text)
    while len(tokens) < n_tokens:
        tokens = tokens + tokens
    return tokens[:n_tokens]


def _child(threads: int, rounds: int) -> int:
    """In the build's process: time prompt processing and generation, print one JSON line."""
    import llama_cpp
    import numpy as np

    from rag.config import Settings
    from rag.models.gguf import resolve_gguf

    settings = Settings.from_env()
    llm = llama_cpp.Llama(
        model_path=str(resolve_gguf(settings.llm_path, settings.cache)),
        n_ctx=2048,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    prompt = french_prompt(lambda text: llm.tokenize(text.encode("utf-8"), add_bos=True), PROMPT_TOKENS)
    prompt_rates, generation_rates = [], []
    for _ in range(rounds + 1):  # the first round warms up
        llm.reset()
        started = time.perf_counter()
        llm.eval(prompt)
        prompt_rates.append(len(prompt) / (time.perf_counter() - started))
        started = time.perf_counter()
        for _ in range(GENERATED_TOKENS):  # greedy: the argmax of the last token's logits
            logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
            llm.eval([int(np.argmax(logits))])
        generation_rates.append(GENERATED_TOKENS / (time.perf_counter() - started))
    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()
    print(
        json.dumps(
            {
                "system_info": info,
                "prompt_tokens": len(prompt),
                "prompt_tokens_per_s": statistics.median(prompt_rates[1:]),
                "generation_tokens_per_s": statistics.median(generation_rates[1:]),
            }
        )
    )
    return 0


def measure(build: str, threads: int, rounds: int) -> BuildResult:
    cmake_args = None if build == "portable" else native_without_amx(Path("/proc/cpuinfo").read_text())
    libraries, flags = wheel_libraries(cmake_args)
    env = {**os.environ, "LLAMA_CPP_LIB_PATH": str(libraries)}
    command = [
        sys.executable,
        "-m",
        "eval.studies.llama_bench",
        "--child",
        "--threads",
        str(threads),
        "--rounds",
        str(rounds),
    ]
    done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        from rag.errors import DepecheError

        raise DepecheError(f"la compilation {build} a échoué pendant la mesure (code {done.returncode}).")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return BuildResult(
        build=build,
        cmake_args=flags,
        system_info=figures["system_info"],
        prompt_tokens=figures["prompt_tokens"],
        generated_tokens=GENERATED_TOKENS,
        prompt_tokens_per_s=round(figures["prompt_tokens_per_s"], 1),
        generation_tokens_per_s=round(figures["generation_tokens_per_s"], 1),
        rounds=rounds,
    )


def format_table(results: list[BuildResult]) -> str:
    base = results[0]
    lines = [
        "| compilation | traitement du prompt (jetons/s) | génération (jetons/s) | vs " + base.build + " |",
        "|---|---|---|---|",
    ]
    for result in results:
        ratio = (
            f"{result.prompt_tokens_per_s / base.prompt_tokens_per_s:.2f}× / "
            f"{result.generation_tokens_per_s / base.generation_tokens_per_s:.2f}×"
        )
        lines.append(
            f"| {result.build} | {result.prompt_tokens_per_s:.1f} | {result.generation_tokens_per_s:.1f} | {ratio} |"
        )
    for result in results:
        lines.append(f"\n{result.build} : {result.cmake_args}\n  {result.system_info}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval llama-bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--builds", nargs="+", choices=("portable", "native-sans-amx"), default=["portable", "native-sans-amx"]
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="mesures après un tour de chauffe")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.threads, args.rounds)
    results = [measure(build, args.threads, args.rounds) for build in args.builds]
    if args.json:
        print(json.dumps([asdict(result) for result in results], ensure_ascii=False))
    else:
        print(
            f"Gemma 3 270M Q4_K_M, prompt français de {results[0].prompt_tokens} jetons, "
            f"{GENERATED_TOKENS} jetons générés, {args.threads} threads, médiane de {args.rounds} tours\n"
        )
        print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
