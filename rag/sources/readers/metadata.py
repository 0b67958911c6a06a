"""Cleaning the metadata files carry about themselves (PDF info, Word core properties).

Authoring tools fill these fields with placeholders ("Microsoft Word - note.docx",
"Untitled", a user name such as "admin"); only meaningful values are kept.

>>> meaningful_title("Microsoft Word - rapport_final.docx", stem="rapport_final")
>>> meaningful_title("  L'IA en Europe  ", stem="ia")
"L'IA en Europe"
"""

from __future__ import annotations

import re
from datetime import date, datetime

_PLACEHOLDER_TITLES = frozenset(
    {"untitled", "sans titre", "document", "titre", "title", "diapositive 1", "slide 1", "présentation powerpoint"}
)
_PLACEHOLDER_AUTHORS = frozenset(
    {"admin", "administrator", "administrateur", "user", "utilisateur", "auteur", "author", "python-docx"}
)
_TOOL_PREFIX = re.compile(r"^(?:microsoft (?:word|powerpoint|excel)\s*-|untitled\b|document\d*$)", re.IGNORECASE)
_FILE_NAME = re.compile(r"\.(?:docx?|odt|pdf|rtf|txt|indd|tex|dvi|pptx?|xlsx?)$", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")


def meaningful_title(value: object, *, stem: str) -> str | None:
    """``value`` stripped, unless it is empty, a tool's placeholder, a file name or ``stem`` itself."""
    if not isinstance(value, str):
        return None
    title = " ".join(value.split())
    if (
        len(_LETTER.findall(title)) < 3
        or title.lower() in _PLACEHOLDER_TITLES
        or _TOOL_PREFIX.match(title)
        or _FILE_NAME.search(title)
        or title.lower() == stem.lower()
    ):
        return None
    return title


def meaningful_author(value: object) -> str | None:
    """A person's or an organisation's name, not a placeholder account.

    >>> meaningful_author("admin"), meaningful_author(" Claire  Martin ")
    (None, 'Claire Martin')
    """
    if not isinstance(value, str):
        return None
    author = " ".join(value.split())
    if len(_LETTER.findall(author)) < 2 or author.lower() in _PLACEHOLDER_AUTHORS:
        return None
    return author


def iso_day(value: object) -> str | None:
    """``datetime(2025, 3, 27, 10, 5)`` -> ``"2025-03-27"``; None for anything that is not a date.

    >>> iso_day(datetime(2025, 3, 27, 10, 5))
    '2025-03-27'
    """
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return None
