"""Text generation with a local llama.cpp model, streamed token by token.

A GGUF that carries a chat template is driven through it (``create_chat_completion``);
a base model without one gets the completion prompt and its stop sequences.
Decoding is greedy (temperature 0) with a repetition penalty and a token cap: a small
model left alone loops. One request at a time uses the model (a lock).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from rag.errors import ModelLoadError
from rag.prompting import Prompt

log = logging.getLogger(__name__)


class Generator(Protocol):
    name: str

    def stream(self, prompt: Prompt) -> Iterator[str]:
        """Yield the answer's text, piece by piece."""
        ...


class LlamaGenerator:
    def __init__(
        self,
        model_path: Path,
        *,
        threads: int,
        context_tokens: int = 4096,
        max_tokens: int = 200,
        repeat_penalty: float = 1.15,
    ) -> None:
        from llama_cpp import Llama

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

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=True))

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
