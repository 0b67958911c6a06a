"""How many answers the server takes at once, and how many it lets wait.

The model answers one question at a time, so a crowd of users makes a queue. Past
``concurrency`` answers being computed and ``queue_depth`` waiting, a new question is refused
at once with «serveur occupé, réessayez» (:class:`ServerBusyError`) instead of waiting
minutes and timing out. Gradio's own queue is set wider than this gate
(no limit of its own on answers), so every question reaches it at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rag.errors import DepecheError


def server_threads(settings) -> int:
    """Threads for Gradio's server (``launch(max_threads=…)``): every admitted answer holds one
    while it waits, and pages, uploads and the API need some besides."""
    return max(40, settings.chat_concurrency + settings.queue_depth + 16)


class ServerBusyError(DepecheError):
    def __init__(self, waiting: int) -> None:
        super().__init__(f"Serveur occupé : {waiting} question(s) déjà en attente. Réessayez dans un instant.")


class Admission:
    """``with admission.slot(): …`` around one answer: waits its turn, or raises
    :class:`ServerBusyError` at once when the queue is full."""

    def __init__(self, concurrency: int, queue_depth: int) -> None:
        self.concurrency = concurrency
        self.queue_depth = queue_depth
        self._turns = threading.Semaphore(concurrency)  # released by any thread: Gradio moves generators
        self._count = threading.Lock()
        self.admitted = 0  # answering or waiting
        self.refused = 0

    @property
    def capacity(self) -> int:
        """Answers admitted at most: computing and waiting."""
        return self.concurrency + self.queue_depth

    @property
    def full(self) -> bool:
        """Whether a new answer would be refused now."""
        return self.admitted >= self.capacity

    @property
    def waiting(self) -> int:
        return max(0, self.admitted - self.concurrency)

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._count:
            if self.admitted >= self.capacity:
                self.refused += 1
                raise ServerBusyError(self.waiting)
            self.admitted += 1
        try:
            self._turns.acquire()
            try:
                yield
            finally:
                self._turns.release()
        finally:
            with self._count:
                self.admitted -= 1
