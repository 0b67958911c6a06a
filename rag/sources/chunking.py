"""Split a document body into overlapping passages that remember where they came from.

Uses langchain-text-splitters' ``RecursiveCharacterTextSplitter`` with separators for
French prose: paragraphs, lines, then sentence ends (including « … » and ellipses),
clauses, words. Each :class:`Chunk` keeps its character offsets in the body, so
``document.body[chunk.start:chunk.end] == chunk.text``.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.config import ChunkSettings
from rag.sources.documents import Document

FRENCH_SEPARATORS = [
    "\n\n",
    "\n",
    ". ",
    "! ",
    "? ",
    "… ",
    "» ",
    "; ",
    ": ",
    ", ",
    " ",
    "",
]


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    position: int  # 0, 1, 2... within the document
    start: int  # character offsets in Document.body
    end: int
    text: str


def make_splitter(settings: ChunkSettings) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=FRENCH_SEPARATORS,
        chunk_size=settings.size,
        chunk_overlap=settings.overlap,
        keep_separator="end",  # a sentence keeps its full stop
        strip_whitespace=True,
    )


def chunk_document(document: Document, settings: ChunkSettings) -> list[Chunk]:
    """Passages of at most ``settings.size`` characters, overlapping by about ``settings.overlap``."""
    splitter = make_splitter(settings)
    chunks: list[Chunk] = []
    cursor = 0
    for piece in splitter.split_text(document.body):
        # Pieces come in order and overlap; search from just after the previous start.
        start = document.body.find(piece, cursor)
        if start < 0:  # cannot happen with strip_whitespace on an unmodified body
            raise AssertionError(f"chunk not found in {document.doc_id}: {piece[:40]!r}")
        chunks.append(
            Chunk(
                doc_id=document.doc_id,
                position=len(chunks),
                start=start,
                end=start + len(piece),
                text=piece,
            )
        )
        cursor = start + 1
    return chunks


def embedding_text(document: Document, chunk_text: str) -> str:
    """What is embedded for a chunk: its article's title gives it context."""
    return f"{document.title}\n{chunk_text}"
