"""Which embedder this CPU runs fastest: measured once by ``python -m rag.models.prepare``
(:func:`rag.models.prepare.ensure_choice`), kept with
the CPU's flags, measured again on a CPU it has not seen.

EmbeddingGemma comes in two precisions, which are two models (their vectors differ by more
than a cosine of 0.99): int8 (``embeddinggemma-300m-int8``, about 18 passages a second with
VNNI, 4 without) and fp32 (``google/embeddinggemma-300m``, about 6–7 through OpenVINO on any
of this project's CPUs). The fp32 model has two runtimes giving the same vectors (OpenVINO,
sentence-transformers). :func:`measure` embeds the seeds' passages with each candidate and
:func:`record` keeps the speeds in ``cache/embedding-choice.json`` under this CPU's key
(:func:`rag.models.cpu.cpu_key`).

What the measurement decides, when ``DEPECHE_EMBED_MODEL`` is not set:

- the model a **new** index is built with: the fastest candidate (:func:`default_embed_model`).
  An existing index is always searched and extended with the model it records, so an index
  made on one machine works on another;
- the runtime of a model that has several: the fastest here (:func:`runtime_for`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rag.models.cpu import Cpu, cpu_key

CHOICE_FILE = "embedding-choice.json"
# (model, runtime) measured; a model's first runtime is what it runs with when not measured.
CANDIDATES: tuple[tuple[str, str], ...] = (
    ("embeddinggemma-300m-int8", "openvino-int8"),
    ("google/embeddinggemma-300m", "openvino-fp32"),
    ("google/embeddinggemma-300m", "sentence-transformers"),
)
TARGET = 10.0  # passages a second: below it, the faster model is named (docs/indexing-speed.md)
FAST_ALTERNATIVE = "multilingual-e5-small"


@dataclass(frozen=True)
class Speed:
    model: str
    runtime: str
    passages_per_s: float


@dataclass(frozen=True)
class Choice:
    cpu: str
    key: str
    speeds: list[Speed] = field(default_factory=list)
    measured_at: str = ""

    @property
    def fastest(self) -> Speed:
        return max(self.speeds, key=lambda s: s.passages_per_s)

    def runtime(self, model: str) -> str | None:
        """The fastest runtime measured for ``model``, or None."""
        mine = [s for s in self.speeds if s.model == model]
        return max(mine, key=lambda s: s.passages_per_s).runtime if mine else None

    def summary(self) -> str:
        """
        >>> Choice("EPYC (avx2)", "k", [Speed("a", "x", 4.08), Speed("b", "y", 6.1)]).summary()
        'EPYC (avx2) : a (x) 4.1 passages/s, b (y) 6.1 passages/s → b (y) pour les nouveaux index.'
        """
        speeds = ", ".join(f"{s.model} ({s.runtime}) {s.passages_per_s:.1f} passages/s" for s in self.speeds)
        best = self.fastest
        return f"{self.cpu} : {speeds} → {best.model} ({best.runtime}) pour les nouveaux index."


def _choices(cache: Path) -> dict[str, dict]:
    try:
        data = json.loads((cache / CHOICE_FILE).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def recorded(cache: Path, key: str | None = None) -> Choice | None:
    """The choice measured on this CPU (with these caps), or None."""
    entry = _choices(cache).get(key or cpu_key())
    try:
        speeds = [Speed(**s) for s in entry["speeds"]]
        return Choice(entry["cpu"], entry["key"], speeds, entry.get("measured_at", "")) if speeds else None
    except (TypeError, KeyError):
        return None


def record(cache: Path, choice: Choice) -> None:
    """Keep ``choice`` beside the other CPUs' (written whole, then renamed)."""
    choices = _choices(cache)
    choices[choice.key] = asdict(choice)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=cache, prefix=f".{CHOICE_FILE}-", delete=False) as handle:
        json.dump(choices, handle, indent=1)
    os.replace(handle.name, cache / CHOICE_FILE)


def measure(
    candidates: Sequence[tuple[str, str]],
    load: Callable[[str, str], object],
    passages: Sequence[str],
    *,
    cpu: Cpu | None = None,
) -> Choice:
    """Each candidate's passages a second on ``passages`` (after a warm-up on two of them)."""
    cpu = cpu or Cpu.read()
    speeds = []
    for model, runtime in candidates:
        embedder = load(model, runtime)
        embedder.embed_passages(list(passages[:2]))
        started = time.perf_counter()
        embedder.embed_passages(list(passages))
        speeds.append(Speed(model, runtime, round(len(passages) / (time.perf_counter() - started), 2)))
        del embedder
    return Choice(cpu.describe(), cpu_key(cpu), speeds, time.strftime("%Y-%m-%dT%H:%M:%S%z"))


def indexed_model(index_dir: Path) -> str | None:
    """The embedding model the published index (embedded store) was built with, or None.

    Read from the base segment's ``meta`` table directly, not through :mod:`rag.store`: every
    command's :meth:`Settings.from_env` calls this, and importing the store costs 0.5 s."""
    from rag.store.versions import current_version

    version = current_version(index_dir) if index_dir.is_dir() else None
    database = version / "store.sqlite" if version is not None else None
    if database is None or not database.is_file():
        return None
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'embed_model'").fetchone()
        return json.loads(row[0]) if row else None
    except (sqlite3.Error, ValueError):
        return None  # a damaged index: opening it will say so


def default_embed_model(index_dir: Path, cache: Path, fallback: str) -> str:
    """The model when ``DEPECHE_EMBED_MODEL`` is not set: the published index's, else the
    fastest measured on this CPU, else ``fallback`` (:data:`rag.config.DEFAULT_EMBED_MODEL`)."""
    model = indexed_model(index_dir)
    if model:
        return model
    choice = recorded(cache)
    return choice.fastest.model if choice is not None else fallback


def runtime_for(model: str, cache: Path, default: str) -> str:
    """The runtime ``model`` runs with here: the fastest measured on this CPU, else ``default``
    (its first in :data:`rag.models.embedding.RUNTIMES`)."""
    choice = recorded(cache)
    measured = choice.runtime(model) if choice is not None else None
    return measured or default
