"""Source files become :class:`Document` records: title, ISO date, source, body, sha256.

The seeds show the layout of a plain-text article, which this module reads::

    jeudi 27 mars 2025          <- date line (any French date dateparser reads)
    News                        <- rubric: a short label before the headline

    OpenAI renforce sa présence <- headline: the last title-like line before the body

    OpenAI, le géant ...        <- body

or, with no headline, ``date 2024-10 Avec cette nouvelle implantation, ...``: the date
is a labelled prefix of the first line, and the title falls back to the lede's first sentence.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.dates import parse_french_date
from rag.errors import DocumentError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
MAX_TITLE_CHARS = 200
FALLBACK_TITLE_CHARS = 120
_LABELLED_DATE = re.compile(
    r"^\s*(?:date|publié le|publication)\s*:?\s*"
    r"(?P<date>\d{4}-\d{2}(?:-\d{2})?|\d{1,2}/\d{1,2}/\d{4})\b\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    date: str | None  # ISO 8601 at the precision the source gives: "2025-03-27", "2024-10"
    source: str
    body: str
    sha256: str
    rubric: str | None = None


def slugify(text: str) -> str:
    """``"2025-03-27 OpenAI à Munich.txt"`` -> ``"2025-03-27-openai-a-munich-txt"``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "document"


def _is_title_like(line: str) -> bool:
    stripped = line.strip()
    return 0 < len(stripped) <= MAX_TITLE_CHARS and not stripped.endswith((".", "!", "?", "…", ":", ";", ","))


def _fallback_title(body: str) -> str:
    first_paragraph = body.strip().split("\n", 1)[0]
    sentence = _SENTENCE_END.split(first_paragraph, maxsplit=1)[0].strip()
    if len(sentence) <= FALLBACK_TITLE_CHARS:
        return sentence.rstrip(".")
    cut = sentence[:FALLBACK_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def parse_article(text: str, *, source: str, doc_id: str, sha256: str) -> Document:
    """Split a plain-text article into its header (date, rubric, headline) and body."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    position = 0

    def next_nonblank(start: int) -> int:
        while start < len(lines) and not lines[start].strip():
            start += 1
        return start

    date = None
    position = next_nonblank(position)
    if position < len(lines):
        labelled = _LABELLED_DATE.match(lines[position])
        if labelled:
            date = parse_french_date(labelled["date"])
            lines[position] = labelled["rest"]
            if not lines[position].strip():
                position += 1
        elif len(lines[position].strip()) <= 40:
            date = parse_french_date(lines[position])
            if date is not None:
                position += 1

    # Title-like lines before the first paragraph: the last is the headline, any
    # before it (a rubric such as "News") are labels.
    header: list[str] = []
    probe = next_nonblank(position)
    while probe < len(lines) and _is_title_like(lines[probe]):
        following = next_nonblank(probe + 1)
        if following >= len(lines):  # a one-line text is body, not a headline
            break
        header.append(lines[probe].strip())
        position = probe + 1
        probe = following

    body = "\n".join(lines[position:]).strip()
    if not body:
        raise DocumentError(f"{Path(source).name} : aucun texte après l'en-tête, fichier ignoré.")
    title = header[-1] if header else _fallback_title(body)
    rubric = " · ".join(header[:-1]) or None
    return Document(doc_id=doc_id, title=title, date=date, source=source, body=body, sha256=sha256, rubric=rubric)


def read_document(path: Path, *, doc_id: str | None = None) -> Document:
    """Read one text or Markdown file; raise :class:`DocumentError` naming it if unusable."""
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"{name} : lecture impossible ({error.strerror}), fichier ignoré.") from None
    if not raw.strip():
        raise DocumentError(f"{name} : fichier vide, ignoré.")
    if b"\x00" in raw:
        raise DocumentError(f"{name} : fichier binaire, ignoré.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"{name} : n'est pas en UTF-8 (octet illisible à la position {error.start}), ignoré."
        ) from None
    return parse_article(
        text,
        source=str(path.resolve()),
        doc_id=doc_id or slugify(path.stem),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def find_sources(paths: Iterable[Path]) -> Iterator[Path]:
    """Files to index: the text files given, and those under the folders given, sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
        else:
            yield path


def load_documents(paths: Iterable[Path]) -> tuple[list[Document], list[str]]:
    """Read every source; return the documents and one message per file skipped."""
    documents: list[Document] = []
    skipped: list[str] = []
    seen_ids: set[str] = set()
    for path in find_sources(paths):
        if not path.exists():
            skipped.append(f"{path} : introuvable, ignoré.")
            continue
        base_id = slugify(path.stem)
        doc_id, n = base_id, 2
        while doc_id in seen_ids:
            doc_id, n = f"{base_id}-{n}", n + 1
        try:
            document = read_document(path, doc_id=doc_id)
        except DocumentError as error:
            log.warning("%s", error)
            skipped.append(str(error))
            continue
        seen_ids.add(doc_id)
        documents.append(document)
    return documents, skipped
