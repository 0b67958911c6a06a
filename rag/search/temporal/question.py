"""The dates a question is about, read from its French words: a :class:`DateScope`.

«Quel taux d'inflation en octobre 2024 ?» asks about the articles of October 2024: the words
become a range of publication dates (inclusive ISO days, either end open), the search runs on
what is left («Quel taux d'inflation ?»), and the answer is headed «articles d'octobre 2024».
Rules, not a model: a question's dates are few and their forms known, and a wrong scope hides
the right article, so every form below is tested and anything else is left alone.

- a year, a month, a season, a day after a preposition that says *when*: «en 2024»,
  «en octobre 2024», «d'octobre 2024», «au printemps 2025», «à l'automne», «l'été 2024»;
  a month or season without a year is the latest one begun by the corpus's newest article
  (``anchor``; today when unknown): «en mars» over an archive of 2019 is March 2019;
- ranges: «depuis …», «à partir de …», «avant …», «après …», «jusqu'en …», «entre … et …»,
  «du … au …», «de … à …»;
- relative to today (injected: tests and the eval fix it): «hier», «cette semaine», «la
  semaine dernière», «ce mois-ci», «le mois dernier», «cette année», «l'an dernier», «il y a
  3 mois», «depuis 10 jours», «ces 2 derniers mois», «depuis le début de l'année»;
- an ordering: «le plus récent», «la dernière annonce», «récemment» (latest first); «le plus
  ancien», «le premier article» (earliest first).

Seasons are astronomical: spring from 20 March, summer from 21 June, autumn from 23
September, winter from 21 December to 19 March (the winter «of 2024» begins in December 2024).

A date that is the question's subject is not a scope: a date after today («les embauches
prévues en 2026»: no article is published in the future), a bare year («le budget de 2023»,
which an article of 2024 may report), a number that is not a year («2 000 emplois», «1,5
milliard»).

>>> from datetime import date
>>> today = date(2025, 6, 15)
>>> scoped = parse_scope("Quel était le taux d'inflation en octobre 2024 ?", today)
>>> scoped.scope.start, scoped.scope.end, scoped.scope.label, scoped.question
('2024-10-01', '2024-10-31', "articles d'octobre 2024", "Quel était le taux d'inflation ?")
>>> parse_scope("Qu'a annoncé Novalys le mois dernier ?", today).scope.label
'articles de mai 2025'
>>> parse_scope("Combien de postes Novalys a-t-elle créés en 2026 ?", today).scope is None
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rag.answer.citations import content_words
from rag.search.followup import standalone_question
from rag.search.temporal.phrases import find_ordering, find_ranges, ordering_label
from rag.search.temporal.scope import DateScope


@dataclass(frozen=True)
class ScopedQuestion:
    """A question's :class:`DateScope` (None: no dates asked) and the question without the
    words that said it, for the search."""

    scope: DateScope | None
    question: str


def _cut(question: str, spans: Sequence[tuple[int, int]]) -> str:
    """``question`` less ``spans``, its spaces and punctuation tidied.

    >>> _cut("Quel taux en octobre 2024 ?", [(10, 25)])
    'Quel taux ?'
    >>> _cut("En 2024, quel budget ?", [(0, 7)])
    'Quel budget ?'
    """
    for start, end in sorted(spans, reverse=True):
        question = question[:start] + " " + question[end:]
    question = " ".join(question.split())
    question = re.sub(r"\s+([,.])", r"\1", question)
    question = re.sub(r",(?=\s*[,.?!;:…])", "", question)
    question = re.sub(r"^[,;:]\s*", "", question)
    question = re.sub(r"(?i)\s(?:de|d'|du|des|et|à|en|selon|dans)(\s*[?.!]*)$", r"\1", question)
    question = re.sub(r"\s+([?!])$", r" \1", question)
    question = re.sub(r"\b([lL])[ae]\s+(?=[aeiouéèêâîôûAEIOUÉ])", r"\1'", question)  # «le article» -> «l'article»
    if question[:1].islower():
        question = question[:1].upper() + question[1:]
    return question or "?"


def parse_scope(question: str, today: date, anchor: date | None = None) -> ScopedQuestion:
    """The :class:`DateScope` of ``question`` (None when it names no dates) and the question
    without its date words. The first range found wins; an ordering may join it.

    >>> from datetime import date
    >>> today = date(2025, 6, 15)
    >>> def show(q):
    ...     s = parse_scope(q, today)
    ...     return (s.scope.start, s.scope.end, s.scope.order, s.scope.label) if s.scope else None
    >>> show("Quelles grèves depuis mars 2025 ?")
    ('2025-03-01', None, None, 'articles depuis mars 2025')
    >>> show("Que disaient les articles entre janvier et mars 2025 ?")
    ('2025-01-01', '2025-03-31', None, 'articles entre janvier et mars 2025')
    >>> show("Combien de festivaliers à l'été 2024 ?")
    ('2024-06-21', '2024-09-22', None, "articles de l'été 2024")
    >>> show("Quel est le taux d'inflation le plus récent ?")
    (None, None, 'latest', "l'article le plus récent")
    >>> show("Qu'a dit la mairie en mars ?")
    ('2025-03-01', '2025-03-31', None, 'articles de mars 2025')
    >>> show("Qu'a annoncé Novalys la semaine dernière ?")
    ('2025-06-02', '2025-06-08', None, 'articles de la semaine du 2 au 8 juin 2025')
    >>> show("Combien de personnes, 2 000 ou 1,5 milliard ?") is None
    True
    """
    ranges = find_ranges(question, today, anchor)
    order, order_spans = find_ordering(question)
    if not ranges and order is None:
        return ScopedQuestion(None, question)
    spans = [(s, e) for s, e, _ in ranges] + [
        span for span in order_spans if all(span[1] <= s or span[0] >= e for s, e, _ in ranges)
    ]
    if ranges:
        scope = ranges[0][2]
        if order:
            first = "le plus récent" if order == "latest" else "le plus ancien"
            scope = DateScope(scope.start, scope.end, order, f"{scope.label}, {first} d'abord", scope.empty)
    else:
        scope = DateScope(order=order, label=ordering_label(order))
    return ScopedQuestion(scope, _cut(question, spans))


def scoped_search(
    question: str, history: Sequence[str], today: date, anchor: date | None = None
) -> tuple[DateScope | None, str]:
    """The dates of the user's latest ``question`` in a conversation (or, when it names none,
    of the conversation's earlier questions) and the question as searched: made standalone
    (:func:`rag.search.followup.standalone_question`), without date words.

    A follow-up that only changes the dates («Et en 2024 ?») searches the earlier question
    with the new dates:

    >>> from datetime import date
    >>> today = date(2025, 6, 15)
    >>> scope, search = scoped_search("Et en 2024 ?", ["Quel budget la ville a-t-elle voté en 2025 ?"], today)
    >>> scope.label, search
    ('articles de 2024', 'Quel budget la ville a-t-elle voté ?')
    >>> scope, search = scoped_search("Qui l'a présenté ?", ["Quel budget a été voté en mars 2025 ?"], today)
    >>> scope.label, search
    ('articles de mars 2025', "Qui l'a présenté ? (à propos de : Quel budget a été voté ?)")
    """
    own = parse_scope(question, today, anchor)
    if not history:
        return own.scope, own.question
    dates_only = own.scope is not None and not content_words(re.sub(r"(?i)^\s*(?:et|mais|alors)\b", "", own.question))
    standalone = standalone_question("" if dates_only else question, history)
    inherited = parse_scope(standalone, today, anchor)
    return own.scope or inherited.scope, inherited.question
