"""Text generation with a local llama.cpp model, streamed token by token.

A GGUF that carries a chat template is driven through it (``create_chat_completion``);
a base model without one gets the completion prompt and its stop sequences.
Decoding is greedy (temperature 0) with a repetition penalty and a token cap: a small
model left alone loops. One request at a time uses the model (a lock).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from rag.answer.prompting import Prompt
from rag.errors import ModelLoadError

log = logging.getLogger(__name__)


class Generator(Protocol):
    name: str

    def stream(self, prompt: Prompt) -> Iterator[str]:
        """Yield the answer's text, piece by piece."""
        ...

    def fits(self, prompt: Prompt) -> bool:
        """Whether the prompt leaves room for an answer in the model's context."""
        ...

    def choose(self, text: str, options: Sequence[str]) -> dict[str, float]:
        """How likely the model is to continue ``text`` with each option (its first token's
        probability, renormalized over the options): the model chooses, it does not write."""
        ...


def _route_llama_logs() -> None:
    """Send llama.cpp's own log lines to Python logging (errors shown, the rest hidden).

    llama-cpp-python prints some notices to stderr even with ``verbose=False``.
    """
    import ctypes

    import llama_cpp

    global _llama_log_callback
    if _llama_log_callback is not None:
        return

    @llama_cpp.llama_log_callback
    def forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        message = text.decode("utf-8", errors="replace").rstrip()
        if message:
            llama_log.log(_LLAMA_LEVELS.get(level, logging.DEBUG), "%s", message)

    _llama_log_callback = forward  # keep a reference: C holds only a pointer
    llama_cpp.llama_log_set(forward, ctypes.c_void_p(0))


llama_log = logging.getLogger("rag.llama_cpp")
# ggml_log_level: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5. llama.cpp's warnings
# are notices for developers (cache layout, context size), so they go to INFO.
_LLAMA_LEVELS = {3: logging.INFO, 4: logging.ERROR}
_llama_log_callback = None


class LlamaGenerator:
    def __init__(
        self,
        model_path: Path,
        *,
        threads: int,
        context_tokens: int = 4096,
        max_tokens: int = 200,
        repeat_penalty: float = 1.05,  # mild: a stronger penalty pushes the model off the words it should copy
    ) -> None:
        import llama_cpp
        from llama_cpp import Llama

        from rag.models.llama_check import FIX, amx_enabled

        _route_llama_logs()
        self.system_info = llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()
        if amx_enabled(self.system_info):  # its first matrix product may kill the process
            raise ModelLoadError(
                f"llama.cpp est compilé avec AMX, dont le chemin plante sur certains Xeon (llama.cpp #20824) : {FIX}."
            )
        try:
            self.llm = Llama(
                model_path=str(model_path),
                n_ctx=context_tokens,
                n_threads=threads,  # llama.cpp would use half the cores by default
                n_threads_batch=threads,
                seed=0,
                verbose=False,
            )
        except (ValueError, RuntimeError) as error:
            raise ModelLoadError(f"Chargement du modèle {model_path.name} impossible : {error}") from None
        self.name = model_path.name
        self.chat_template = self.llm.metadata.get("tokenizer.chat_template")
        self.context_tokens = context_tokens
        self.max_tokens = max_tokens
        self.repeat_penalty = repeat_penalty
        self._lock = threading.Lock()
        log.info("LLM %s (%s)", self.name, "chat template" if self.chat_template else "completion")

    def worker_info(self) -> dict[str, str | None]:
        """What a parent process learns of the model once it is loaded (:mod:`rag.models.worker`)."""
        return {"name": self.name, "system_info": self.system_info, "chat_template": self.chat_template}

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=True))

    def fits(self, prompt: Prompt) -> bool:
        if self.chat_template:  # the template adds a few dozen tokens of its own
            text = "\n".join(m["content"] for m in prompt.messages)
            return self.count_tokens(text) + 64 + self.max_tokens <= self.context_tokens
        return self.count_tokens(prompt.text) + self.max_tokens <= self.context_tokens

    def choose(self, text: str, options: Sequence[str]) -> dict[str, float]:
        """See :meth:`Generator.choose`. The prompt is evaluated (its prefix shared with the last
        prompt is reused, as llama-cpp-python does for completions), then the last token's
        logits are read: an option scores the best of its possible first tokens («Oui», « Oui»,
        « oui»…), and the scores are turned into probabilities over the options."""
        import llama_cpp
        import numpy as np

        tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=True)
        firsts = {
            option: {
                ids[0]
                for variant in (option, " " + option, option.lower(), " " + option.lower())
                if (ids := self.llm.tokenize(variant.encode("utf-8"), add_bos=False))
            }
            for option in options
        }
        with self._lock:
            cached = self.llm.input_ids[: self.llm.n_tokens].tolist()
            prefix = 0
            for kept, new in zip(cached, tokens[:-1], strict=False):  # at least the last token is evaluated
                if kept != new:
                    break
                prefix += 1
            self.llm.n_tokens = prefix
            self.llm.eval(tokens[prefix:])
            last = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
            logits = np.ctypeslib.as_array(last, shape=(self.llm.n_vocab(),))
            scores = {option: float(max(logits[i] for i in ids)) for option, ids in firsts.items()}
        peak = max(scores.values())
        weights = {option: math.exp(score - peak) for option, score in scores.items()}
        total = sum(weights.values())
        return {option: weight / total for option, weight in weights.items()}

    def stream(self, prompt: Prompt) -> Iterator[str]:
        options = dict(
            max_tokens=self.max_tokens,
            temperature=0.0,
            repeat_penalty=self.repeat_penalty,
            stop=prompt.stop,
            stream=True,
        )
        with self._lock:
            if self.chat_template:
                for chunk in self.llm.create_chat_completion(messages=prompt.messages, **options):
                    if text := chunk["choices"][0]["delta"].get("content"):
                        yield text
            else:
                for chunk in self.llm.create_completion(prompt.text, **options):
                    if text := chunk["choices"][0]["text"]:
                        yield text
