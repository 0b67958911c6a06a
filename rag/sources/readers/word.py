"""Word files (``.docx``): paragraphs and tables in document order (python-docx).

The text is laid out as the seeds are, one paragraph per block; a paragraph in the
"Title" or "Heading 1" style at the top is the headline. Otherwise the headline is
the seeds' (a short line before the body), else the file's title property. The
date is a French date line at the top, else the creation date; the author is the
file's author property. Table rows become lines whose cells are joined by `` | ``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import docx
from docx.document import Document as WordDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from rag.sources.documents import Document, fallback_title, split_article
from rag.sources.readers.metadata import iso_day, meaningful_author, meaningful_title
from rag.sources.readers.source import SourceFile

HEADLINE_STYLES = frozenset({"title", "heading 1", "titre", "titre 1"})
CELL_SEPARATOR = " | "


def read_docx(source: SourceFile) -> Document:
    """The paragraphs and tables of the file as text, with its headline, date and author."""
    word = _open(source)
    blocks = list(_blocks(word))
    if not blocks:
        raise source.skip("aucun texte dans le document")
    layout = split_article("\n\n".join(blocks), headline=_styled_headline(word))
    if not layout.body:
        raise source.skip("aucun texte après l'en-tête")
    properties = word.core_properties
    return Document(
        doc_id=source.doc_id,
        title=layout.headline
        or meaningful_title(properties.title, stem=source.path.stem)
        or fallback_title(layout.body),
        date=layout.date or iso_day(properties.created),
        source=source.source,
        body=layout.body,
        sha256=source.sha256,
        rubric=layout.rubric,
        author=meaningful_author(properties.author),
        kind="docx",
    )


def _open(source: SourceFile) -> WordDocument:
    try:
        return docx.Document(io.BytesIO(source.raw))
    except Exception as error:  # python-docx and zipfile report a broken file with many exception types
        if isinstance(error, MemoryError) or "allocate" in str(error):  # zlib: "Unable to allocate output buffer"
            raise source.skip("document Word trop gros une fois décompressé (limite de mémoire atteinte)") from None
        reason = str(error).split("\n", 1)[0][:80] or type(error).__name__
        raise source.skip(f"document Word illisible ou endommagé ({reason})") from None


def _blocks(word: WordDocument) -> Iterator[str]:
    """The non-empty paragraphs and tables of the body, in order, as text."""
    for item in word.iter_inner_content():
        text = _table_text(item) if isinstance(item, Table) else item.text
        if text.strip():
            yield text.strip()


def _table_text(table: Table) -> str:
    """One line per row, its cells joined by `` | `` (a merged cell counted once)."""
    lines = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            if cell._tc is not previous:  # a merged cell comes once per grid column it spans
                cells.append(" ".join(cell.text.split()))
            previous = cell._tc
        if any(cells):
            lines.append(CELL_SEPARATOR.join(cells))
    return "\n".join(lines)


def _styled_headline(word: WordDocument) -> str | None:
    """The text of the first non-empty paragraph, if its style makes it the title."""
    for paragraph in word.paragraphs:
        if paragraph.text.strip():
            return paragraph.text.strip() if _style_name(paragraph) in HEADLINE_STYLES else None
    return None


def _style_name(paragraph: Paragraph) -> str:
    style = paragraph.style
    return (style.name or "").lower() if style is not None else ""
