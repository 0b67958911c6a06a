"""Check a drafted answer, sentence by sentence, against the evidence the model was shown.

A small model invents: a date, a number, a town that is in none of the passages. So the
draft is not the answer; each of its sentences must earn its place:

- a sentence is *supported* by a passage when most of its content words (``min_support``)
  are in that passage's evidence (with its title and date), every number it states is
  there too, and, with an embedder, it is close in meaning to one of the evidence
  sentences (``min_similarity``);
- a sentence that only says the question back (no term, name or number of its own, no yes
  or no) answers nothing, and is dropped like an unsupported one;
- a supported sentence keeps the markers of the passages that support it; one citing a
  passage that does not support it is re-cited to a shown passage that does, or dropped;
- dropped sentences are replaced by a quotation of the evidence sentence that holds most of
  the question's terms (and, for «Combien…» or «Quand…», a number or a date), with its
  marker, unless the kept sentences already say it; quotations are made only when the
  evidence as a whole holds enough of the question's terms (``min_coverage``);
- when no sentence survives and no quotation can be made, the bot refuses.

Each sentence of the result keeps its markers, its support score and its similarity, so
the chat can show which words came from where.

>>> from rag.store.records import Passage
>>> passage = Passage(1, "munich", "OpenAI à Munich", "2025-03-27", "x", 0, 40, "")
>>> evidence = [Evidence(1, passage, ["OpenAI ouvrira un bureau à Munich."])]
>>> check = AnswerChecker()
>>> check("Où OpenAI ouvrira-t-elle un bureau ?", "OpenAI ouvrira un bureau à Munich [1].", evidence).text
'OpenAI ouvrira un bureau à Munich [1].'
>>> check("Où OpenAI ouvrira-t-elle un bureau ?", "Le bureau ouvrira en 2019 à Berlin [1].", evidence).text
'OpenAI ouvrira un bureau à Munich [1].'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches

import numpy as np

from rag.answer.answer_types import asked_type
from rag.answer.citations import STOPWORDS, content_words
from rag.answer.prompting import REFUSAL
from rag.models.embedding import Embedder
from rag.search.evidence import Evidence, split_sentences
from rag.search.keyword import FrenchAnalyzer
from rag.text import fold_accents

MIN_SUPPORT = 0.7  # share of a sentence's content words found in the passage it cites
# Cosine with the closest evidence sentence (e5-small's; per model: rag.models.embedding.tuning_for).
MIN_SIMILARITY = 0.8
# Share of the question's terms the evidence must hold before a yes/no, an open question or the
# LLM's quotation reads it (on the reader's path it is one of the refusal model's features):
# calibrated on held-out PIAF to refuse at most 3 % of answerable questions (python -m eval coverage-floor).
MIN_COVERAGE = 0.15
# A name of the question counts as mentioned when a word of the passages is this close to it
# (difflib's ratio): «Strutthof» is the passages' «Struthof», «Milan» is not «Munich».
NAME_SIMILARITY = 0.8
_MARKERS = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YES_NO = re.compile(r"(oui|non)\b", re.IGNORECASE)
# Words of the question that ask rather than say what is asked about (stemmed).
_QUESTION_WORDS = frozenset(
    FrenchAnalyzer().terms(
        "quel quelle quels quelles quand comment combien pourquoi quoi qui où est-ce "
        "article articles cité citée cite selon d'après chacun ensemble mentionne évoquent"
    )
)


@dataclass(frozen=True)
class AnswerSentence:
    text: str  # without markers
    citations: tuple[int, ...]
    support: float  # share of the content words found in the cited evidence
    similarity: float | None  # cosine with the closest cited evidence sentence, if measured
    origin: str = "model"  # "model": written by the model and checked; "quote": copied from a passage

    def render(self) -> str:
        """The sentence with its markers before the final punctuation: ``Munich [1].``"""
        markers = "".join(f"[{n}]" for n in self.citations)
        if not markers:
            return self.text
        body = self.text.rstrip()
        end = len(body.rstrip(".!?…"))
        return f"{body[:end].rstrip()} {markers}{body[end:]}"


@dataclass(frozen=True)
class CheckedAnswer:
    sentences: list[AnswerSentence]
    refused: bool
    dropped: list[str] = field(default_factory=list)  # draft sentences that did not survive

    @property
    def text(self) -> str:
        return REFUSAL if self.refused else " ".join(s.render() for s in self.sentences)

    @property
    def citations(self) -> list[int]:
        seen: list[int] = []
        for sentence in self.sentences:
            seen += [n for n in sentence.citations if n not in seen]
        return seen


def parse_sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """``"Munich [1]. Il recrutera [2][3]."`` -> ``[("Munich.", (1,)), ("Il recrutera.", (2, 3))]``"""
    parsed = []
    for sentence in split_sentences(text):
        numbers = tuple(dict.fromkeys(int(n) for n in _MARKERS.findall(sentence)))
        plain = _MARKERS.sub("", sentence).strip()
        if plain.strip(".!?…:;, "):
            parsed.append((plain, numbers))
    return parsed


def is_looping(text: str, ngram: int = 6) -> bool:
    """Whether a draft has started repeating itself: a finished sentence says again what an
    earlier one said, or a run of ``ngram`` words comes back a third time.

    >>> is_looping("OpenAI ouvre un bureau. Il recrute. OpenAI ouvre un bureau.")
    True
    >>> is_looping("OpenAI ouvre un bureau. Il recrute.")
    False
    """
    sentences = split_sentences(_MARKERS.sub("", text))
    if text.rstrip()[-1:] not in ".!?…":
        sentences = sentences[:-1]  # the last one is still being written
    keys = [" ".join(sorted(content_words(s))) for s in sentences]
    keys = [k for k in keys if k]
    if len(keys) != len(set(keys)):
        return True
    words = text.lower().split()
    seen: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - ngram + 1):
        gram = tuple(words[i : i + ngram])
        seen[gram] = seen.get(gram, 0) + 1
        if seen[gram] >= 3:
            return True
    return False


_NOT_NAMES = STOPWORDS | {"quel", "quelle", "quels", "quelles", "qui", "quand", "comment", "combien", "pourquoi", "ou"}
_NAME = re.compile(r"(?<=[\s(«\"'’])[A-ZÀ-ÖØ-Þ][\w-]*")


def names_in(sentence: str) -> list[str]:
    """Capitalized words past the sentence's first: names, most of them.

    >>> names_in("En 2025, la start-up ouvrira un bureau à Milan avec l'appui de Microsoft.")
    ['Milan', 'Microsoft']
    """
    return [w for w in _NAME.findall(sentence.strip()) if fold_accents(w.lower()) not in _NOT_NAMES]


def is_refusal(text: str) -> bool:
    return REFUSAL[:20].lower() in text.lower()


class AnswerChecker:
    """Turns a draft into a checked answer; see the module's docstring for the rules."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        min_support: float = MIN_SUPPORT,
        min_similarity: float = MIN_SIMILARITY,
        min_coverage: float = MIN_COVERAGE,
        replace_unsupported: bool = True,
    ) -> None:
        self.embedder = embedder
        self.replace_unsupported = replace_unsupported
        self.min_support = min_support
        self.min_similarity = min_similarity
        self.min_coverage = min_coverage
        self._analyzer = FrenchAnalyzer()

    def __call__(self, question: str, draft: str, evidence: Sequence[Evidence]) -> CheckedAnswer:
        if not evidence:
            return CheckedAnswer([], refused=True, dropped=[s for s, _ in parse_sentences(draft)])
        if is_refusal(draft) or not draft.strip():
            return CheckedAnswer([], refused=True)
        kept, dropped, seen = [], [], set()
        for text, cited in parse_sentences(draft):
            key = " ".join(sorted(content_words(text)))
            if key in seen:  # a small model repeats itself
                continue
            seen.add(key)
            sentence = None if self.restates(question, text) else self._supported(text, cited, evidence)
            if sentence is None:
                dropped.append(text)
            else:
                kept.append(sentence)
        if kept and not (dropped and self.replace_unsupported):
            return CheckedAnswer(kept, refused=False, dropped=dropped)
        quote = self.quotation(question, evidence)
        if kept:
            if quote is not None and not self._repeats(quote.text, kept):
                kept.append(quote)
            return CheckedAnswer(kept, refused=False, dropped=dropped)
        if quote is None:
            return CheckedAnswer([], refused=True, dropped=dropped)
        return CheckedAnswer([quote], refused=False, dropped=dropped)

    def restates(self, question: str, text: str) -> bool:
        """Whether ``text`` only says the question back: no term, name or number beyond the
        question's own, and no yes or no. «Le jury préside le Festival de Cannes.» answers
        nothing to «Qui préside le jury du Festival de Cannes ?», though every word of it is
        in the passage; the quotation of the passage says who does.
        """
        if _YES_NO.match(text.strip()) or any(n not in question for n in _NUMBER.findall(text)):
            return False
        terms = set(self._analyzer.terms(text))
        return bool(terms) and terms <= set(self._analyzer.terms(question))

    def _repeats(self, text: str, sentences: Sequence[AnswerSentence]) -> bool:
        """Whether most of ``text``'s terms are already said by ``sentences``."""
        terms = set(self._analyzer.terms(text))
        said = set(self._analyzer.terms(" ".join(s.text for s in sentences)))
        return not terms or len(terms & said) / len(terms) >= 0.5

    # -- support --------------------------------------------------------------------------

    def _supported(self, text: str, cited: tuple[int, ...], evidence: Sequence[Evidence]) -> AnswerSentence | None:
        """The sentence with the markers of the passages that support it, or None."""
        by_number = {e.number: e for e in evidence}
        shown = [n for n in cited if n in by_number]
        candidates = shown + [e.number for e in evidence if e.number not in shown]  # cited ones first
        best: AnswerSentence | None = None
        for number in candidates:
            item = by_number[number]
            support = self.support(text, item)
            if support < self.min_support:
                continue
            similarity = self.similarity(text, item)
            if similarity is not None and similarity < self.min_similarity:
                continue
            sentence = AnswerSentence(text, (number,), support, similarity)
            if number in shown:  # keep every cited passage that supports it
                extra = tuple(n for n in shown if n != number and self.support(text, by_number[n]) >= self.min_support)
                return AnswerSentence(text, (number, *extra), support, similarity)
            if best is None or support > best.support:
                best = sentence
        return best

    def support(self, text: str, item: Evidence) -> float:
        """Share of the sentence's terms (stemmed) in the evidence; 0 if it states a number the evidence lacks."""
        source = f"{item.passage.title} {item.passage.date or ''} {item.text}"
        if any(number not in source for number in _NUMBER.findall(text)):
            return 0.0
        folded = fold_accents(source.lower())
        if any(fold_accents(name.lower()) not in folded for name in names_in(text)):
            return 0.0  # «… un bureau à Milan»: a name the passage never mentions
        terms = set(self._analyzer.terms(text))
        if not terms:
            return 0.0
        return len(terms & set(self._analyzer.terms(source))) / len(terms)

    def similarity(self, text: str, item: Evidence) -> float | None:
        if self.embedder is None or not item.sentences:
            return None
        vectors = self.embedder.embed_passages([text, *item.sentences])
        return float(np.max(vectors[1:] @ vectors[0]))

    # -- quotation --------------------------------------------------------------------------

    def coverage(self, question: str, evidence: Sequence[Evidence]) -> float:
        """Share of the question's own terms (not its interrogatives) found in the evidence shown."""
        terms = self._question_terms(question)
        if not terms:
            return 0.0
        shown = " ".join(f"{e.passage.title} {e.text}" for e in evidence)
        present = set(self._analyzer.terms(shown))
        return sum(t in present for t in terms) / len(terms)

    def refusal_reason(self, question: str, evidence: Sequence[Evidence]) -> str | None:
        """Why the evidence cannot answer the question, whatever reads it, or None:
        ``"coverage"`` (it holds too few of the question's terms) or ``"name"`` (the question
        names something no passage mentions: «… un bureau à Madrid ?»)."""
        if self.coverage(question, evidence) < self.min_coverage:
            return "coverage"
        if self.missing_name(question, evidence):
            return "name"
        return None

    def missing_name(self, question: str, evidence: Sequence[Evidence]) -> bool:
        """Whether the question names something (a capitalized name) that no passage mentions,
        even misspelt: a user's «Strutthof» is the passages' «Struthof» (``NAME_SIMILARITY``).

        >>> from rag.store.records import Passage
        >>> text = "Le Struthof fut libéré."
        >>> shown = [Evidence(1, Passage(1, "d", "Camps", None, "x", 0, len(text), text), [text])]
        >>> AnswerChecker().missing_name("Quand fut libéré le Strutthof ?", shown)
        False
        >>> AnswerChecker().missing_name("Quand fut libéré Auschwitz ?", shown)
        True
        """
        shown = fold_accents(" ".join(f"{e.passage.title} {' '.join(e.all_sentences)}" for e in evidence).lower())
        words = None
        for name in names_in(question):
            folded = fold_accents(name.lower())
            if folded in shown:
                continue
            if words is None:
                words = sorted(set(re.findall(r"\w[\w-]+", shown)))
            if not get_close_matches(folded, words, n=1, cutoff=NAME_SIMILARITY):
                return True
        return False

    def quotation(self, question: str, evidence: Sequence[Evidence]) -> AnswerSentence | None:
        """The evidence sentence sharing most of the question's terms, ranked passages first;
        None when the evidence cannot answer (:meth:`refusal_reason`)."""
        if self.refusal_reason(question, evidence) is not None:
            return None
        terms = self._question_terms(question)
        wanted = asked_type(question)
        best, best_score = None, float("-inf")
        for rank, item in enumerate(evidence):
            for sentence in item.all_sentences or item.sentences:
                if wanted and not wanted.in_sentence(sentence):
                    continue  # «Combien…?» is not answered by a sentence without a number
                present = set(self._analyzer.terms(f"{item.passage.title} {sentence}"))
                score = sum(t in present for t in terms) / max(1, len(terms)) - 0.1 * rank
                if score > best_score:
                    best, best_score = AnswerSentence(sentence, (item.number,), 1.0, None, origin="quote"), score
        return best

    def _question_terms(self, question: str) -> list[str]:
        return [t for t in dict.fromkeys(self._analyzer.terms(question)) if t not in _QUESTION_WORDS]
