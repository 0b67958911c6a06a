"""Settings, read once from the environment and passed down explicitly.

Every knob a user may turn lives here, with its environment variable:

- ``DEPECHE_HOME``: the data folder (index, store); default ``data/`` in the checkout.
  It also holds ``feedback.sqlite`` (:attr:`Settings.feedback_db`): the chat's 👍/👎, kept
  beside the index because index versions are replaced on every update (:mod:`rag.store.feedback`),
  and ``feeds.sqlite`` (:attr:`Settings.feeds_db`): the RSS/Atom feeds ``python -m index refresh`` re-reads.
- ``DEPECHE_CACHE``: where models are assembled on first use; default ``.cache/`` in the checkout.
- ``DEPECHE_EMBED_MODEL``: a sentence-transformers model name or folder.
- ``DEPECHE_LLM``: a GGUF file; default: Gemma 3 270M from its PyPI package.
- ``DEPECHE_CHUNK_SIZE`` / ``DEPECHE_CHUNK_OVERLAP``: chunking, in characters.
- ``DEPECHE_TOP_K``: how many passages the generator is shown.
- ``DEPECHE_RETRIEVAL``: ``hybrid`` (default), ``dense`` or ``bm25``.
- ``DEPECHE_HYBRID_ALPHA``: the dense ranking's weight in the hybrid fusion (default: measured per model).
- ``DEPECHE_MIN_SIMILARITY``: the answer check's cosine floor (default: calibrated per model).
- ``DEPECHE_ANSWER``: ``reader`` (default: questions are read, see :mod:`rag.answer.reading`) or
  ``llm`` (the LLM writes every answer, as before the reader).
- ``DEPECHE_PHRASE``: ``none`` (default: the short answer is the reader's span) or ``llm`` (the
  LLM phrases it in a sentence, kept only when it passes the check).
- ``DEPECHE_YES_NO``: ``read`` (default: a yes/no question's oui or non is read from the
  sentence the reader finds: its «Oui, …»/«Non, …», else whether it denies) or ``llm`` (the
  LLM chooses by its logits).
- ``DEPECHE_OPEN``: an open question's answer (summaries, why, how, what happened, lists:
  :mod:`rag.answer.gathering`): ``quote`` (default: the sentences that answer it, gathered
  across articles, quoted) or ``write`` (the LLM writes 2 to 5 sentences from them, checked;
  the quotations where the check keeps nothing).
- ``DEPECHE_DATE_FILTER``: ``on`` (default: a question's dates, «en octobre 2024», «le mois
  dernier», scope the search, :mod:`rag.search.temporal`) or ``off`` (they are searched as words).
- ``DEPECHE_MIN_CONFIDENCE``: the probability that the chosen sentence holds the answer below
  which the bot refuses (default: the threshold of the refusal model fitted on near misses,
  ``rag/answer/weights/refusal.json``, :mod:`rag.answer.refusal`).
- ``DEPECHE_THREADS``: llama.cpp threads (default: every core).
- ``DEPECHE_GENERATION_TIMEOUT``: seconds an answer may take (default 120); past them the
  model's process is killed and restarted, and the question gets one line saying so.
- ``DEPECHE_CHAT_CONCURRENCY`` / ``DEPECHE_QUEUE_DEPTH``: answers the chat computes at once
  (default 4) and answers that may wait (default 32); past them a question gets «serveur
  occupé, réessayez» at once (:mod:`ui.admission`).
- ``DEPECHE_READ_TIMEOUT`` / ``DEPECHE_READ_MEMORY_MB``: the limits under which each file is
  parsed, in a process of its own (default 120 s, 3072 MB); a file over them is skipped.
- ``DEPECHE_LOCK_WAIT``: seconds an index command waits for another one to finish (default 600).
- ``DEPECHE_MILVUS_URI``: where the index lives (:mod:`rag.store.backend`): empty (default) for the
  embedded store in ``DEPECHE_HOME``; a file path for Milvus Lite in process; ``http://host:19530``
  for a Milvus server (with ``DEPECHE_MILVUS_TOKEN`` if it asks for one);
  ``DEPECHE_MILVUS_SHARDS`` / ``DEPECHE_MILVUS_REPLICAS`` (default 1 / 1) for a cluster.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EMBED_MODEL = "embeddinggemma-300m-int8"  # docs/search.md, embedding models
RETRIEVAL_MODES = ("hybrid", "dense", "bm25")  # the first is the default
YES_NO_JUDGES = ("read", "llm")  # who says oui or non: the sentence read (its words), or the LLM by its logits
PHRASINGS = ("none", "llm")  # who phrases the reader's span: nobody (the span as is), or the LLM
OPEN_ANSWERS = ("quote", "write")  # an open question: its evidence quoted, or written by the LLM from it
ANSWER_MODES = ("reader", "llm")  # reader: read most questions (rag.answer.reading); llm: the LLM writes every answer


def embedder_chosen_per_cpu() -> bool:
    """Whether the embedding model is left to this CPU's measurement (:mod:`rag.models.embedding_choice`):
    not when ``DEPECHE_EMBED_MODEL`` sets it, nor with Milvus, whose collections machines of
    any CPU share (the default model then)."""
    return not any(os.environ.get(name, "").strip() for name in ("DEPECHE_EMBED_MODEL", "DEPECHE_MILVUS_URI"))


def _int_env(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} n'est pas un nombre entier.") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} doit valoir au moins {minimum}.")
    return value


def _float_env(name: str, default: float) -> float:
    """A share between 0 and 1."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} n'est pas un nombre.") from None
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name}={value} doit être entre 0 et 1.")
    return value


def _optional_float_env(name: str) -> float | None:
    """A share between 0 and 1, or None when unset (the model's own value then applies)."""
    return _float_env(name, -1.0) if os.environ.get(name, "").strip() else None


def _choice_env(name: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return choices[0]
    if raw not in choices:
        raise ConfigError(f"{name}={raw!r} : valeurs possibles : {', '.join(choices)}.")
    return raw


@dataclass(frozen=True)
class ChunkSettings:
    size: int = 800
    overlap: int = 120

    def __post_init__(self) -> None:
        if self.size < 50:
            raise ConfigError(f"Taille de passage {self.size} trop petite (minimum 50 caractères).")
        if not 0 <= self.overlap < self.size:
            raise ConfigError(f"Chevauchement {self.overlap} hors de [0, {self.size}[ (taille de passage).")


@dataclass(frozen=True)
class Settings:
    home: Path = PROJECT_ROOT / "data"
    cache: Path = PROJECT_ROOT / ".cache"
    embed_model: str = DEFAULT_EMBED_MODEL
    llm_path: Path | None = None
    chunks: ChunkSettings = field(default_factory=ChunkSettings)
    top_k: int = 3
    retrieval_mode: str = "hybrid"
    threads: int = os.cpu_count() or 1
    context_tokens: int = 4096
    max_answer_tokens: int = 200
    generation_timeout: int = 120  # seconds an answer may take before the model's process is restarted
    chat_concurrency: int = 4  # answers the chat computes at once (the model itself answers one at a time)
    queue_depth: int = 32  # answers that may wait their turn; past them: «serveur occupé»
    read_timeout: int = 120  # seconds a file may take to parse (rag.sources.readers.fence)
    read_memory_mb: int = 3072  # the address space of the process that parses files
    # The answer check (rag.answer.checking): thresholds and what set them in docs/answering.md.
    min_support: float = 0.7
    min_similarity: float | None = None  # None: the embedding model's measured floor (rag.models.embedding.tuning_for)
    hybrid_alpha: float | None = None  # None: the embedding model's measured fusion weight
    answer_mode: str = "reader"
    phrasing: str = "none"
    yes_no: str = "read"
    open_answer: str = OPEN_ANSWERS[0]
    min_confidence: float | None = None  # None: the refusal model's threshold (rag/answer/weights/refusal.json)
    min_coverage: float = 0.15  # calibrated on held-out PIAF: python -m eval coverage-floor
    date_filter: bool = True  # a question's dates scope the search (rag.search.temporal)
    lock_wait: int = 600  # seconds a writer waits for another (rag.store.versions.write_lock)
    milvus_uri: str = ""  # empty: the embedded store (rag.store.backend)
    milvus_token: str = field(default="", repr=False)
    milvus_shards: int = 1  # of the collections Dépêche creates on a Milvus server
    milvus_replicas: int = 1  # copies a Milvus cluster loads, for throughput and availability

    @property
    def milvus_layout(self) -> dict[str, int]:
        return {"shards": self.milvus_shards, "replicas": self.milvus_replicas}

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def feedback_db(self) -> Path:
        """The readers' ratings of answers (:mod:`rag.store.feedback`), outside the versioned index."""
        return self.home / "feedback.sqlite"

    @property
    def feeds_db(self) -> Path:
        """The registered RSS/Atom feeds (:mod:`index.feed_registry`), outside the versioned index."""
        return self.home / "feeds.sqlite"

    @property
    def seeds_dir(self) -> Path:
        return PROJECT_ROOT / "seeds"

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        llm = env.get("DEPECHE_LLM", "").strip()
        home = Path(env.get("DEPECHE_HOME") or PROJECT_ROOT / "data").expanduser().resolve()
        cache = Path(env.get("DEPECHE_CACHE") or PROJECT_ROOT / ".cache").expanduser().resolve()
        embed_model = env.get("DEPECHE_EMBED_MODEL", "").strip() or DEFAULT_EMBED_MODEL
        if embedder_chosen_per_cpu():  # the index's model, else the fastest measured here
            from rag.models.embedding_choice import default_embed_model

            embed_model = default_embed_model(home / "index", cache, DEFAULT_EMBED_MODEL)
        return cls(
            home=home,
            cache=cache,
            embed_model=embed_model,
            llm_path=Path(llm).expanduser().resolve() if llm else None,
            chunks=ChunkSettings(
                size=_int_env("DEPECHE_CHUNK_SIZE", ChunkSettings.size, minimum=1),
                overlap=_int_env("DEPECHE_CHUNK_OVERLAP", ChunkSettings.overlap),
            ),
            top_k=_int_env("DEPECHE_TOP_K", 3, minimum=1),
            retrieval_mode=_choice_env("DEPECHE_RETRIEVAL", RETRIEVAL_MODES),
            threads=_int_env("DEPECHE_THREADS", os.cpu_count() or 1, minimum=1),
            min_support=_float_env("DEPECHE_MIN_SUPPORT", cls.min_support),
            min_similarity=_optional_float_env("DEPECHE_MIN_SIMILARITY"),
            hybrid_alpha=_optional_float_env("DEPECHE_HYBRID_ALPHA"),
            answer_mode=_choice_env("DEPECHE_ANSWER", ANSWER_MODES),
            phrasing=_choice_env("DEPECHE_PHRASE", PHRASINGS),
            yes_no=_choice_env("DEPECHE_YES_NO", YES_NO_JUDGES),
            open_answer=_choice_env("DEPECHE_OPEN", OPEN_ANSWERS),
            min_confidence=_optional_float_env("DEPECHE_MIN_CONFIDENCE"),
            min_coverage=_float_env("DEPECHE_MIN_COVERAGE", cls.min_coverage),
            date_filter=_choice_env("DEPECHE_DATE_FILTER", ("on", "off")) == "on",
            lock_wait=_int_env("DEPECHE_LOCK_WAIT", cls.lock_wait),
            generation_timeout=_int_env("DEPECHE_GENERATION_TIMEOUT", cls.generation_timeout, minimum=1),
            chat_concurrency=_int_env("DEPECHE_CHAT_CONCURRENCY", cls.chat_concurrency, minimum=1),
            queue_depth=_int_env("DEPECHE_QUEUE_DEPTH", cls.queue_depth),
            read_timeout=_int_env("DEPECHE_READ_TIMEOUT", cls.read_timeout, minimum=1),
            read_memory_mb=_int_env("DEPECHE_READ_MEMORY_MB", cls.read_memory_mb, minimum=256),
            milvus_uri=env.get("DEPECHE_MILVUS_URI", "").strip(),
            milvus_token=env.get("DEPECHE_MILVUS_TOKEN", "").strip(),
            milvus_shards=_int_env("DEPECHE_MILVUS_SHARDS", cls.milvus_shards, minimum=1),
            milvus_replicas=_int_env("DEPECHE_MILVUS_REPLICAS", cls.milvus_replicas, minimum=1),
        )
