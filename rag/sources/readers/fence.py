"""Files are parsed in a child process, under a time and a memory limit.

A source file is data from anywhere: a DOCX is a zip (a zip bomb is one upload away), a PDF
can send its parser into a loop or an allocation without end, and the parsers are partly
native code. :class:`FencedParser` runs the readers of :mod:`rag.sources.readers` in a supervised
child (:mod:`rag.models.worker`) with an address-space limit; a file that passes the time limit,
exhausts the memory, crashes the child or trips a bug of a parser is skipped with its reason
(:class:`~rag.errors.DocumentError`), and the next file is read by a fresh child. The bytes
are read by the caller (:func:`rag.sources.files.read_document`): only parsing is fenced.

RSS and Atom feeds are parsed by the same child (:meth:`FencedParser.parse_feed`, see
:mod:`rag.sources.feeds`); a feed that defeats the parser is refused with a :class:`~rag.errors.FeedError`.

One fenced parser serves a whole process (:func:`shared_parser`), started on first use.
"""

from __future__ import annotations

import logging
import threading

from rag.errors import DocumentError, FeedError
from rag.models.worker import RemoteError, Spec, Worker, WorkerFailure
from rag.sources.documents import Document
from rag.sources.readers import SourceFile, reader_for

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 120  # per file; DEPECHE_READ_TIMEOUT
READ_MEMORY_MB = 3072  # the parsing process's address space; DEPECHE_READ_MEMORY_MB


def parse_here(kind: str, source: SourceFile) -> Document:
    """Parse in this process, unfenced: what the child runs (and the fuzz targets)."""
    return reader_for(kind)(source)


class Parsing:
    """What the child serves."""

    def parse(self, kind: str, source: SourceFile) -> Document:
        return parse_here(kind, source)

    def parse_feed(self, raw: bytes, location: str):
        from rag.sources.feeds import parse_feed_here

        return parse_feed_here(raw, location)


class FencedParser:
    """``parser(kind, source)``: the document, or a :class:`DocumentError` naming the file."""

    def __init__(self, *, timeout_s: float = READ_TIMEOUT_S, memory_mb: int = READ_MEMORY_MB) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.worker = Worker(
            Spec("rag.sources.readers.fence:Parsing", memory_mb=memory_mb), what="Le lecteur de fichiers"
        )

    def __call__(self, kind: str, source: SourceFile) -> Document:
        try:
            return self.worker.call("parse", kind, source, timeout_s=self.timeout_s)
        except WorkerFailure as failure:
            if failure.reason == "timeout":
                raise source.skip(f"lecture arrêtée au bout de {self.timeout_s:g} s") from None
            raise source.skip(f"le lecteur s'est arrêté en le lisant ({failure.how})") from None
        except RemoteError as error:
            if error.kind == "builtins:MemoryError":
                raise source.skip(f"lecture arrêtée à {self.memory_mb} Mo de mémoire") from None
            log.error("%s: unexpected error in its reader: %s", source.name, error)
            raise source.skip(f"illisible ({error})") from None

    def parse_feed(self, raw: bytes, location: str):
        """The :class:`rag.sources.feeds.ParsedFeed` in ``raw``; :class:`FeedError` (one line) if the
        feed is malformed, not a feed, or defeats the parser."""
        try:
            return self.worker.call("parse_feed", raw, location, timeout_s=self.timeout_s)
        except WorkerFailure as failure:
            why = f"lecture arrêtée au bout de {self.timeout_s:g} s" if failure.reason == "timeout" else failure.how
            raise FeedError(f"Flux {location} : illisible ({why}), rien n'a été ajouté.") from None
        except RemoteError as error:
            if error.kind == "builtins:MemoryError":
                why = f"lecture arrêtée à {self.memory_mb} Mo de mémoire"
            else:
                log.error("%s: unexpected error in the feed parser: %s", location, error)
                why = str(error)
            raise FeedError(f"Flux {location} : illisible ({why}), rien n'a été ajouté.") from None

    def close(self) -> None:
        self.worker.stop()


_shared: FencedParser | None = None
_shared_lock = threading.Lock()


def shared_parser() -> FencedParser:
    """This process's fenced parser, with the limits of the settings (``DEPECHE_READ_*``)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            from rag.config import Settings

            settings = Settings.from_env()
            _shared = FencedParser(timeout_s=settings.read_timeout, memory_mb=settings.read_memory_mb)
        return _shared


__all__ = ["DocumentError", "FencedParser", "parse_here", "shared_parser"]
