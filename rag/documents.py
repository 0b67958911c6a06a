"""Source files become :class:`Document` records: title, ISO date, source, body, sha256.

:func:`load_documents` takes files and folders; each file is read by the reader of its
format (:mod:`rag.readers`: plain text, Markdown, HTML, PDF, DOCX), and every file that
cannot be used is skipped with a one-line French message saying why.

The seeds show the layout of a plain-text article, which :func:`parse_article` reads::

    jeudi 27 mars 2025          <- date line (any French date dateparser reads)
    News                        <- rubric: a short label before the headline

    OpenAI renforce sa présence <- headline: the last title-like line before the body

    OpenAI, le géant ...        <- body

or, with no headline, ``date 2024-10 Avec cette nouvelle implantation, ...``: the date
is a labelled prefix of the first line, and the title falls back to the lede's first sentence.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.dates import parse_french_date
from rag.errors import DocumentError, printable
from rag.readers import SourceFile

log = logging.getLogger(__name__)

# The formats read, by file suffix (compared in lower case).
SUFFIX_KINDS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SUPPORTED_SUFFIXES = tuple(SUFFIX_KINDS)
# Documents a word processor saves as .docx or PDF in two clicks: the skip message says so.
CONVERTIBLE_SUFFIXES = (".doc", ".odt", ".rtf", ".pages", ".wpd")
CONVERT_HINT = "enregistrez-le en .docx ou en PDF"
MAX_FILE_BYTES = 200 * 1024 * 1024  # larger is not an article: skipped rather than read into memory
MAX_TITLE_CHARS = 200
FALLBACK_TITLE_CHARS = 120
MAX_DATE_LINE_CHARS = 40
_LABELLED_DATE = re.compile(
    r"^\s*(?:date|publié le|publication)\s*:?\s*"
    r"(?P<date>\d{4}-\d{2}(?:-\d{2})?|\d{1,2}/\d{1,2}/\d{4})\b\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_DATE_LABEL = re.compile(
    r"^\s*(?:date|publication|(?:publiée?|mis à jour|mise à jour|paru|parue)\s+le)\s*:?\s*", re.IGNORECASE
)
_TIME_OF_DAY = re.compile(r"\s*(?:à|,)?\s*\d{1,2}\s*(?:h|:)\s*\d{0,2}\s*$", re.IGNORECASE)  # "… à 8 h 30"
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
    author: str | None = None
    site: str | None = None  # the publication or web site, when the source names it
    pages: tuple[int, ...] = ()  # PDF: the body offset where each page starts (pages[0] == 0)
    kind: str = "text"  # the source format: text, markdown, html, pdf, docx

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding body offset ``offset``, for documents with pages."""
        return page_at(self.pages, offset)


@dataclass(frozen=True)
class ArticleLayout:
    """The parts of an article laid out as the seeds are; ``headline`` is None when there is none."""

    date: str | None
    rubric: str | None
    headline: str | None
    body: str


def page_at(pages: tuple[int, ...] | list[int], offset: int) -> int | None:
    """``page_at((0, 120, 300), 150) == 2``; ``None`` when there are no pages."""
    if not pages:
        return None
    return max(bisect.bisect_right(pages, offset), 1)


def slugify(text: str) -> str:
    """``"2025-03-27 OpenAI à Munich.txt"`` -> ``"2025-03-27-openai-a-munich-txt"``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "document"


def is_title_like(line: str) -> bool:
    """A short line that does not end like a sentence: a headline, a rubric, a label."""
    stripped = line.strip()
    return 0 < len(stripped) <= MAX_TITLE_CHARS and not stripped.endswith((".", "!", "?", "…", ":", ";", ","))


def fallback_title(body: str) -> str:
    """The first sentence of the body, cut at a word near 120 characters: the title of a headless text."""
    first_paragraph = body.strip().split("\n", 1)[0]
    sentence = _SENTENCE_END.split(first_paragraph, maxsplit=1)[0].strip()
    if len(sentence) <= FALLBACK_TITLE_CHARS:
        return sentence.rstrip(".")
    cut = sentence[:FALLBACK_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def date_of_line(line: str) -> str | None:
    """The ISO date of a line that is only a date, perhaps labelled, else None.

    ``"jeudi 27 mars 2025"``, ``"Publié le 11 juin 2024 à 8 h 30"`` and ``"Date : 2024-10-02"``
    are date lines; a sentence that mentions a date is not.
    """
    return _plain_date(_TIME_OF_DAY.sub("", _DATE_LABEL.sub("", line, count=1)))


def _plain_date(line: str) -> str | None:
    return parse_french_date(line) if len(line.strip()) <= MAX_DATE_LINE_CHARS else None


def split_article(text: str, *, headline: str | None = None) -> ArticleLayout:
    """Split a plain-text article into its header (date, rubric, headline) and body.

    ``headline``, when the format marks it (a Markdown ``# Titre``, a Word "Title"
    paragraph), ends the header at that line; otherwise the last title-like line
    before the first paragraph is the headline, as in the seeds.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")

    def next_nonblank(start: int) -> int:
        while start < len(lines) and not lines[start].strip():
            start += 1
        return start

    date = None
    position = next_nonblank(0)
    if position < len(lines) and lines[position].strip() != headline:
        labelled = _LABELLED_DATE.match(lines[position])
        if labelled:
            date = parse_french_date(labelled["date"])
            lines[position] = labelled["rest"]
            if not lines[position].strip():
                position += 1
        else:
            date = _plain_date(lines[position])
            if date is not None:
                position += 1

    # Title-like lines before the first paragraph: the last is the headline, any
    # before it (a rubric such as "News") are labels.
    header: list[str] = []
    probe = next_nonblank(position)
    while probe < len(lines) and (is_title_like(lines[probe]) or lines[probe].strip() == headline):
        if header and date is None and date_of_line(lines[probe]):
            break  # a date line under the headline, read below
        following = next_nonblank(probe + 1)
        if following >= len(lines):  # a one-line text is body, not a headline
            break
        header.append(lines[probe].strip())
        position = probe + 1
        probe = following
        if header[-1] == headline:
            break

    # A date line may also come right after the headline ("# Titre", then "27 mars 2025").
    probe = next_nonblank(position)
    if date is None and header and probe < len(lines) and next_nonblank(probe + 1) < len(lines):
        date = date_of_line(lines[probe])
        if date is not None:
            position = probe + 1

    body = "\n".join(lines[position:]).strip()
    return ArticleLayout(
        date=date,
        rubric=" · ".join(header[:-1]) or None,
        headline=header[-1] if header else None,
        body=body,
    )


def parse_article(
    text: str, *, source: str, doc_id: str, sha256: str, kind: str = "text", headline: str | None = None
) -> Document:
    """The :class:`Document` of a plain-text article (see :func:`split_article`)."""
    layout = split_article(text, headline=headline)
    if not layout.body:
        raise DocumentError(f"{Path(source).name} : aucun texte après l'en-tête, fichier ignoré.")
    return Document(
        doc_id=doc_id,
        title=layout.headline or fallback_title(layout.body),
        date=layout.date,
        source=source,
        body=layout.body,
        sha256=sha256,
        rubric=layout.rubric,
        kind=kind,
    )


def kind_of(path: Path) -> str | None:
    """The format of ``path`` by its suffix (``"pdf"``...), or None if it is not one that is read."""
    return SUFFIX_KINDS.get(path.suffix.lower())


def _unsupported(label: str, path: Path) -> str:
    suffix = path.suffix.lower() or "sans extension"
    hint = f" ; {CONVERT_HINT}" if suffix in CONVERTIBLE_SUFFIXES else ""
    return f"{label} : format non pris en charge ({suffix}{hint}), ignoré."


def _read_bytes(path: Path) -> bytes:
    name = path.name
    try:
        if not path.is_file():
            raise DocumentError(f"{name} : n'est pas un fichier ordinaire, ignoré.")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DocumentError(f"{name} : trop volumineux ({size // (1024 * 1024)} Mo), fichier ignoré.")
        return path.read_bytes()
    except OSError as error:
        raise DocumentError(f"{name} : lecture impossible ({error.strerror or error}), fichier ignoré.") from None


Parser = Callable[[str, SourceFile], "Document"]  # (kind, source) -> document


def read_document(path: Path, *, doc_id: str | None = None, parse: Parser | None = None) -> Document:
    """Read one source file with the reader of its format; raise :class:`DocumentError` naming it if unusable.

    The bytes are read here; ``parse`` turns them into a document: by default in a child
    process under a time and memory limit (:mod:`rag.readers.fence`)."""
    kind = kind_of(path)
    if kind is None:
        raise DocumentError(_unsupported(path.name, path))
    raw = _read_bytes(path)
    if not raw.strip():
        raise DocumentError(f"{path.name} : fichier vide, ignoré.")
    source = SourceFile(path=path, raw=raw, doc_id=doc_id or slugify(path.stem))
    if parse is None:
        from rag.readers.fence import shared_parser

        parse = shared_parser()
    return parse(kind, source)


def _is_ignored(name: str) -> bool:
    """Hidden files and folders, and Office lock files (``~$rapport.docx``): never sources."""
    return name.startswith((".", "~$"))


def _walk(folder: Path, skipped: list[str]) -> list[Path]:
    """The files of a supported format under ``folder``, recursively; the others are reported."""
    found: list[Path] = []
    errors: list[OSError] = []
    for root, dirs, files in os.walk(folder, onerror=errors.append):
        dirs[:] = sorted(d for d in dirs if not _is_ignored(d))
        for name in sorted(files):
            if _is_ignored(name):
                continue
            path = Path(root, name)
            if path.is_symlink() and not _points_inside(path, folder):
                skipped.append(f"{path.relative_to(folder).as_posix()} : lien vers un fichier hors du dossier, ignoré.")
            elif kind_of(path) is None:
                skipped.append(_unsupported(path.relative_to(folder).as_posix(), path))
            else:
                found.append(path)
    skipped.extend(f"{error.filename} : dossier illisible ({error.strerror}), ignoré." for error in errors)
    skipped[:] = [printable(line) for line in skipped]
    return sorted(found)


def _points_inside(link: Path, folder: Path) -> bool:
    """Whether a symbolic link found in ``folder`` leads to a file inside it (a broken link
    counts as inside: it is reported as broken when read)."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # broken, or a loop of links
        return True
    return target.is_relative_to(folder.resolve())


def find_sources(paths: Iterable[Path], skipped: list[str] | None = None) -> Iterator[Path]:
    """Files to index: the files given, and those of a supported format under the folders given.

    Folders are walked recursively, in sorted order, hidden files and folders left
    out; a file of another format found there is reported in ``skipped`` (when given)
    with the reason. Each file comes once, however many times it is named.
    """
    skipped = [] if skipped is None else skipped
    seen: set[Path] = set()
    for path in paths:
        candidates = _walk(path, skipped) if path.is_dir() else [path]
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                yield candidate


def _missing(path: Path) -> str:
    if path.is_symlink():
        return printable(f"{path.name} : lien symbolique cassé, ignoré.")
    return printable(f"{path} : introuvable, ignoré.")


def load_documents(paths: Iterable[Path], *, parse: Parser | None = None) -> tuple[list[Document], list[str]]:
    """Read every source; return the documents and one message per file skipped."""
    documents: list[Document] = []
    skipped: list[str] = []
    seen_ids: set[str] = set()
    for path in find_sources(paths, skipped):
        if not path.exists():
            skipped.append(_missing(path))
            continue
        base_id = slugify(path.stem)
        doc_id, n = base_id, 2
        while doc_id in seen_ids:
            doc_id, n = f"{base_id}-{n}", n + 1
        try:
            document = read_document(path, doc_id=doc_id, parse=parse)
        except DocumentError as error:
            log.warning("%s", error)
            skipped.append(str(error))
            continue
        seen_ids.add(doc_id)
        documents.append(document)
    return documents, skipped
