"""Figures in a span, compared across sources: when articles disagree on a number, a sum or a
share, the answer gives both (:meth:`rag.answer.reading.ReadingAnswerer._other_figure`), and a
figure the question already states is no answer.
"""

from __future__ import annotations

import re

# Figures that sources disagree on (:meth:`ReadingAnswerer._other_figure`): the kinds of answer
# asked, how far below the chosen sentence's score and share another may rank, and the words
# of a question that name its source (then one figure is asked).
FIGURE_TYPES = ("nombre", "somme", "part")
DISAGREEMENT_MARGIN = 4.0
DISAGREEMENT_SHARE = 0.3
SOURCE_NAMED = re.compile(r"\b(?:selon|d'après|d’après|pour)\s+(?:la|le|les|l'|l’)", re.IGNORECASE)
_FIGURE_WORDS = re.compile(
    r"\d+|\b(?:une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante|cinquante"
    r"|soixante|cent|mille|million|milliard|dizaine|douzaine|quinzaine|vingtaine|trentaine|quarantaine|cinquantaine"
    r"|centaine|millier)s?\b",
    re.IGNORECASE,
)


def figures_in(span: str) -> tuple[str, ...]:
    """The figure a span states, as comparable words: thousands separators dropped, number
    words lowercased.

    >>> figures_in("137.200 personnes"), figures_in("137 200"), figures_in("une centaine de personnes")
    (('137200',), ('137200',), ('une', 'centaine'))
    """
    joined = re.sub(r"(?<=\d)[\s.\u00a0\u202f](?=\d{3}\b)", "", span)
    return tuple(word.lower() for word in _FIGURE_WORDS.findall(joined))
