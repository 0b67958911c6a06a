"""Deterministic stand-ins for the models, for fast unit tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import numpy as np

from rag.answer.citations import content_words
from rag.answer.prompting import Prompt


class FakeEmbedder:
    """Bag of hashed content words: texts sharing words get similar vectors."""

    def __init__(self, name: str = "fake-embedder", dimension: int = 256) -> None:
        self.name = name
        self.dimension = dimension
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in content_words(text):
            bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension
            vector[bucket] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        self.calls += 1
        return self._vector(text)


class FakeGenerator:
    """Replays a scripted answer, split into the given pieces; records the prompts."""

    name = "fake-generator"

    def __init__(
        self,
        pieces: Sequence[str] = ("Munich", "."),
        context_chars: int = 100_000,
        choice: str | dict[str, float] | None = None,
        prior: dict[str, float] | None = None,
    ) -> None:
        self.pieces = list(pieces)
        self.context_chars = context_chars
        self.choice = choice  # the option :meth:`choose` prefers (the first one given when None), or its scores
        self.prior = prior  # what :meth:`choose` gives for an empty extract
        self.prompts: list[Prompt] = []
        self.choices: list[str] = []  # the texts :meth:`choose` was asked about

    def choose(self, text: str, options: Sequence[str]) -> dict[str, float]:
        """Prefers ``choice`` after reading something; with an empty extract («  »), no preference
        (or ``prior``'s, when set: a model leaning to one word whatever it reads)."""
        self.choices.append(text)
        if "«  »" in text:
            if self.prior:
                return dict(self.prior)
            return {option: 1 / len(options) for option in options}
        if isinstance(self.choice, dict):
            return dict(self.choice)
        preferred = self.choice if self.choice in options else options[0]
        return {option: 0.9 if option == preferred else 0.1 / (len(options) - 1) for option in options}

    def fits(self, prompt: Prompt) -> bool:
        return len(prompt.text) <= self.context_chars

    def stream(self, prompt: Prompt) -> Iterator[str]:
        self.prompts.append(prompt)
        yield from self.pieces


class FakeReader:
    """Reads a scripted span: the first passage holding ``span`` (or the first of several
    spans, when given a tuple), confidence as given; or nothing."""

    def __init__(
        self, span: str | tuple[str, ...] = "Munich", confidence: float = 0.9, every_sentence: bool = False
    ) -> None:
        self.spans = (span,) if isinstance(span, str) else span
        self.every_sentence = every_sentence  # sentence_readings: every sentence, or the scripted one alone
        self.scripted = confidence
        self.questions: list[str] = []

    def confidence(self, reading, coverage: float, missing_name: bool) -> float:
        """The scripted confidence, unless the check's signals say the passages cannot answer."""
        return reading.confidence if coverage >= 0.5 and not missing_name else min(reading.confidence, 0.05)

    def sentence_readings(self, question: str, passages: Sequence[str]):
        """The scripted reading in its sentence, first; then, with ``every_sentence`` (as the
        product reads every sentence), each other sentence of every passage with a lower mass
        (by rank and order)."""
        from dataclasses import replace

        from rag.answer.compose import sentence_around
        from rag.answer.reader import Reading
        from rag.search.evidence import sentence_spans

        reading = self.read(question, passages)
        if reading is None:
            return []
        if not self.every_sentence:
            return [reading]
        found = [replace(reading, sentence=sentence_around(passages[reading.passage], reading.start, reading.end))]
        for index, text in enumerate(passages):
            for order, (start, end) in enumerate(sentence_spans(text)):
                if (index, (start, end)) != (reading.passage, found[0].sentence):
                    mass = 6.0 - index - 0.1 * order
                    found.append(Reading(index, start, end, text[start:end], mass, 0.0, 0.1, (start, end), mass))
        return found

    def read(self, question: str, passages: Sequence[str]):
        from rag.answer.reader import Reading

        self.questions.append(question)
        for span in self.spans:
            for index, text in enumerate(passages):
                start = text.find(span)
                if span and start >= 0:
                    return Reading(index, start, start + len(span), span, 8.0, 1.0, self.scripted)
        return Reading(0, 0, 0, "", 0.0, 5.0, 0.01) if passages else None
