"""Models exported on first use into the cache (EmbeddingGemma to OpenVINO, the reader to
OpenVINO): the export runs in a child process, and its folder is trusted only while its
manifest matches what it was made from and every file it lists has its recorded size; the
exported model is compiled for this CPU the same way for both.

A child process keeps the export's torch and its several GB out of the caller's memory, and a
crash in it costs only the export, reported in one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from rag.errors import ModelLoadError
from rag.models.checksums import file_sha256


def file_entries(folder: Path) -> dict[str, dict[str, int | str]]:
    """What a manifest records of each file of ``folder``: its size and sha256."""
    return {path.name: {"size": path.stat().st_size, "sha256": file_sha256(path)} for path in sorted(folder.iterdir())}


def manifest_matches(folder: Path, manifest: str, expected: Mapping[str, object]) -> bool:
    """Whether ``folder/manifest`` holds each of ``expected``'s items and every file it lists
    is there at its recorded size."""
    try:
        recorded = json.loads((folder / manifest).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or any(recorded.get(key) != value for key, value in expected.items()):
        return False
    files = recorded.get("files", {})
    return bool(files) and all(
        isinstance(meta, dict) and (folder / name).is_file() and (folder / name).stat().st_size == meta.get("size")
        for name, meta in files.items()
    )


def run_export(module: str, arguments: list[str], *, what: str) -> None:
    """``python -m module arguments…`` in a child process, without OpenVINO's and NNCF's usage
    telemetry (``CI``, ``NNCF_CI``); a failure raises :class:`ModelLoadError` with its last line."""
    env = {**os.environ, "CI": "true", "NNCF_CI": "1"}
    command = [sys.executable, "-m", module, *arguments]
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        last = next((line for line in reversed(done.stderr.splitlines()) if line.strip()), f"code {done.returncode}")
        raise ModelLoadError(f"Export OpenVINO {what} impossible : {last.strip()}")


def child_main(export: Callable[[], None]) -> int:
    """The export's child process: ``export()``; a :class:`ModelLoadError` is one line on stderr
    (which :func:`run_export` passes on) and exit code 1."""
    try:
        export()
    except ModelLoadError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def compile_on_cpu(model: Path, *, threads: int | None, compiled: Path | None):
    """``model`` (OpenVINO IR) compiled for this CPU: fp32 outside int8 layers (the numbers do not
    depend on whether the CPU has bf16), tuned for one request at a time, on ``threads`` (all if
    None), kept in the compiled-model cache ``compiled`` (:func:`rag.models.cpu.compiled_cache`) so a
    second start skips the compile."""
    import openvino as ov

    config: dict[str, object] = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    if compiled is not None:
        config["CACHE_DIR"] = str(compiled)
    return ov.Core().compile_model(str(model), "CPU", config)
