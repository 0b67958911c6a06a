"""Progress of a long index command: a bar with documents/s, passages/s and the time left
(in its description, which the Corpus tab shows too: Gradio's ``track_tqdm`` shows a bar's
description and count, not its postfix), and the rates for its closing summary."""

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


def time_left(done: int, total: int, elapsed: float) -> str:
    """The time left at the pace so far, in words ("" before the first document or once done).

    >>> time_left(10, 100, 60.0), time_left(1, 3, 10.0), time_left(99, 100, 9900.0), time_left(0, 5, 1.0)
    ('≈ 9 min', '≈ 20 s', '≈ 2 min', '')
    """
    if done <= 0 or done >= total:
        return ""
    seconds = elapsed / done * (total - done)
    if seconds < 60:
        return f"≈ {max(1, round(seconds / 10) * 10)} s"
    if seconds < 3600:
        return f"≈ {round(seconds / 60)} min"
    return f"≈ {seconds / 3600:.1f} h"


class Progress:
    """``with Progress(total, "Ajout") as progress: progress.advance(documents, chunks)``."""

    def __init__(self, total: int, description: str, *, enabled: bool = True) -> None:
        self._bar = tqdm(total=total, desc=description, unit="doc", disable=not enabled or not total)
        self._description = description
        self._total = total
        self._started = time.perf_counter()
        self.documents = 0
        self.chunks = 0

    def advance(self, documents: int, chunks: int) -> None:
        self.documents += documents
        self.chunks += chunks
        elapsed = time.perf_counter() - self._started
        rate = self.chunks / max(elapsed, 1e-9)
        self._bar.set_postfix_str(f"{self.chunks} passages, {rate:.1f} passages/s", refresh=False)
        left = time_left(self.documents, self._total, elapsed)
        described = f"{self._description} · reste {left}" if left else self._description
        self._bar.set_description_str(described, refresh=False)
        self._bar.update(documents)

    def rates(self) -> Rates:
        return Rates(self.documents, self.chunks, time.perf_counter() - self._started)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_exc) -> None:
        self._bar.close()
