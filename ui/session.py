"""What the app shares between its tabs, and what each browser session keeps for itself.

:class:`AppContext` is built once per server: the settings, the loaded pipeline and the
parts the tabs reuse (the embedder, the live index). :class:`Session` lives in a
``gr.State``, one per open page: the retrieval settings chosen in «Réglages» and, for each
answer in the chat, the :class:`~rag.pipeline.Answer` behind it, so a click on a marker,
a 👍 or a 👎 refers to the right one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rag.components import resolved_hybrid_alpha
from rag.config import Settings
from rag.pipeline import Answer, Pipeline
from rag.search.retrieval import make_retriever
from ui.admission import Admission

MAX_TOP_K = 8  # passages a reader may ask for in «Réglages»; a small model reads few well


@dataclass(frozen=True)
class AppContext:
    """The server's shared parts. ``embedder`` is None when the chat runs in bm25 mode;
    ``store`` is the :class:`~rag.store.live.LiveIndex` the pipeline searches; ``admission`` the gate
    every answer passes, the chat's and the API's alike (made from the settings when not given)."""

    settings: Settings
    pipeline: Pipeline
    embedder: Any
    store: Any
    admission: Admission | None = None

    def __post_init__(self) -> None:
        if self.admission is None:
            gate = Admission(self.settings.chat_concurrency, self.settings.queue_depth)
            object.__setattr__(self, "admission", gate)

    def gate(self) -> Admission:
        assert self.admission is not None
        return self.admission

    @classmethod
    def of(cls, pipeline: Pipeline, settings: Settings) -> AppContext:
        retriever = pipeline.retriever
        return cls(settings, pipeline, getattr(retriever, "embedder", None), retriever.store)

    @property
    def modes(self) -> tuple[str, ...]:
        """The retrieval modes this server can run: without an embedder, BM25 alone."""
        return ("hybrid", "dense", "bm25") if self.embedder is not None else ("bm25",)

    def default_mode(self) -> str:
        mode = self.settings.retrieval_mode
        return mode if mode in self.modes else self.modes[-1]

    def new_session(self) -> Session:
        return Session(mode=self.default_mode(), top_k=self.pipeline.top_k)


@dataclass
class Turn:
    """An answer of the chat, and what goes with it."""

    answer: Answer
    history: list[str]  # the questions asked before it in the conversation, oldest first
    sources: str  # its section of the sources panel, as HTML (ui.render.answer_sources_html)
    feedback: int | None = None  # the row id of its stored rating, if rated


@dataclass
class Session:
    """One page's state: its retrieval settings and the answers in its chat, by the index of
    their message in the chatbot's value (the index a like event gives)."""

    mode: str
    top_k: int
    turns: dict[int, Turn] = field(default_factory=dict)

    def pipeline(self, context: AppContext) -> Pipeline:
        """A pipeline with this session's retrieval settings over the shared models, reader and index."""
        shared = context.pipeline
        retriever = make_retriever(
            self.mode, context.store, context.embedder, alpha=resolved_hybrid_alpha(context.settings)
        )
        return Pipeline(
            retriever,
            shared.generator,
            top_k=self.top_k,
            checker=shared.checker,
            reading=shared.reading,
            today=shared.today,
            date_filter=shared.date_filter,
            open_answer=shared.open_answer,
        )

    def cleared(self) -> Session:
        """The same settings, for a new conversation."""
        return Session(mode=self.mode, top_k=self.top_k)
