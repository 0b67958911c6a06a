"""What test workers serve (:mod:`rag.models.worker`): built in a child process from their name."""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Iterator

from rag.errors import ModelLoadError
from tests.fakes import FakeGenerator


class ServedGenerator(FakeGenerator):
    """A fake generator in a child process, with ways to misbehave there."""

    def __init__(self, pieces=("Munich", " [1]", "."), *, endless: bool = False, pause_s: float = 0.0) -> None:
        super().__init__(pieces)
        self.endless = endless
        self.pause_s = pause_s
        self.streams = 0

    def worker_info(self) -> dict[str, str]:
        return {"name": "served-fake", "system_info": "fake", "chat_template": None}

    def stream(self, prompt) -> Iterator[str]:
        self.streams += 1
        while True:
            for piece in self.pieces:
                time.sleep(self.pause_s)
                yield piece
            if not self.endless:
                return

    def pid(self) -> int:
        return os.getpid()

    def stream_count(self) -> int:
        return self.streams

    def fail(self) -> None:
        raise KeyError("pas de clé")

    def allocate(self, megabytes: int) -> int:
        return len(bytearray(megabytes * 1024 * 1024))

    def segfault(self) -> None:
        ctypes.string_at(0)

    def hang(self) -> None:
        while True:
            time.sleep(1)


def unloadable(path: str) -> None:
    raise ModelLoadError(f"Chargement du modèle {path} impossible : fichier tronqué")


def crashing() -> None:
    os.abort()
