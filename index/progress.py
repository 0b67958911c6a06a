"""Progress of a long index command: a bar with documents/s and passages/s, and the rates
for its closing summary."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tqdm import tqdm


@dataclass(frozen=True)
class Rates:
    documents: int
    chunks: int
    seconds: float

    def __str__(self) -> str:
        if self.seconds <= 0 or not self.documents:
            return f"{self.chunks} passages calculés en {self.seconds:.1f} s"
        return (
            f"{self.chunks} passages calculés en {self.seconds:.1f} s "
            f"({self.documents / self.seconds:.1f} doc/s, {self.chunks / self.seconds:.1f} passages/s)"
        )


class Progress:
    """``with Progress(total, "Ajout") as progress: progress.advance(documents, chunks)``."""

    def __init__(self, total: int, description: str, *, enabled: bool = True) -> None:
        self._bar = tqdm(total=total, desc=description, unit="doc", disable=not enabled or not total)
        self._started = time.perf_counter()
        self.documents = 0
        self.chunks = 0

    def advance(self, documents: int, chunks: int) -> None:
        self.documents += documents
        self.chunks += chunks
        elapsed = time.perf_counter() - self._started
        rate = self.chunks / max(elapsed, 1e-9)
        self._bar.set_postfix_str(f"{self.chunks} passages, {rate:.1f} passages/s", refresh=False)
        self._bar.update(documents)

    def rates(self) -> Rates:
        return Rates(self.documents, self.chunks, time.perf_counter() - self._started)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_exc) -> None:
        self._bar.close()
