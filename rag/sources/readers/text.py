"""Plain-text articles (``.txt``), laid out as the seeds are: date line, rubric, headline, body."""

from __future__ import annotations

from rag.sources.documents import Document, parse_article
from rag.sources.readers.encoding import decode_text
from rag.sources.readers.source import SourceFile


def read_text(source: SourceFile) -> Document:
    """Decode the file (any common encoding) and split it as :func:`~rag.sources.documents.parse_article` does."""
    text = decode_text(source.raw, source.name)
    if not text.strip():
        raise source.skip("fichier vide")
    return parse_article(text, source=source.source, doc_id=source.doc_id, sha256=source.sha256)
