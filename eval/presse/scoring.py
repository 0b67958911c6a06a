"""When an answer to a newsroom question counts as right: one rule per form of gold answer.

The gold answers are short quotations (:mod:`eval.presse.gold`); the bot answers with a short
answer and the sentence it comes from, quoted (or, on its other paths, with sentences). Token
F1 alone would call «Éric Drouet, chauffeur routier» wrong for «Éric Drouet» and would never
credit a quoted sentence, so :func:`is_right` applies the rule of the gold's form:

- **yes/no** (kind ``oui_non``): the answer opens with the gold's «Oui» or «Non»;
- **a list** (kind ``liste``): at least half of the gold's items are named in the answer;
- **figures that sources disagree on** (kind ``chiffres``): every gold figure is in the answer;
- **a cause, a manner, an event, a definition** (kinds ``pourquoi``, ``comment``,
  ``evenement``, ``definition``), and any gold of more than :data:`SHORT_GOLD` words: the
  answer holds at least :data:`OPEN_RECALL` of the gold's content words, in at most
  :data:`MAX_OPEN_WORDS` words (five quoted sentences are no answer);
- **a fact** (the rest): the short answer has a token F1 of at least :data:`MIN_F1` with the
  gold, or holds every gold word with at most :data:`EXTRA_WORDS` more words, or is a part of
  the gold that names its place, person or figure («Seneffe» for «à Seneffe, dans le zoning
  industriel de Feluy»: the quotation that follows gives the rest).

Words are compared as the SQuAD metrics compare them (case, accents, punctuation and articles
aside, :func:`eval.answer_metrics.normalize_answer`), and a figure's thousands separators
are dropped first: «8.000», «8 000» and «8000» are one figure.

>>> is_right("qui", "Éric Drouet", "Éric Drouet, chauffeur routier", "Éric Drouet, chauffeur routier. Selon [1] : …")
True
>>> is_right("combien", "plus de 280 000", "Plus de 280.000 personnes", "…")
True
>>> is_right("oui_non", "Non", "Non. Selon [1] : « … »", "Non. Selon [1] : « … »")
True
"""

from __future__ import annotations

import re
from collections import Counter

from eval.answer_metrics import normalize_answer, token_f1
from eval.presse.gold import PARTS

MIN_F1 = 0.5
EXTRA_WORDS = 8
SHORT_GOLD = 8
OPEN_RECALL = 0.6
MAX_OPEN_WORDS = 120
OPEN_KINDS = frozenset({"pourquoi", "comment", "evenement", "definition"})
# Words that do not carry the answer (after normalize_answer, which already drops articles).
_FILLER = frozenset(
    "a au aux avec ce ces cet cette dans en est et il ils elle elles leur leurs ne on ont ou par pas pour qu que qui"
    " s sa se ses son sont sur y".split()
)
_THOUSANDS = re.compile(r"(?<=\d)[\s.\u00a0\u202f'’](?=\d{3}(?!\d))")


def words(text: str) -> list[str]:
    """The answer's words, compared as the metrics compare them, figures joined.

    >>> words("L'acte IV : 8.000 manifestants [2]")
    ['acte', 'iv', '8000', 'manifestants']
    """
    return normalize_answer(_THOUSANDS.sub("", text)).split()


def content(text: str) -> list[str]:
    return [w for w in words(text) if w not in _FILLER]


def gives_fact(short: str, gold: str) -> bool:
    """The short answer is the fact: F1 ≥ MIN_F1, or every gold word with few more.

    >>> gives_fact("Lausanne", "Lausanne"), gives_fact("Une douzaine", "Éric Drouet")
    (True, False)
    >>> gold = "à Seneffe, dans le zoning industriel de Feluy"
    >>> gives_fact("Seneffe", gold), gives_fact("industriel", gold)
    (True, False)
    >>> gives_fact("Le préfet Amaury de Saint-Quentin, qui a décrété un couvre-feu", "Amaury de Saint-Quentin")
    True
    >>> long = "Selon le ministère de l'Intérieur, qui a compté tous les manifestants de France ce samedi soir"
    >>> gives_fact(long, "ministère de l'Intérieur")
    False
    """
    predicted, expected = words(short), words(gold)
    if not predicted or not expected:
        return False
    if token_f1(" ".join(predicted), " ".join(expected)) >= MIN_F1:
        return True
    if not (Counter(predicted) - Counter(expected)):  # a part of the gold: right when it names its key
        return bool(set(predicted) & key_words(gold))
    return not (Counter(expected) - Counter(predicted)) and len(predicted) <= len(expected) + EXTRA_WORDS


def key_words(gold: str) -> set[str]:
    """The gold's names and figures, as :func:`words` gives them.

    >>> sorted(key_words("à Seneffe, dans le zoning industriel de Feluy"))
    ['feluy', 'seneffe']
    """
    tokens = re.findall(r"[\w'’.-]+", _THOUSANDS.sub("", gold))
    keys = [w for w in tokens if w[:1].isupper() or any(c.isdigit() for c in w)]
    return set(words(" ".join(keys)))


def holds(text: str, part: str) -> bool:
    """Every content word of ``part`` is in ``text`` (its figures included).

    >>> holds("8 000 selon la police [1], 25.000 selon les organisateurs [2]", "25 000 selon les organisateurs")
    True
    >>> holds("8 000 selon la police [1]", "25 000 selon les organisateurs")
    False
    """
    wanted = content(part) or words(part)
    return bool(wanted) and not (Counter(wanted) - Counter(words(text)))


def recall(text: str, gold: str) -> float:
    """Share of the gold's content words in ``text``.

    >>> round(recall("La taxe sur les carburants augmente [1].", "la hausse de la taxe sur les carburants"), 2)
    0.67
    """
    wanted = content(gold) or words(gold)
    if not wanted:
        return 0.0
    return sum((Counter(wanted) & Counter(words(text))).values()) / len(wanted)


def opening_word(text: str) -> str | None:
    match = re.match(r"\W*(oui|non)\b", text, re.IGNORECASE)
    return match.group(1).lower() if match else None


def is_right(kind: str, gold: str, short: str, text: str) -> bool:
    """Whether an answer (``short``: its short answer, ``text``: all of it) gives the gold;
    see the module's docstring for the rule of each kind.

    >>> is_right("liste", "Lausanne ; Genève ; Fribourg", "", "Lausanne [1] et Genève [2].")
    True
    >>> is_right("chiffres", "8 000 selon la police ; 25 000 selon les organisateurs", "", "8 000 selon la police [1].")
    False
    >>> is_right("pourquoi", "contre la hausse des carburants", "", "Ils luttent contre la hausse des carburants [1].")
    True
    """
    if kind == "oui_non":
        return opening_word(text) is not None and opening_word(text) == opening_word(gold)
    parts = [p for p in PARTS.split(gold) if p]
    if kind == "liste" and len(parts) > 1:
        return 2 * sum(holds(text, p) for p in parts) >= len(parts)
    if len(parts) > 1:  # figures that disagree, or any answer in parts: each one
        return all(holds(text, p) for p in parts)
    if kind in OPEN_KINDS or len(words(gold)) > SHORT_GOLD:
        return recall(text, gold) >= OPEN_RECALL and len(words(text)) <= MAX_OPEN_WORDS
    return gives_fact(short or text, gold)


# What a kind of question must get, checked on the answer's own words (the span as the
# passage writes it, before the capital the answer adds): «Qui…» a name, «Combien…» a figure.
_NAME = re.compile(r"(?:^|[\s(«\"'’-])[A-ZÀ-ÖØ-Þ]")
_NUMBER = re.compile(
    r"\d|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt"
    r"|trente|quarante|cinquante|soixante|cent|mille|millions?|milliards?|dizaines?|centaines?|milliers?"
    r"|douzaine|quinzaine|vingtaine|trentaine|quarantaine|cinquantaine|centaine|moitié|tiers|quart|aucun|aucune)\b",
    re.IGNORECASE,
)
_WHEN = re.compile(
    r"\d|\b(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|lundi|mardi"
    r"|mercredi|jeudi|vendredi|samedi|dimanche|hier|demain|aujourd'hui|soir|matin|nuit|semaine|mois|an|ans|année"
    r"|jours?|heures?|midi|minuit|veille|lendemain|week-end|printemps|été|automne|hiver|noël|début|fin)\b",
    re.IGNORECASE,
)
TYPED_KINDS = {"qui": _NAME, "combien": _NUMBER, "quand": _WHEN}


def type_error(kind: str, span: str) -> bool | None:
    """Whether the span answers a «qui», «combien» or «quand» question with the wrong kind of
    words; None for other kinds or no span.

    >>> type_error("qui", "douzaine"), type_error("qui", "un prêtre"), type_error("qui", "Éric Drouet")
    (True, True, False)
    >>> type_error("combien", "une percée des indépendantistes"), type_error("quand", "samedi 1er décembre")
    (True, False)
    """
    pattern = TYPED_KINDS.get(kind)
    if pattern is None or not span.strip():
        return None
    return not pattern.search(span.strip())
