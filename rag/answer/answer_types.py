"""What kind of answer a question asks for, and whether a span or a sentence gives one.

«Quel est le montant…» asks for a sum of money, «Combien…» for a number, «Quand…» for a
date, «À quelle adresse…» for a street, «Comment s'appelle…» for a name. An
answer of another kind is refused (:mod:`rag.answer.reading`) and a sentence of another kind
is never quoted (:meth:`rag.answer.checking.AnswerChecker.quotation`).

Each kind has *strong* marks, which say it anywhere («2025», «mars», «douze»), and *weak*
ones, which say it only at the start of a short span: «une heure et demie», «au sixième match», «après
la guerre», «à la fin du XIXe siècle». A sentence, which always holds some «un» or «après»,
must show a strong mark. The marks were checked against PIAF's gold answers: ``python -m eval
answer-types`` counts the gold answers each kind would refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEAD_WORDS = 3  # a weak mark counts among a span's first words only,
SHORT_SPAN = 6  # and in a short span: «Un stockage des données au sein de l'Union…» is no count

_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
_WEEKDAYS = "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"


def _words(alternatives: str) -> re.Pattern:
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


@dataclass(frozen=True)
class AnswerType:
    name: str
    asks: re.Pattern  # matches a question asking for this kind
    strong: re.Pattern  # a mark of the kind anywhere
    weak: re.Pattern | None = None  # a mark of the kind at a span's start

    def in_sentence(self, text: str) -> bool:
        """Whether a sentence gives an answer of this kind (a strong mark)."""
        return bool(self.strong.search(text))

    def in_span(self, text: str) -> bool:
        """Whether a span is an answer of this kind: a strong mark, or a weak one at its start.

        >>> NUMBER.in_span("une heure et demie"), NUMBER.in_span("Xavier Niel, et un sommet")
        (True, False)
        >>> NUMBER.in_span("Un stockage des données au sein de l'Union européenne")
        False
        """
        if self.strong.search(text):
            return True
        words = text.split()
        return (
            self.weak is not None and len(words) <= SHORT_SPAN and bool(self.weak.search(" ".join(words[:LEAD_WORDS])))
        )


MONEY = AnswerType(
    "somme",
    re.compile(
        r"\bquel(?:le)?s? (?:est |sera |était |a été )?(?:le |la |l')?(?:montant|loyer|salaire|rémunération|coût)\b"
        r"|\bcombien (?:co[uû]t|gagn|rapport|vaut|valai|pay)|\bà combien s'élève",
        re.IGNORECASE,
    ),
    re.compile(
        r"[€$£¥]|\b(?:euros?|dollars?|livres?|francs?|yens?|yuans?|roubles?|roupies?|pesos?|marks?|centimes?"
        r"|cents|millions?|milliards?|M€|Md€|k€)\b",
        re.IGNORECASE,
    ),
)
NUMBER = AnswerType(
    "nombre",
    re.compile(
        r"^(?:\S+\s+){0,3}combien\b|\bquel(?:le)?s? (?:est |sera |était )?(?:le |la |l')?"
        r"(?:âge|nombre|chiffre|capacité|prix|budget|somme|taux|effectif)\b",  # a sum asked: MONEY, first
        re.IGNORECASE,
    ),
    re.compile(
        r"\d|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt"
        r"|trente|quarante|cinquante|soixante|cent|cents|mille|millions?|milliards?|milliers?|dizaines?"
        r"|centaines?)\b",
        re.IGNORECASE,
    ),
    _words(
        r"une?|aucune?|zéro|plusieurs|quelques|seule?|premier|première|\w+ièmes?"  # «au sixième match»
        r"|douzaines?|quinzaines?|vingtaines?|trentaines?|quarantaines?|cinquantaines?"
    ),
)
DATE = AnswerType(
    "date",
    re.compile(r"^(?:\S+\s+){0,2}quand\b|\bquelle date\b|\bquelle année\b|\bdepuis quand\b", re.IGNORECASE),
    re.compile(
        rf"\d|\b(?:{_MONTHS}|{_WEEKDAYS}|années?|mois|semaines?|siècles?|décennies?|antiquité|moyen âge"
        r"|prochain|prochaine|dernier|dernière|plus tard|bientôt|hier|demain|aujourd'hui)\b"
        r"|\b[IVXL]+e\b",  # «au XVIe siècle»
        re.IGNORECASE,
    ),
    _words(
        r"an|ans|jours?|journée|nuit|matin|soir|saison|été|hiver|printemps|automne|époque|moment|début|fin|milieu"
        r"|mort|naissance|avant|après|pendant|durant|lors|dès|depuis|jusqu|à partir"
    ),
)
ADDRESS = AnswerType(
    "adresse",
    re.compile(r"\bquelle adresse\b|\bl'adresse (?:du|de|des)\b", re.IGNORECASE),
    re.compile(
        r"\d|\b(?:rue|avenue|boulevard|bd|place|quai|allée|chemin|route|impasse|cours|square|esplanade|parvis)\b",
        re.IGNORECASE,
    ),
)
NAME = AnswerType(
    "nom",
    re.compile(
        r"\bcomment (?:s'appell|se nomm|s'intitul)|\bquel(?:le)?s? (?:est|était|sont|étaient) (?:le|les) noms?\b"
        r"|\bsous quel nom\b",
        re.IGNORECASE,
    ),
    re.compile(r"[A-ZÀ-ÖØ-Þ]|[«\"]"),  # a name: «Mistral AI», «Le Monde»
    re.compile(r"\w"),  # or a short span: «l'astronomie», «un triptyque»
)
ANSWER_TYPES = (MONEY, NUMBER, DATE, ADDRESS, NAME)  # the first that a question asks for


def asked_type(question: str) -> AnswerType | None:
    """The kind of answer ``question`` asks for, or None for any.

    >>> asked_type("Quel est le loyer du bureau ?").name, asked_type("À quelle adresse est le siège ?").name
    ('somme', 'adresse')
    >>> [asked_type("Quel montant réclamaient-ils ?").in_span(a) for a in ("15 millions", "2 000 euros", "800")]
    [True, True, False]
    >>> [asked_type("Comment s'appellent les syndicats ?").in_span(a) for a in ("le SNJ", "la drave")]
    [True, True]
    >>> asked_type("Comment s'appellent les syndicats ?").in_span("refusé de négocier avec deux syndicats de presse")
    False
    >>> [asked_type("Quand l'arche fut-elle bâtie ?").in_span(a) for a in ("au XVIe siècle", "Xavier Niel")]
    [True, False]
    >>> [asked_type("À quelle adresse est le siège ?").in_span(a) for a in ("12, rue de Rivoli", "À Paris")]
    [True, False]
    >>> asked_type("Qui a fondé Station F ?") is None
    True
    """
    return next((kind for kind in ANSWER_TYPES if kind.asks.search(question)), None)
