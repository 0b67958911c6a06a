"""PDF files: the text layer page by page (pypdf), so citations can give the page.

The body is the pages' text joined by a blank line; ``Document.pages`` holds the
offset where each page starts, so ``document.page_at(chunk.start)`` is the page a
passage comes from. The title is the file's /Title when meaningful, else the first
title-like line; the date is a French date line at the top of the text, else the
creation date; the author is /Author. Encrypted files that an empty password does
not open, files with no text layer (scans) and corrupt files are skipped.
"""

from __future__ import annotations

import io
import logging
import re

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from rag.sources.documents import Document, date_of_line, fallback_title, is_title_like
from rag.sources.readers.metadata import iso_day, meaningful_author, meaningful_title
from rag.sources.readers.source import SourceFile

log = logging.getLogger(__name__)

PAGE_SEPARATOR = "\n\n"
HEADER_LINES = 5  # the lines at the top of the first page that may hold the date or the title
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def read_pdf(source: SourceFile) -> Document:
    """The text of every page, with the page offsets, title, date and author of the file."""
    reader = _open(source)
    texts = [_page_text(reader, number, source.name) for number in range(len(reader.pages))]
    body, pages = join_pages(texts)
    if not body.strip():
        raise source.skip("aucun texte dans le PDF (document numérisé sans reconnaissance de texte ?)")
    header = _header_lines(texts)
    info = _metadata(reader)
    return Document(
        doc_id=source.doc_id,
        title=meaningful_title(info.get("title"), stem=source.path.stem) or _title_from_text(header, body),
        date=_date_from_text(header) or iso_day(info.get("creation_date")),
        source=source.source,
        body=body,
        sha256=source.sha256,
        author=meaningful_author(info.get("author")),
        pages=pages,
        kind="pdf",
    )


def join_pages(texts: list[str]) -> tuple[str, tuple[int, ...]]:
    """The pages' texts joined by a blank line, and the offset where each starts.

    >>> join_pages(["Un.", "Deux.", "Trois."])
    ('Un.\\n\\nDeux.\\n\\nTrois.', (0, 5, 12))
    """
    offsets, offset = [], 0
    for text in texts:
        offsets.append(offset)
        offset += len(text) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(texts), tuple(offsets)


def _open(source: SourceFile) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(source.raw))
        locked = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
        if not locked:
            len(reader.pages)  # reads the page tree: a broken one fails here, not later
    except DependencyError:
        raise source.skip("PDF chiffré, illisible sans le paquet cryptography") from None
    except Exception as error:  # pypdf reports a malformed file with many exception types
        raise source.skip(f"PDF illisible ou endommagé ({_reason(error)})") from None
    if locked:
        raise source.skip("PDF protégé par un mot de passe")
    return reader


def _page_text(reader: PdfReader, number: int, name: str) -> str:
    """The cleaned text of one page; an unreadable page counts as empty rather than losing the file."""
    try:
        text = reader.pages[number].extract_text() or ""
    except Exception as error:  # as in _open: any failure of a malformed page
        log.warning("%s : page %d illisible (%s), comptée vide.", name, number + 1, _reason(error))
        return ""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("", text)).strip()


def _metadata(reader: PdfReader) -> dict[str, object]:
    """Title, author and creation date from the document information; a malformed entry is left out."""
    info: dict[str, object] = {}
    try:
        metadata = reader.metadata
    except Exception:  # as in _open: a malformed information dictionary
        return info
    if metadata is None:
        return info
    for field in ("title", "author", "creation_date"):
        try:
            info[field] = getattr(metadata, field)
        except Exception:  # e.g. a creation date pypdf cannot parse
            continue
    return info


def _header_lines(texts: list[str]) -> list[str]:
    first_page = next((text for text in texts if text.strip()), "")
    return [line.strip() for line in first_page.split("\n") if line.strip()][:HEADER_LINES]


def _date_from_text(header: list[str]) -> str | None:
    return next((date for line in header if (date := date_of_line(line))), None)


def _title_from_text(header: list[str], body: str) -> str:
    for line in header:
        if is_title_like(line) and date_of_line(line) is None:
            return line
    return fallback_title(body)


def _reason(error: BaseException) -> str:
    return str(error).split("\n", 1)[0][:80] or type(error).__name__
