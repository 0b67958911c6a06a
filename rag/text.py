"""Small text helpers shared by search, citation checking and evaluation."""

from __future__ import annotations

import unicodedata


def fold_accents(text: str) -> str:
    """Remove diacritics, keep everything else: ``"Élève à l’œuvre"`` -> ``"Eleve a l’œuvre"``.

    >>> fold_accents("Élève à l’œuvre")
    'Eleve a l’œuvre'
    """
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
