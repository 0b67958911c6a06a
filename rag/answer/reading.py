"""Answers read, not written: the reader, yes/no and metadata paths (:mod:`rag.answer.routing`).

:class:`ReadingAnswerer` takes the question (as searched) and the retrieved passages, and
returns one of three things:

- a composed answer (:mod:`rag.answer.compose`);
- a refusal (no composition), with the confidence that decided it;
- ``None``, when the question is for the LLM (summaries, lists).

The refusal decision is one probability, calibrated on held-out PIAF (never on the gold
sets), that combines the reader's margin with what the answer check knows
(:class:`rag.answer.reader.Calibration`):

- the reader's margin: its best span's score against its no-answer score;
- the share of the question's terms the passages hold (:meth:`AnswerChecker.coverage`);
- whether the question names something no passage mentions (:meth:`AnswerChecker.missing_name`:
  «… un bureau à Madrid ?»).

Such a question is refused whatever the reading: on held-out PIAF, with the threshold chosen
for the same share of answerable questions refused, this refuses 81 % of the questions with a
swapped name instead of 75 %, for the same span F1 (:mod:`eval.studies.reader_calibration`).

A question across articles is read article by article, and the answer joins what was read
in each (:meth:`ReadingAnswerer._across`); one on what the articles have in common gets the
names their quoted sentences share (:mod:`rag.answer.shared`).

A yes/no question is refused on the answer check's signals alone (:meth:`ReadingAnswerer._yes_no`).

The bot refuses below ``min_confidence`` (default: the threshold of the refusal model,
``rag/answer/weights/refusal.json``, fitted on near misses to refuse at most 8 % of the
answerable fitting readings: :mod:`rag.answer.refusal`). Then «Combien…» needs a
number in the span, «Quand…» a date and «À quelle adresse…» a street
(:func:`rag.answer.answer_types.asked_type`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer.answer_types import asked_type
from rag.answer.checking import AnswerChecker
from rag.answer.choice import RANK_PENALTY, Choice, Overlap, TermWeights, rank_sentences
from rag.answer.compose import (
    Composition,
    Part,
    closing_passage,
    compose_across,
    compose_date,
    compose_field,
    compose_sentence,
    compose_shared,
    compose_span,
    compose_yes_no,
    quoted_range,
    sentence_around,
)
from rag.answer.figures import DISAGREEMENT_MARGIN, DISAGREEMENT_SHARE, FIGURE_TYPES, SOURCE_NAMED, figures_in
from rag.answer.gathering import Gathered, gather
from rag.answer.generation import Generator
from rag.answer.reader import Reader, Reading
from rag.answer.refusal import RefusalModel, features
from rag.answer.routing import asked_field, asks_explanation, asks_shared, route, without_scope
from rag.answer.shared import shared_names
from rag.answer.yes_no import YES_NO_PROMPT, denies, opening_yes_no
from rag.search.evidence import Evidence
from rag.search.followup import own_question
from rag.search.keyword import FrenchAnalyzer
from rag.sources.documents import Document
from rag.store.records import Passage

# The phrasing prompt: the model turns the span into one sentence, from the quoted sentence.
PHRASE_PROMPT = """Écris une phrase complète qui répond à la question avec la réponse courte donnée.

Extrait : « Le nouveau train relie Lyon à Turin en quatre heures. »
Question : Combien de temps dure le trajet ?
Réponse courte : quatre heures
Phrase : Le trajet entre Lyon et Turin dure quatre heures.

Extrait : « {sentence} »
Question : {question}
Réponse courte : {span}
Phrase :"""


# A person's name: one to four capitalised words, with their particles («Olivier Verot», «Anne de Vries»).
_PERSON = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'’.-]*(?:\s+(?:(?:de|du|des|d'|von|van|le|la)\s*)?[A-ZÀ-ÖØ-Þ][\w'’.-]*){0,3}")


def is_person_name(text: str) -> bool:
    """Whether ``text`` reads as a person's name.

    >>> is_person_name("Olivier Verot"), is_person_name("Anne de Vries"), is_person_name("l'innovation technologique")
    (True, True, False)
    """
    return bool(_PERSON.fullmatch(text.strip().rstrip(".,")))


# Characters of an article's last paragraph read for its author (:meth:`ReadingAnswerer._about_article`).
CLOSING_SIZE = 800
# A question across articles: passages retrieved per article read, and articles read at most.
ACROSS_DEPTH = 2
# An open question's sentence that holds none of its words is kept only from a passage that
# holds this share of them: «Ils dénoncent la taxe.» follows a sentence naming the blockade.
OPEN_PASSAGE_SHARE = 0.5
MAX_ARTICLES = 3


@dataclass(frozen=True)
class Weighing:
    """A reading of the passages: the sentence chosen, the probability that it holds the answer,
    what that probability weighed (:func:`rag.answer.refusal.features`), and every sentence ranked."""

    choice: Choice
    probability: float
    values: dict[str, float]
    ranked: tuple[Choice, ...]


@dataclass(frozen=True)
class ReadAnswer:
    path: str  # "reader", "yesno", "metadata" or "across"
    composition: Composition | None  # None: refused
    confidence: float | None  # the reader's, when it read
    extra: tuple[Passage, ...] = ()  # passages read beyond the retrieved ones, cited after them


class ReadingAnswerer:
    def __init__(
        self,
        reader: Reader,
        generator: Generator | None,
        checker: AnswerChecker,
        *,
        min_confidence: float,
        phrase: bool = False,
        yes_no: str = "read",
        documents: Callable[[str], Document | None] | None = None,
        refusal: RefusalModel | None = None,
        term_weights: TermWeights | None = None,
    ) -> None:
        self.reader = reader
        self.generator = generator  # for yes/no; without one, yes/no questions go to the LLM path
        self.checker = checker
        self.min_confidence = min_confidence
        self.phrase = phrase and generator is not None  # the LLM phrases the span in a sentence
        self.yes_no = yes_no  # "read": oui or non read from the sentence; "llm": the LLM chooses
        self.documents = documents  # a document by its id (the store's), for its author, rubric, outlet
        # Whether to answer: the model fitted on near misses (rag.answer.refusal); without it,
        # the reader's own calibration (its margin, the coverage and the names).
        self.refusal = refusal
        self.term_weights = term_weights  # the index's weight for a term (its rarity), for the sentence choice
        self._analyzer = FrenchAnalyzer()

    def depth(self, question: str, top_k: int) -> int:
        """How many passages to retrieve for ``question``: more for a question across articles
        or an open one, so that several articles are among them."""
        return top_k * ACROSS_DEPTH if route(own_question(question)) in ("across", "open") else top_k

    def is_open(self, question: str) -> bool:
        """Whether ``question`` is open (:func:`rag.answer.routing.route`): its answer is gathered
        across articles (:meth:`gather`), not read in one span."""
        return route(own_question(question)) == "open"

    def gather(self, question: str, passages: Sequence[Passage], evidence: Sequence[Evidence]) -> list[Gathered]:
        """The sentences of ``passages`` that answer an open ``question`` (:mod:`rag.answer.gathering`),
        none when the passages cannot answer it: they hold too few of its words, or it names
        something none mentions (:meth:`rag.answer.checking.AnswerChecker.refusal_reason`'s two
        tests)."""
        asked = without_scope(question)
        if self.checker.coverage(asked, evidence) < self.checker.min_coverage:
            return []
        # A name of the question itself, not of the context a follow-up carries: «Que s'est-il
        # passé à Bandol ?» after a question on Toulon needs Bandol, not Toulon.
        if self.checker.missing_name(without_scope(own_question(question)), evidence):
            return []
        readings = self.reader.sentence_readings(own_question(question), [p.text for p in passages])
        ranked = rank_sentences(readings, passages, Overlap(self._analyzer, question, self.term_weights))
        return gather([c for c in ranked if c.sentence_share > 0 or c.passage_share >= OPEN_PASSAGE_SHARE], passages)

    def answer(self, question: str, passages: Sequence[Passage], evidence: Sequence[Evidence]) -> ReadAnswer | None:
        path = route(own_question(question))
        if path == "open":  # without the open path (the pipeline's open_answer "off"): as before it
            path = "reader" if asks_explanation(own_question(question)) else "llm"
        if path == "llm" or (path == "yesno" and self.yes_no == "llm" and self.generator is None):
            return None
        if path == "metadata":
            about = self._about_article(question, passages)
            if about is not None:
                return about
            path = "reader"
        if path != "yesno" and self.checker.missing_name(without_scope(question), evidence):
            return ReadAnswer(path, None, None)  # «… un bureau à Milan ?»: no passage names Milan
        if path == "across":
            return self._across(question, passages, evidence)
        if path == "yesno":
            return self._yes_no(question, passages, evidence)
        weighed = self.weigh(question, passages, evidence)
        if weighed is None or weighed.probability < self.min_confidence:
            return ReadAnswer(path, None, None if weighed is None else weighed.probability)
        reading, confidence = weighed.choice.reading, weighed.probability
        number, passage = reading.passage + 1, passages[reading.passage]
        if not self._typed(question, reading):
            return ReadAnswer(path, None, confidence)
        if asks_explanation(own_question(question)):
            composed = compose_sentence(passage, number, reading.start, reading.end)
        elif (other := self._other_figure(question, weighed, passages)) is not None:
            first = Part(reading.text, passage, number, reading.start, reading.end)
            second = other.reading
            composed = compose_across(
                [first, Part(second.text, passages[second.passage], second.passage + 1, second.start, second.end)]
            )
        else:
            composed = compose_span(reading.text, passage, number, reading.start, reading.end)
            if self.phrase:
                composed = self._phrased(question, composed, evidence[reading.passage]) or composed
        return ReadAnswer("reader", composed, confidence)

    def _other_figure(self, question: str, weighed: Weighing, passages: Sequence[Passage]) -> Choice | None:
        """For «Combien… ?», another article's figure for the same fact, when sources disagree
        («une centaine de personnes» [1], «environ 200 manifestants» [2]): a sentence of another
        article, scored close to the chosen one whatever its passage's rank (:data:`DISAGREEMENT_MARGIN`), as much about
        the question (:data:`DISAGREEMENT_SHARE`), whose span is a figure of the kind asked and
        another figure. None when the question names one source («selon la police») or when no
        sentence qualifies."""
        wanted = asked_type(own_question(question))
        if wanted is None or wanted.name not in FIGURE_TYPES or len(SOURCE_NAMED.findall(question)) == 1:
            return None  # «selon la police, combien… ?» asks one source's figure; «selon X et selon Y», both
        best = weighed.choice
        figure = figures_in(best.reading.text)
        if not figure:
            return None
        for other in weighed.ranked[1:]:
            # Sources are compared on what they say, not on where the search ranked them.
            if other.score + RANK_PENALTY * other.rank < best.score + RANK_PENALTY * best.rank - DISAGREEMENT_MARGIN:
                continue
            if passages[other.rank].doc_id == passages[best.rank].doc_id:
                continue
            if other.sentence_share < best.sentence_share - DISAGREEMENT_SHARE:
                continue
            if not wanted.in_span(other.reading.text):
                continue
            found = figures_in(other.reading.text)
            if found and not set(found) & set(figure):  # «111 000 (sur 251 000)» and «111 000»: one fact
                return other
        return None

    def _about_article(self, question: str, passages: Sequence[Passage]) -> ReadAnswer | None:
        """What the question asks about the best-ranked passage's article, from its metadata
        (:func:`rag.answer.routing.asked_field`), or None to read the passages instead.

        An author the metadata does not give is read in the article's last paragraph, where
        news sites put their author box; found nowhere, the question is refused: a name read
        elsewhere in the article is not its author («Qui a écrit… ?» is not «Hubert Aiwanger»,
        the minister quoted)."""
        field, top = asked_field(own_question(question)), passages[0]
        if field == "date":
            dated = compose_date(top, 1)
            return None if dated is None else ReadAnswer("metadata", dated, None)
        document = self.documents(top.doc_id) if self.documents is not None else None
        if document is None:
            return None
        value = getattr(document, field, None)
        if value:
            return ReadAnswer("metadata", compose_field(field, value, top, 1), None)
        if field != "author":
            return None
        closing = closing_passage(document, CLOSING_SIZE)
        reading = self.reader.read(own_question(question), [closing.text]) if closing else None
        if reading is None:
            return ReadAnswer("metadata", None, None)
        confidence = self.reader.confidence(reading, 1.0, False)  # the question's terms are not the box's
        if confidence < self.min_confidence or not is_person_name(reading.text):
            return ReadAnswer("metadata", None, confidence)
        for index, passage in enumerate(passages):  # already among the retrieved passages: cite it there
            if passage.doc_id == closing.doc_id and passage.start <= closing.start and closing.end <= passage.end:
                shift = closing.start - passage.start
                start, end = reading.start + shift, reading.end + shift
                return ReadAnswer("metadata", compose_span(reading.text, passage, index + 1, start, end), confidence)
        number = len(passages) + 1
        composed = compose_span(reading.text, closing, number, reading.start, reading.end)
        return ReadAnswer("metadata", composed, confidence, extra=(closing,))

    def _read(
        self, question: str, passages: Sequence[Passage], evidence: Sequence[Evidence]
    ) -> tuple[Reading | None, float | None]:
        """The reading of ``passages`` (its sentence chosen by :mod:`rag.answer.choice`) and the
        probability that it holds the answer (None, None without one)."""
        weighed = self.weigh(question, passages, evidence)
        return (None, None) if weighed is None else (weighed.choice.reading, weighed.probability)

    def weigh(self, question: str, passages: Sequence[Passage], evidence: Sequence[Evidence]) -> Weighing | None:
        """Every sentence of ``passages`` ranked, the best chosen, and the probability that it
        holds the answer (:mod:`rag.answer.refusal`); None when no passage reads. The answer
        check's signals look at the question over ``evidence``."""
        readings = self.reader.sentence_readings(own_question(question), [p.text for p in passages])
        ranked = rank_sentences(readings, passages, Overlap(self._analyzer, question, self.term_weights))
        if not ranked:
            return None
        # A question that asks a kind of answer («Quand… ?», «Combien… ?») is read from the best
        # sentence whose span is of that kind, when one is: a better-ranked sentence without a
        # date cannot answer «Quand… ?» and would only be refused.
        typed = [choice for choice in ranked if self._typed(question, choice.reading)]
        ranked = typed + [choice for choice in ranked if choice not in typed]
        coverage = self.checker.coverage(question, evidence)
        missing = self.checker.missing_name(question, evidence)
        values = features(
            ranked[0], coverage, missing, asks_explanation(own_question(question)),
            self._similarity(question, passages[ranked[0].rank], ranked[0].reading),
        )  # fmt: skip
        if self.refusal is not None:
            probability = self.refusal.probability(values)
        else:
            probability = self.reader.confidence(ranked[0].reading, coverage, missing)
        return Weighing(ranked[0], probability, values, tuple(ranked))

    def _similarity(self, question: str, passage: Passage, reading: Reading) -> float:
        """The cosine between the question as searched (embedded as a query: a follow-up with its
        context) and the chosen sentence (as a passage); 0 without an embedder (BM25 mode)."""
        embedder = self.checker.embedder
        if embedder is None:
            return 0.0
        start, end = reading.sentence or (reading.start, reading.end)
        sentence = passage.text[start:end]
        return float(embedder.embed_passages([sentence])[0] @ embedder.embed_query(question))

    @staticmethod
    def _typed(question: str, reading: Reading) -> bool:
        """Whether the span is of the kind asked: «Combien…» needs a number, «Quand…» a date,
        «Qui…» no bare quantity (:mod:`rag.answer.answer_types`); and a figure asked is not the
        question's own («Combien des dix-sept personnes interpellées… ?» is not «Dix-sept»: of
        PIAF's 272 gold figures, one is among its question's, «les deux-tiers» for «deux ans»)."""
        asked = own_question(question)
        wanted = asked_type(asked)
        if wanted is not None and wanted.name in (*FIGURE_TYPES, "âge"):
            figures = {f for f in figures_in(reading.text) if f not in ("un", "une")}
            if figures and figures <= set(figures_in(asked)):
                return False
        return not wanted or wanted.in_span(reading.text)

    def _across(self, question: str, passages: Sequence[Passage], evidence: Sequence[Evidence]) -> ReadAnswer:
        """Each article's passages read apart (at most ``MAX_ARTICLES``, best-ranked first);
        the answer joins the spans read with enough confidence, each with its quotation. The
        answer check's signals look at the question less its «dans les deux articles»,
        over all the articles' evidence: each article holds its part, not the whole."""
        asked = without_scope(question)
        articles: dict[str, list[int]] = {}
        for index, passage in enumerate(passages):
            articles.setdefault(passage.doc_id, []).append(index)
        parts, confidences = [], []
        for indices in list(articles.values())[:MAX_ARTICLES]:
            reading, confidence = self._read(asked, [passages[i] for i in indices], evidence)
            if reading is None:
                continue
            confidences.append(confidence)
            if confidence >= self.min_confidence and self._typed(asked, reading):
                index = indices[reading.passage]
                parts.append((Part(reading.text, passages[index], index + 1, reading.start, reading.end), confidence))
        if not parts:
            return ReadAnswer("across", None, max(confidences, default=None))
        if len(parts) == 1:
            ((part, confidence),) = parts
            composed = compose_span(part.span, part.passage, part.number, part.start, part.end)
            return ReadAnswer("across", composed, confidence)
        shared = self._shared(question, [p for p, _ in parts])
        composed = shared or compose_across([p for p, _ in parts])
        return ReadAnswer("across", composed, min(c for _, c in parts))

    @staticmethod
    def _shared(question: str, parts: list[Part]) -> Composition | None:
        """For a question on what the articles have in common («… apparaît dans les deux
        articles ?»), the names each part's quoted sentence holds (:mod:`rag.answer.shared`);
        None for another question, or when the sentences share no name."""
        if not asks_shared(question):
            return None
        ranges = [(part.passage.text, *quoted_range(part.passage.text, part.start, part.end)) for part in parts]
        found = shared_names(ranges, without_scope(question))
        return compose_shared(parts, found) if found[0] else None

    def _yes_no(self, question: str, passages: Sequence[Passage], evidence: Sequence[Evidence]) -> ReadAnswer:
        """Oui or non from the sentence where the reader looks: the word it opens with, when it
        says «Oui, …» or «Non, …» itself; else «non» when it denies («ne … pas», «aucun»,
        «impossible») and «oui» when it does not, or, with ``yes_no="llm"``, the LLM's choice
        (:meth:`_yes`). The rule is the default: of SPF-QR's answers whose gold opens with oui
        or non, it gets 0.833 right, against 0.500 for Gemma 270M's calibrated choice after the
        «Oui, …» reading (0.167 alone), and 5 of 7 on the seeds gold set against 4
        (``python -m eval``, ``answer.yes_no_right``). The reader's confidence is
        calibrated on questions whose answer is a span, and a yes/no question has none (its
        margin is low whatever the passages say): the refusal rests on the answer check's
        signals instead, the question's terms and names in the evidence."""
        if self.checker.refusal_reason(question, evidence) is not None:
            return ReadAnswer("yesno", None, None)
        reading = self.reader.read(own_question(question), [p.text for p in passages])
        if reading is None:
            return ReadAnswer("yesno", None, None)
        number, passage = reading.passage + 1, passages[reading.passage]
        start, end = sentence_around(passage.text, reading.start, reading.end)
        sentence = passage.text[start:end].strip()
        said = opening_yes_no(sentence)
        if said:
            yes = said == "oui"
        elif self.yes_no == "llm":
            yes = self._yes(question, sentence)
        else:
            yes = not denies(sentence, question)
        return ReadAnswer("yesno", compose_yes_no(yes, passage, number, reading.start, reading.end), None)

    def _yes(self, question: str, sentence: str) -> bool:
        """Oui or non, as the LLM chooses from the sentence, by its logits. A small model leans
        to one word whatever it reads, so each word's probability is divided by the one it
        gets with an empty extract (contextual calibration, Zhao et al. 2021): what counts is
        how much the sentence moves the model."""
        options = ["oui", "non"]
        read = self.generator.choose(YES_NO_PROMPT.format(sentence=sentence, question=question), options)
        prior = self.generator.choose(YES_NO_PROMPT.format(sentence="", question=question), options)
        return read["oui"] / max(prior["oui"], 1e-9) >= read["non"] / max(prior["non"], 1e-9)

    def _phrased(self, question: str, composed: Composition, item: Evidence) -> Composition | None:
        """The composition with the span phrased as a sentence by the LLM, or None when the
        phrasing loses a content word or a number of the span, or fails the answer check."""
        from rag.answer.citations import content_words
        from rag.answer.prompting import Prompt

        quote = composed.sentences[-1]
        prompt = PHRASE_PROMPT.format(sentence=quote.text, question=question, span=composed.short)
        pieces = []
        for piece in self.generator.stream(Prompt(prompt, stop=["\n"])):
            pieces.append(piece)
        sentence = "".join(pieces).strip().split("\n")[0].strip()
        if not sentence:
            return None
        span_words = content_words(composed.short)
        numbers = re.findall(r"\d+", composed.short)
        if not span_words <= content_words(sentence) or any(n not in sentence for n in numbers):
            return None
        checked = self.checker(question, sentence, [item])
        if checked.refused or any(s.origin != "model" for s in checked.sentences):
            return None
        number = quote.citations[0]
        phrased = sentence.rstrip(".") + "."
        return Composition(
            f"{phrased} Selon [{number}] : « {quote.text} »",
            phrased,
            [checked.sentences[0], quote],
            [number],
            composed.spans,
        )
