"""What a reader is given: the raw bytes of one source file and the id it will have."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from rag.errors import DocumentError, printable


@dataclass(frozen=True)
class SourceFile:
    path: Path
    raw: bytes
    doc_id: str

    @property
    def name(self) -> str:
        return printable(self.path.name)

    @cached_property
    def source(self) -> str:
        """The resolved path, as ``Document.source`` records it (in valid UTF-8: a name that is
        not shows � for its undecodable bytes, and such a file cannot be re-read by path)."""
        return printable(str(self.path.resolve()))

    @cached_property
    def sha256(self) -> str:
        """The digest of the raw bytes: it changes whenever the file does."""
        return hashlib.sha256(self.raw).hexdigest()

    def skip(self, reason: str) -> DocumentError:
        """The error skipping this file: ``skip("PDF sans texte")`` -> ``"a.pdf : PDF sans texte, fichier ignoré."``."""
        return DocumentError(f"{self.name} : {reason}, fichier ignoré.")
