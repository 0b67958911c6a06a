"""Question -> retrieved passages -> prompt -> streamed, cited answer.

Usage::

    stream = pipeline.ask("Dans quelle ville OpenAI va-t-elle ouvrir un bureau en Allemagne ?")
    for piece in stream:
        print(piece, end="")
    stream.answer.citations  # [1]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rag.citations import CitationStream, lexical_attributor
from rag.errors import EmptyQuestionError, QuestionTooLongError
from rag.evidence import select_evidence
from rag.generation import Generator
from rag.prompting import REFUSAL, build_prompt
from rag.retrieval import Retriever
from rag.store import Passage

MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    passages: list[Passage]  # what the model was shown; marker [n] is passages[n - 1]
    citations: list[int]  # the markers in the text, in order of first appearance
    refused: bool
    first_token_s: float | None
    total_s: float
    generated_chunks: int = 0

    @property
    def cited_passages(self) -> list[Passage]:
        return [self.passages[n - 1] for n in self.citations]


def clean_question(question: str) -> str:
    """The question stripped; a clear error if it is empty or too long."""
    question = " ".join((question or "").split())
    if not question:
        raise EmptyQuestionError()
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLongError(len(question), MAX_QUESTION_CHARS)
    return question


class AnswerStream:
    """Iterate for the answer's text as it is generated; then read :attr:`answer`."""

    def __init__(self, produce: Callable[[AnswerStream], Iterator[str]]) -> None:
        self.answer: Answer | None = None
        self._pieces = produce(self)  # a generator: nothing runs before iteration

    def __iter__(self) -> Iterator[str]:
        yield from self._pieces


class Pipeline:
    def __init__(self, retriever: Retriever, generator: Generator, *, top_k: int = 3) -> None:
        self.retriever = retriever
        self.generator = generator
        self.top_k = top_k

    def ask(self, question: str) -> AnswerStream:
        """Validate now (no model call for an empty question), then stream on iteration."""
        question = clean_question(question)
        return AnswerStream(lambda stream: self._run(question, stream))

    def answer(self, question: str) -> Answer:
        stream = self.ask(question)
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer

    def _run(self, question: str, stream: AnswerStream) -> Iterator[str]:
        started = time.perf_counter()
        passages = self.retriever.retrieve(question, self.top_k)
        if not passages:  # an empty corpus holds no answer: nothing to ask the model
            yield REFUSAL
            stream.answer = Answer(question, REFUSAL, [], [], True, None, time.perf_counter() - started)
            return
        evidence = [select_evidence(question, p.text) for p in passages]
        prompt = build_prompt(question, passages, evidence)
        while len(passages) > 1 and not self.generator.fits(prompt):  # long passages, small context
            passages, evidence = passages[:-1], evidence[:-1]
            prompt = build_prompt(question, passages, evidence)
        # What the model saw: each passage's title, date and evidence (rag.prompting).
        attribute = lexical_attributor(
            [f"{p.title} {p.date or ''} {text}" for p, text in zip(passages, evidence, strict=True)]
        )
        citations = CitationStream(len(passages), lambda s: None if REFUSAL[:20] in s else attribute(s))
        first_token_s, chunks = None, 0
        for piece in self.generator.stream(prompt):
            chunks += 1
            if first_token_s is None:
                first_token_s = time.perf_counter() - started
            if not citations.text:  # the model's reply starts after "Réponse :"
                piece = piece.lstrip()
            if shown := citations.feed(piece):
                yield shown
        if tail := citations.finish():
            yield tail
        text = citations.text.strip()
        refused = not text or text.startswith(REFUSAL[:20])
        if not text:
            text = REFUSAL
            yield REFUSAL
        stream.answer = Answer(
            question=question,
            text=text,
            passages=passages,
            citations=list(citations.cited),
            refused=refused,
            first_token_s=first_token_s,
            total_s=time.perf_counter() - started,
            generated_chunks=chunks,
        )
