"""Whether an answer states a key point: the matching rule of the open questions' eval.

A key point (TREC RAG's «nugget») carries 1 to 3 *keys*, the words a statement of it cannot do
without; a key lists its alternatives with «|» («référendum|RIC»). An answer states the point
when it holds every key, in one of its forms. Words are compared folded (case, accents,
apostrophes and punctuation aside, a figure's thousands separators dropped) and each word of a
key may take up to three more letters at its end («manifestant» holds «manifestants»,
«taxe» «taxes», «bloqué» «bloquées»), never letters before it.

>>> states("Ils réclament la baisse des taxes sur le carburant [1].", ("taxe", "carburant|essence"))
True
>>> states("Ils réclament le référendum d'initiative citoyenne [2].", ("RIC|référendum d'initiative citoyenne",))
True
>>> states("Ils réclament la baisse des taxes [1].", ("taxe", "carburant|essence"))
False
>>> states("Plus de 282 000 manifestants.", ("282.000",))
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.text import fold_accents

SUFFIX = 3  # letters a key's word may gain at its end (plural, feminine, participle)


def fold(text: str) -> str:
    """Lowercase, accents and punctuation aside, thousands separators dropped, one space apart.

    >>> fold("L’acte IV : 8.000 «Gilets jaunes» à Paris")
    'l acte iv 8000 gilets jaunes a paris'
    """
    text = fold_accents(text.lower()).replace("’", "'")
    text = re.sub(r"(?<=\d)[.\s\u00a0\u202f](?=\d{3}\b)", "", text)
    return " ".join(re.findall(r"\w+", text))


def _pattern(alternative: str) -> re.Pattern[str] | None:
    words = fold(alternative).split()
    if not words:
        return None
    body = r"\s".join(rf"{re.escape(w)}\w{{0,{SUFFIX}}}" for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)")


def key_in(key: str, folded_text: str) -> bool:
    """Whether one of the key's alternatives («a|b») is in the (folded) text."""
    return any(p is not None and p.search(folded_text) for p in map(_pattern, key.split("|")))


def states(answer: str, keys: Sequence[str]) -> bool:
    """Whether ``answer`` states a key point: it holds each of its ``keys``."""
    folded = fold(answer)
    return bool(keys) and all(key_in(key, folded) for key in keys)
