"""What every source becomes: a :class:`Document` (title, ISO date, source, body, sha256), and
how an article's text is laid out into one.

Reading files is :mod:`rag.sources.files`; each format's reader (:mod:`rag.sources.readers`)
calls the helpers here. The seeds show the layout of a plain-text article, which :func:`parse_article` reads::

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
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError
from rag.sources.dates import parse_french_date

log = logging.getLogger(__name__)

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
