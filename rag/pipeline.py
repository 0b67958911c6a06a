"""Question -> retrieved passages -> a read answer, or a streamed draft checked and cited.

A follow-up («Et à Paris ?») is first made standalone from the conversation's earlier
questions (:mod:`rag.search.followup`) and that is what is searched. Then, with a reader
(:class:`~rag.answer.reading.ReadingAnswerer`), most questions are *read*: the answer is the
span the reader finds, followed by the sentence that holds it, quoted, or a refusal when the
reader is not confident enough. Open questions (summaries, lists, why, how) are answered with
the sentences gathered across articles, quoted or written up by the LLM; a yes/no question
across articles, and every question without a reader, go to the LLM. Its draft streams as
it is written; then :class:`~rag.answer.checking.AnswerChecker` keeps only the sentences the
passages support, and the checked text is the answer.

Usage::

    stream = pipeline.ask("Dans quelle ville OpenAI va-t-elle ouvrir un bureau en Allemagne ?")
    for piece in stream:
        print(piece, end="")  # the draft
    stream.answer.text  # the checked answer: "… Munich [1]."
    stream.answer.revised  # whether the check changed the draft

A question's dates («en octobre 2024», «le mois dernier», «le plus récent») scope the search
(:mod:`rag.search.temporal`, :mod:`rag.search.temporal.retrieval`): only articles of those dates are ranked,
the answer carries the scope's label (``answer.scope``: «articles d'octobre 2024») and, when no
article is of those dates, says so instead of answering from others. ``answer.source_dates``
names the dates of the articles it cites (:mod:`rag.answer.source_dates`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from rag.answer.checking import AnswerChecker, AnswerSentence, CheckedAnswer, is_looping, is_refusal
from rag.answer.citations import CitationStream, lexical_attributor
from rag.answer.gathering import as_evidence, compose_evidence
from rag.answer.generation import Generator
from rag.answer.generator_process import GenerationError
from rag.answer.prompting import REFUSAL, build_prompt
from rag.answer.reading import ReadAnswer, ReadingAnswerer
from rag.answer.source_dates import source_dates as dates_sentence
from rag.answer.writing import NOT_SUPPORTED, WRITER_FAILED, checked_prose, writing_prompt
from rag.errors import EmptyQuestionError, QuestionTooLongError
from rag.search.evidence import Evidence, gather_evidence
from rag.search.followup import standalone_question
from rag.search.repeats import SEARCHED_PAST, cite_repeats, distinct
from rag.search.retrieval import Retriever
from rag.search.temporal import DateScope, scoped_search
from rag.search.temporal.retrieval import DatedRetrieval
from rag.store.records import Passage

MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # the checked answer
    passages: list[Passage]  # what the model was shown; marker [n] is passages[n - 1]
    citations: list[int]  # the markers in the text, in order of first appearance
    refused: bool
    first_token_s: float | None
    total_s: float
    generated_chunks: int = 0
    draft: str = ""  # what the model wrote, as streamed
    sentences: list[AnswerSentence] = field(default_factory=list)  # the checked text, sentence by sentence
    dropped: list[str] = field(default_factory=list)  # draft sentences the check removed
    search_question: str = ""  # the question as searched: standalone, for a follow-up
    short: str = ""  # the short answer (the reader's span, oui/non, a date); "" on the LLM path
    path: str = "llm"  # how it was answered: "reader", "yesno", "metadata", "across", "open" (written
    # from the evidence gathered across articles), "evidence" (that evidence quoted) or "llm"
    confidence: float | None = None  # the reader's calibrated confidence, when it read
    spans: tuple[tuple[int, int, int], ...] = ()  # (marker, start, end): each span in passage [marker]'s text
    scope: str = ""  # the dates searched, shown above the answer: «articles d'octobre 2024»; "" for none
    date_scope: DateScope | None = None  # those dates as a range and an ordering
    source_dates: str = ""  # «Selon l'article du 27 mars 2025 [1].»: the cited articles' dates, shown after the text

    @property
    def cited_passages(self) -> list[Passage]:
        return [self.passages[n - 1] for n in self.citations]

    @property
    def revised(self) -> bool:
        """Whether the check changed the streamed draft."""
        return " ".join(self.draft.split()) != " ".join(self.text.split())


def clean_question(question: str) -> str:
    """The question stripped; a clear error if it is empty (or holds no letter nor digit:
    «???») or too long. Such a question never reaches a model."""
    question = " ".join((question or "").split())
    if not any(character.isalnum() for character in question):
        raise EmptyQuestionError()
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLongError(len(question), MAX_QUESTION_CHARS)
    return question


class AnswerStream:
    """Iterate for the draft's text as it is generated; then read :attr:`answer`, whose
    ``text`` is the checked answer (``answer.revised`` says whether it differs)."""

    def __init__(self, produce: Callable[[AnswerStream], Iterator[str]]) -> None:
        self.answer: Answer | None = None
        self._pieces = produce(self)  # a generator: nothing runs before iteration

    def __iter__(self) -> Iterator[str]:
        yield from self._pieces


class Pipeline:
    def __init__(
        self,
        retriever: Retriever,
        generator: Generator,
        *,
        top_k: int = 3,
        checker: AnswerChecker | None = None,
        reading: ReadingAnswerer | None = None,
        today: Callable[[], date] = date.today,
        date_filter: bool = True,
        open_answer: str = "quote",
    ) -> None:
        self.retriever = retriever
        self.generator = generator
        self.top_k = top_k
        self.checker = checker or AnswerChecker()
        self.reading = reading  # None: every question goes to the LLM (the path before the reader)
        self.today = today  # what «le mois dernier» counts from
        self.date_filter = date_filter  # False: a question's dates are searched as words (DEPECHE_DATE_FILTER=off)
        self.dated = DatedRetrieval(retriever)
        # An open question's answer (rag.answer.gathering): "quote", the evidence quoted; "write",
        # the LLM writes from it, checked (rag.answer.writing), the evidence where that fails;
        # "off" (the eval's baseline): read or written as before the open path.
        self.open_answer = open_answer

    def ask(self, question: str, history: Sequence[str] = ()) -> AnswerStream:
        """Validate now (no model call for an empty question), then stream on iteration.

        ``history``: the user's earlier questions in this conversation, oldest first.
        """
        question = clean_question(question)
        return AnswerStream(lambda stream: self._run(question, list(history), stream))

    def answer(self, question: str, history: Sequence[str] = ()) -> Answer:
        stream = self.ask(question, history)
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer

    def search(self, question: str, history: Sequence[str] = ()) -> tuple[DateScope | None, str]:
        """The question's dates (None: none, or the filter off) and the question as searched:
        standalone for a follow-up, without its date words."""
        if not self.date_filter:
            return None, standalone_question(question, history) if history else question
        return scoped_search(question, history, self.today(), self.dated.newest())

    def retrieve(self, question: str, history: Sequence[str], k: int) -> list[Passage]:
        """The ``k`` passages the pipeline would rank first for ``question`` (the eval's retrieval)."""
        scope, search = self.search(question, history)
        return self.dated.retrieve(search, k, scope) if scope else self.retriever.retrieve(search, k)

    def _run(self, question: str, history: list[str], stream: AnswerStream) -> Iterator[str]:
        started = time.perf_counter()
        scope, search = self.search(question, history)
        labels = {"scope": scope.label, "date_scope": scope} if scope else {}
        depth = self.reading.depth(search, self.top_k) if self.reading is not None else self.top_k
        allowed = self.dated.documents_in(scope) if scope else None
        if allowed is not None and not allowed:  # no article of those dates: say so, not answer from others
            yield scope.empty
            stream.answer = Answer(
                question, scope.empty, [], [], True, None, time.perf_counter() - started, draft=scope.empty,
                search_question=search, **labels,
            )  # fmt: skip
            return
        searched = depth + SEARCHED_PAST  # a few more than are read: repeated wires are set aside (rag.search.repeats)
        if scope:
            ranked = self.dated.retrieve(search, searched, scope, allowed)
        else:
            ranked = self.retriever.retrieve(search, searched)
        passages, repeated = distinct(ranked, depth)
        if not passages:  # an empty corpus holds no answer: nothing to ask the model
            yield REFUSAL
            stream.answer = Answer(
                question,
                REFUSAL,
                [],
                [],
                True,
                None,
                time.perf_counter() - started,
                draft=REFUSAL,
                search_question=search,
                **labels,
            )
            return
        evidence = gather_evidence(search, passages)
        if self.reading is not None and self.open_answer != "off" and self.reading.is_open(search):
            stream.answer = yield from self._open(question, search, passages, evidence, started, labels)
            return
        if self.reading is not None:
            read = self.reading.answer(search, passages, evidence)
            if read is not None:
                stream.answer = self._read_answer(question, search, read, passages, started, labels, repeated)
                yield stream.answer.text
                return
        prompt = build_prompt(search, evidence)
        while len(evidence) > 1 and not self.generator.fits(prompt):  # long passages, small context
            evidence = evidence[:-1]
            prompt = build_prompt(search, evidence)
        draft, first_token_s, chunks = yield from self._draft(prompt, evidence, started)
        checked = self.checker(search, draft, evidence)
        shown = [e.passage for e in evidence]
        dated = "" if checked.refused else dates_sentence(shown, checked.citations)
        stream.answer = Answer(
            question=question,
            text=checked.text,
            passages=shown,
            citations=checked.citations,
            refused=checked.refused,
            first_token_s=first_token_s,
            total_s=time.perf_counter() - started,
            generated_chunks=chunks,
            draft=draft,
            sentences=checked.sentences,
            dropped=checked.dropped,
            search_question=search,
            source_dates=dated,
            **labels,
        )

    def _read_answer(
        self,
        question: str,
        search: str,
        read: ReadAnswer,
        passages: list[Passage],
        started: float,
        labels: dict,
        repeated: dict[int, list[Passage]] | None = None,
    ) -> Answer:
        """The :class:`Answer` of a read path: composed text (with the articles that repeat its
        quotation named, :func:`rag.search.repeats.cite_repeats`), or a refusal with the closest passages."""
        elapsed = time.perf_counter() - started
        composed = read.composition
        passages = [*passages, *read.extra]  # an article's author box, read beyond the retrieved passages
        if composed is not None and repeated:
            composed, passages = cite_repeats(composed, passages, repeated)
        if composed is None:
            return Answer(
                question, REFUSAL, list(passages), [], True, elapsed, elapsed, draft=REFUSAL,
                search_question=search, path=read.path, confidence=read.confidence, **labels,
            )  # fmt: skip
        dated = "" if read.path == "metadata" else dates_sentence(passages, composed.citations)  # it says the date
        return Answer(
            question=question,
            text=composed.text,
            passages=list(passages),
            citations=composed.citations,
            refused=False,
            first_token_s=elapsed,
            total_s=elapsed,
            draft=composed.text,
            sentences=composed.sentences,
            search_question=search,
            short=composed.short,
            path=read.path,
            confidence=read.confidence,
            spans=composed.spans,
            source_dates=dated,
            **labels,
        )

    def _open(
        self,
        question: str,
        search: str,
        passages: list[Passage],
        evidence: list[Evidence],
        started: float,
        labels: dict,
    ):
        """An open question's answer: the evidence gathered across articles, written by the LLM
        (checked) or quoted. Returns the :class:`Answer`; yields what is shown meanwhile."""
        assert self.reading is not None
        gathered = self.reading.gather(search, passages, evidence)
        if not gathered:
            yield REFUSAL
            elapsed = time.perf_counter() - started
            return Answer(
                question, REFUSAL, list(passages), [], True, elapsed, elapsed, draft=REFUSAL,
                search_question=search, path="open", **labels,
            )  # fmt: skip
        shown, gathered_evidence = as_evidence(gathered, passages)
        draft, first_token_s, chunks, prose, dropped, note = "", None, 0, [], [], ""
        if self.open_answer == "write":
            prompt = writing_prompt(search, gathered_evidence)
            try:
                draft, first_token_s, chunks = yield from self._draft(prompt, gathered_evidence, started)
                checked = self.checker(search, draft, gathered_evidence)
                prose, dropped = checked_prose(checked), checked.dropped
                note = "" if prose else NOT_SUPPORTED
            except GenerationError:
                note = WRITER_FAILED
            if note:
                yield "\n\n"  # what streamed is replaced by the evidence below
        composed = compose_evidence(gathered, passages, note)  # its spans mark the evidence either way
        if prose:
            written = CheckedAnswer(prose, refused=False)
            text, citations, sentences, path = written.text, written.citations, prose, "open"
        else:
            text, citations, sentences, path = composed.text, composed.citations, composed.sentences, "evidence"
            yield text
        elapsed = time.perf_counter() - started
        return Answer(
            question=question,
            text=text,
            passages=shown,
            citations=citations,
            refused=False,
            first_token_s=first_token_s if first_token_s is not None else elapsed,
            total_s=elapsed,
            generated_chunks=chunks,
            draft=draft or text,
            sentences=sentences,
            dropped=dropped,
            search_question=search,
            path=path,
            spans=composed.spans,
            source_dates=dates_sentence(shown, citations),
            **labels,
        )

    def _draft(self, prompt, evidence: list[Evidence], started: float):
        """Stream the model's draft (markers checked for range and added where missing);
        stop early when it starts repeating itself. Returns (draft, first token time, chunks)."""
        # What the model saw: each passage's title, date and evidence (rag.answer.prompting).
        attribute = lexical_attributor([f"{e.passage.title} {e.passage.date or ''} {e.text}" for e in evidence])
        citations = CitationStream(len(evidence), lambda s: None if is_refusal(s) else attribute(s))
        first_token_s, chunks = None, 0
        pieces = self.generator.stream(prompt)
        try:
            for piece in pieces:
                chunks += 1
                if first_token_s is None:
                    first_token_s = time.perf_counter() - started
                if not citations.text:  # the model's reply starts after "Réponse :"
                    piece = piece.lstrip()
                if shown := citations.feed(piece):
                    yield shown
                if is_looping(citations.text):
                    break
        finally:
            close = getattr(pieces, "close", None)
            if close:
                close()  # frees the model for the next request
        if tail := citations.finish():
            yield tail
        draft = citations.text.strip()
        if not draft:
            yield REFUSAL
            draft = REFUSAL
        return draft, first_token_s, chunks
