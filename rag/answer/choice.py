"""Which sentence of the retrieved passages the answer is read from.

The reader (:mod:`rag.answer.reader`) gives every sentence of every passage a *mass*: the log
of the summed probability of its spans, less the passage's no-answer score. Within a passage it
ranks sentences well; across passages it compares badly, and a long newsroom question («Quel
commissaire, directeur de la police de la Drôme, a été roué de coups à Valence… ?») names more
than the reader weighs. So the choice adds the question's own words:

    score = mass + LEXICAL_WEIGHT × w × (sentence share + passage share) − RANK_PENALTY × rank

where a *share* is the part of the question's terms (stemmed, without its interrogatives,
weighted by their rarity in the index when it tells it) found in the sentence with its
article's title, or in its whole passage with the title, ``rank`` the passage's rank in the
search (0 the first), and ``w`` = min(1, terms / FULL_TERMS): a question of two terms («Qui
dirige Novalys ?») says little by its words, and any sentence with «diriger» would hold them
all.

The weights were measured on 2026-12-07 by a one-off study whose script was not kept (a
``python -m eval sentence-choice`` was planned and never written), on held-out PIAF searched as
the product searches and on the first half of the newsroom gold set, never on the gold sets'
reported halves: the chosen sentence holds the gold answer for 0.623 of PIAF's questions
(0.621 with the previous rule, the best span's margin less 2 per rank) and 0.56 of the
newsroom's (0.48 before); without ``w``, 0.621 and 0.56, and the dated set's short questions
read worse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rag.answer.reader import Reading
from rag.search.keyword import FrenchAnalyzer
from rag.store.records import Passage

LEXICAL_WEIGHT = 8.0
FULL_TERMS = 6  # the question's terms from which its words weigh fully
RANK_PENALTY = 3.0
# Words of a question that ask rather than say what is asked about (stemmed by the analyzer).
ASKING_WORDS = (
    "quel quelle quels quelles quand comment combien pourquoi quoi qui où est-ce article articles cité citée cite "
    "selon d'après chacun ensemble mentionne évoquent"
)

TermWeights = Callable[[Sequence[str]], Mapping[str, float]]


@dataclass(frozen=True)
class Choice:
    """The sentence chosen, with what the refusal weighs (:mod:`rag.answer.refusal`)."""

    reading: Reading
    rank: int  # the passage's rank in the search
    sentence_share: float  # of the question's terms, in the sentence and its title
    passage_share: float  # in the passage and its title
    score: float  # what the choice maximised


class Overlap:
    """The shares of a question's terms in texts, weighted by ``weights`` (a term's rarity; 1
    for every term without them)."""

    def __init__(self, analyzer: FrenchAnalyzer, question: str, weights: TermWeights | None = None) -> None:
        asking = set(analyzer.terms(ASKING_WORDS))
        self.analyzer = analyzer
        self.terms = [t for t in dict.fromkeys(analyzer.terms(question)) if t not in asking]
        given = weights(self.terms) if weights is not None and self.terms else {}
        self.weights = {t: float(given.get(t, 1.0)) if given else 1.0 for t in self.terms}
        self.total = sum(self.weights.values())
        # what the shares weigh in the choice: a question of few terms says little by its words
        self.weight = LEXICAL_WEIGHT * min(1.0, len(self.terms) / FULL_TERMS)

    def share(self, text: str) -> float:
        """
        >>> overlap = Overlap(FrenchAnalyzer(), "Quel commissaire a été roué de coups à Valence ?")
        >>> overlap.share("Le commissaire a été roué de coups."), overlap.share("Rien à voir.")
        (0.75, 0.0)
        """
        if not self.total:
            return 0.0
        present = set(self.analyzer.terms(text))
        return sum(w for t, w in self.weights.items() if t in present) / self.total


def rank_sentences(readings: Sequence[Reading], passages: Sequence[Passage], overlap: Overlap) -> list[Choice]:
    """Every sentence of ``readings`` (one per sentence: :meth:`rag.answer.reader.Reader.sentence_readings`)
    of ``passages`` (ranked best first), each as a :class:`Choice`, the best first."""
    ranked: list[Choice] = []
    passage_shares: dict[int, float] = {}
    for reading in readings:
        passage = passages[reading.passage]
        if reading.passage not in passage_shares:
            passage_shares[reading.passage] = overlap.share(f"{passage.title}\n{passage.text}")
        start, end = reading.sentence or (reading.start, reading.end)
        sentence_share = overlap.share(f"{passage.title}\n{passage.text[start:end]}")
        passage_share = passage_shares[reading.passage]
        mass = reading.mass if reading.mass is not None else reading.margin
        score = mass + overlap.weight * (sentence_share + passage_share) - RANK_PENALTY * reading.passage
        ranked.append(Choice(reading, reading.passage, sentence_share, passage_share, score))
    return sorted(ranked, key=lambda choice: -choice.score)


def choose_sentence(readings: Sequence[Reading], passages: Sequence[Passage], overlap: Overlap) -> Choice | None:
    """The best :class:`Choice` of :func:`rank_sentences`, or None when nothing reads."""
    ranked = rank_sentences(readings, passages, overlap)
    return ranked[0] if ranked else None
