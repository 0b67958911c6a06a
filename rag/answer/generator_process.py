"""The generation model in a supervised child process (:mod:`rag.models.worker`).

llama.cpp is native code: a crash in it (a CPU path that segfaults, an allocation that
fails) used to take the whole chat down. Here the model lives in a child process; the app
keeps only this proxy, which follows the :class:`~rag.answer.generation.Generator` protocol.
If the child dies or an answer passes ``timeout_s``, that question gets one French line
(:class:`GenerationError`), the child is killed and restarted, and the next question is
answered. Streaming is unchanged: each piece is passed on as the child yields it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from rag.answer.prompting import Prompt
from rag.errors import DepecheError
from rag.models.worker import Spec, Worker, WorkerFailure

LLAMA_FACTORY = "rag.answer.generation:LlamaGenerator"
CHECK_TIMEOUT_S = 30.0  # fits() and choose(): one prompt evaluation, no generation


class GenerationError(DepecheError):
    """The model's process died or passed its time limit during one request."""


class ProcessGenerator:
    """A :class:`~rag.answer.generation.Generator` whose model runs in a child process.

    ``spec`` builds the served generator in the child (``LlamaGenerator`` by default, see
    :func:`llama_spec`; tests serve fakes). The constructor waits until it is loaded, so a
    model that does not load fails here, with its own message; with ``wait=False`` (a
    one-question command, whose answer may never need the model) it starts the process and
    returns at once, and the first use waits for it.
    """

    def __init__(self, spec: Spec, *, timeout_s: float, wait: bool = True) -> None:
        self.timeout_s = timeout_s
        self.spec = spec
        self.worker = Worker(spec, what="Le modèle de langue")
        self.worker.start()
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until the model is loaded; a model that does not load fails here."""
        self.worker.wait_ready()

    def _info(self) -> dict:
        self.worker.wait_ready()
        return self.worker.info or {}

    @property
    def name(self) -> str:
        return self._info().get("name", self.spec.factory)

    @property
    def system_info(self) -> str:
        return self._info().get("system_info", "")

    @property
    def chat_template(self) -> str | None:
        return self._info().get("chat_template")

    def fits(self, prompt: Prompt) -> bool:
        return self._call("fits", prompt)

    def choose(self, text: str, options: Sequence[str]) -> dict[str, float]:
        return self._call("choose", text, list(options))

    def stream(self, prompt: Prompt) -> Iterator[str]:
        try:
            yield from self.worker.stream("stream", prompt, timeout_s=self.timeout_s)
        except WorkerFailure as failure:
            raise GenerationError(_message(failure)) from None

    def close(self) -> None:
        self.worker.stop()

    @property
    def overhead_s(self) -> float:
        """Seconds spent outside the model's own work since start, over every request."""
        return self.worker.overhead_total

    @property
    def overheads(self) -> list[float]:
        """Seconds each request spent outside the model's own work (pipes, pickling)."""
        return list(self.worker.overheads)

    def _call(self, method: str, *args):
        try:
            return self.worker.call(method, *args, timeout_s=min(self.timeout_s, CHECK_TIMEOUT_S))
        except WorkerFailure as failure:
            raise GenerationError(_message(failure)) from None


def _message(failure: WorkerFailure) -> str:
    return f"{failure} pendant cette réponse ; il redémarre : posez la question à nouveau."


def llama_spec(model_path: Path, *, threads: int, context_tokens: int, max_tokens: int) -> Spec:
    """What the child loads: the GGUF at ``model_path`` with these settings."""
    return Spec(
        LLAMA_FACTORY,
        (Path(model_path),),
        {"threads": threads, "context_tokens": context_tokens, "max_tokens": max_tokens},
    )
