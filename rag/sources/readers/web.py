"""Saved web pages (``.html``, ``.htm``): the article of a news site, without its boilerplate.

trafilatura keeps the main text (no menus, cookie banners, related links, comments
or footer) and reads the metadata: title, author, publication date, site name. The
date comes from the page's metadata only (``<time>``, ``article:published_time``,
JSON-LD...): a date guessed from the text, such as the copyright year, would be
wrong. When the text repeats the headline at its top, that line and any label
before it (the rubric) leave the body. Paragraphs are separated by a blank line,
as in the text articles.
"""

from __future__ import annotations

import re

import trafilatura

from rag.sources.documents import Document, date_of_line, fallback_title, is_title_like
from rag.sources.readers.encoding import declared_charset, decode_text
from rag.sources.readers.source import SourceFile

CHARSET_SNIFF_BYTES = 4096  # where an HTML page declares its charset
HEADER_LINES = 4  # lines at the top of the text that may hold the rubric, headline or date
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
_EXTRACTION = {
    "with_metadata": True,
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    # metadata dates only: an extensive search takes "© 2024" for 2024-01-01
    "date_extraction_params": {"extensive_search": False, "original_date": True},
}


def read_html(source: SourceFile) -> Document:
    """The main text of the page and its metadata; a page with no article text is skipped."""
    html = decode_text(source.raw, source.name, declared=declared_charset(source.raw[:CHARSET_SNIFF_BYTES]))
    try:
        extracted = trafilatura.bare_extraction(html, **_EXTRACTION)
    except Exception as error:  # lxml and trafilatura fail on broken markup with many exception types
        raise source.skip(f"page HTML illisible ({type(error).__name__})") from None
    text = (extracted.text or "").strip() if extracted is not None else ""
    if not text:
        raise source.skip("aucun texte d'article trouvé dans la page")
    site = extracted.sitename or extracted.hostname or None
    title = _clean_title(extracted.title, site)
    rubric, lines = _split_header(text.split("\n"), title)
    body = "\n\n".join(line.strip() for line in lines if line.strip())
    if not body:
        raise source.skip("aucun texte d'article trouvé dans la page")
    return Document(
        doc_id=source.doc_id,
        title=title or fallback_title(body),
        date=_iso_day(extracted.date) or _date_from_text(text),
        source=source.source,
        body=body,
        sha256=source.sha256,
        rubric=rubric or _rubric(extracted.categories),
        author=_clean_author(extracted.author),
        site=site,
        kind="html",
    )


def _clean_title(title: str | None, site: str | None) -> str | None:
    """The headline without the `` - Site`` or `` | Site`` suffix a ``<title>`` often carries.

    >>> _clean_title("Mistral AI lève 600 millions - L'Écho", "L'Écho")
    'Mistral AI lève 600 millions'
    """
    if not title or not title.strip():
        return None
    title = " ".join(title.split())
    if site:
        for separator in (" - ", " | ", " – ", " — ", " : "):
            suffix = f"{separator}{site}"
            if title.endswith(suffix) and len(title) > len(suffix):
                return title[: -len(suffix)]
    return title


def _split_header(lines: list[str], title: str | None) -> tuple[str | None, list[str]]:
    """Remove the headline from the top of the text, with the labels before it (the rubric)."""
    if title:
        for index, line in enumerate(lines[:HEADER_LINES]):
            if " ".join(line.split()) == title:
                labels = [label.strip() for label in lines[:index] if label.strip() and not date_of_line(label)]
                return " · ".join(labels) or None, lines[index + 1 :]
            if not is_title_like(line):
                break
    return None, lines


def _iso_day(value: str | None) -> str | None:
    match = _ISO_DAY.match(value or "")
    return match.group(0) if match else None


def _date_from_text(text: str) -> str | None:
    """A French date line at the top of the text ("Publié le 11 juin 2024"), when the metadata has none."""
    for line in text.split("\n")[:HEADER_LINES]:
        if date := date_of_line(line):
            return date
    return None


def _rubric(categories: list[str] | None) -> str | None:
    return " · ".join(category.strip() for category in categories or [] if category.strip()) or None


def _clean_author(author: str | None) -> str | None:
    """trafilatura joins several authors with ``"; "``: a list in French reads with commas."""
    if not author or not author.strip():
        return None
    return ", ".join(name.strip() for name in author.split(";") if name.strip())
