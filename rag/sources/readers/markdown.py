"""Markdown articles (``.md``, ``.markdown``): the seeds' layout, plus what Markdown marks.

A leading ``# Titre`` heading (or ``Titre`` underlined with ``===``) is the headline;
a date line and a rubric may come before it, as in the seeds, and a YAML front
matter block (``---`` … ``---``) may give ``title``, ``date`` and ``author``.
In the body, heading markers, rules, quote marks and emphasis are removed, and
links keep their text: what is left is the prose a reader sees.

>>> strip_markup("## Contexte\\n\\nUn **grand** pas, [lire](https://example.org) *vite*.")
'Contexte\\n\\nUn grand pas, lire vite.'
"""

from __future__ import annotations

import re
from dataclasses import replace

from rag.sources.dates import parse_french_date
from rag.sources.documents import Document, parse_article
from rag.sources.readers.encoding import decode_text
from rag.sources.readers.source import SourceFile

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<block>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_FIELD = re.compile(r"^(?P<key>[A-Za-z_]+)\s*:\s*(?P<value>.*?)\s*$", re.MULTILINE)
_HEADING = re.compile(r"^[ \t]{0,3}(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_SETEXT = re.compile(r"^(?P<text>[^\n#>\-*+ ][^\n]*)\n(?P<underline>=+|-{2,})[ \t]*$", re.MULTILINE)
_RULE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$\n?", re.MULTILINE)
_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[(?P<text>[^\]]+)\]\([^)]*\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(?P<text>.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(?P<text>[^*_\n]+?)(?<=\S)\1(?![\w*])")


def read_markdown(source: SourceFile) -> Document:
    """Decode the file, read its front matter and headline, and strip the markup from the rest."""
    text = decode_text(source.raw, source.name).lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    fields, text = split_front_matter(text)
    text = _SETEXT.sub(_atx_heading, text)
    if not text.strip():
        raise source.skip("fichier vide")
    headline = _leading_heading(text)
    document = parse_article(
        strip_markup(text),
        source=source.source,
        doc_id=source.doc_id,
        sha256=source.sha256,
        kind="markdown",
        headline=headline,
    )
    return replace(
        document,
        title=fields.get("title") or document.title,
        date=parse_french_date(fields.get("date", "")) or document.date,
        author=fields.get("author") or document.author,
    )


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """The simple ``key: value`` fields of a leading YAML block, and the text after it.

    >>> split_front_matter('---\\ntitle: "Un titre"\\ndate: 2025-03-27\\n---\\nLe texte.')
    ({'title': 'Un titre', 'date': '2025-03-27'}, 'Le texte.')
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields = {
        field["key"].lower(): field["value"].strip("\"'")
        for field in _FRONT_MATTER_FIELD.finditer(match["block"])
        if field["value"].strip("\"'")
    }
    return fields, text[match.end() :]


def strip_markup(text: str) -> str:
    """Text without heading markers, rules, quote marks, emphasis, link targets and image addresses."""
    text = _HEADING.sub(lambda m: m["text"], text)
    text = _RULE.sub("", text)
    text = _QUOTE.sub("", text)
    text = _IMAGE.sub(lambda m: m["alt"], text)
    text = _LINK.sub(lambda m: m["text"], text)
    text = _STRONG.sub(lambda m: m["text"], text)
    text = _EMPHASIS.sub(lambda m: m["text"], text)
    return _BLANK_RUN.sub("\n\n", text)


def _atx_heading(match: re.Match[str]) -> str:
    """``Titre`` underlined with ``===`` (or ``---``) is written ``# Titre`` (or ``## Titre``)."""
    hashes = "#" if match["underline"].startswith("=") else "##"
    return f"{hashes} {match['text'].strip()}"


def _leading_heading(text: str) -> str | None:
    """The text of the first level-1 heading, if only header lines (date, rubric) come before it."""
    for line in text.split("\n"):
        if not line.strip():
            continue
        heading = _HEADING.match(line)
        if heading and len(heading["hashes"]) == 1:
            return strip_markup(heading["text"]).strip() or None
        if heading or len(line.strip()) > 80 or line.rstrip().endswith((".", "!", "?", "…")):
            return None  # a paragraph or another heading first: no leading headline
    return None
