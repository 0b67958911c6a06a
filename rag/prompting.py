"""Prompts that show the model numbered passages and ask for a cited French answer.

Two forms of the same content: a completion prompt with a worked example and stop
sequences, for base models (Gemma 3 270M has no chat template), and chat messages,
for models whose GGUF carries a chat template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.store import Passage

REFUSAL = "Je ne trouve pas cette information dans les documents."

INSTRUCTIONS = (
    "Réponds à la question en français, uniquement à partir des extraits numérotés. "
    "Après chaque phrase, cite l'extrait qui la justifie avec son numéro entre crochets, comme [1]. "
    f"Si les extraits ne contiennent pas la réponse, écris seulement : « {REFUSAL} »"
)

# One worked example teaches a base model the format: short answer, then its marker.
_EXAMPLE = (
    "Extraits :\n"
    "[1] Tramway : la ligne T10 est ouverte\n"
    "Article du 2024-06-15. La métropole de Lyon a inauguré samedi la ligne de tramway T10, "
    "qui relie Gerland à Vénissieux.\n"
    "[2] Festival de jazz de Vienne\n"
    "Article du 2024-07-01. Le festival attend 200 000 spectateurs au théâtre antique cet été.\n\n"
    "Question : Quelle ville la ligne T10 relie-t-elle à Gerland ?\n"
    "Réponse : La ligne T10 relie Gerland à Vénissieux [1].\n\n"
    "Question : Combien a coûté la ligne T10 ?\n"
    f"Réponse : {REFUSAL}\n\n"
)

STOP_SEQUENCES = ["\n", "Question :", "Extraits :"]  # one paragraph, then stop


@dataclass(frozen=True)
class Prompt:
    """The same request as completion text (base models) and as chat messages."""

    text: str
    messages: list[dict[str, str]] = field(default_factory=list)
    stop: list[str] = field(default_factory=lambda: list(STOP_SEQUENCES))


def format_passages(passages: Sequence[Passage], texts: Sequence[str] | None = None) -> str:
    """Numbered extracts: each passage's title, date and text (or ``texts``, its evidence)."""
    blocks = []
    for number, passage in enumerate(passages, start=1):
        dated = f"Article du {passage.date}. " if passage.date else ""
        text = passage.text if texts is None else texts[number - 1]
        blocks.append(f"[{number}] {passage.title}\n{dated}{text.strip()}")
    return "\n".join(blocks)


def build_prompt(question: str, passages: Sequence[Passage], evidence: Sequence[str] | None = None) -> Prompt:
    """The prompt for ``question``; ``evidence`` (one text per passage) replaces the passages' text."""
    extracts = format_passages(passages, evidence)
    text = f"{INSTRUCTIONS}\n\n{_EXAMPLE}Extraits :\n{extracts}\n\nQuestion : {question}\nRéponse :"
    messages = [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": f"Extraits :\n{extracts}\n\nQuestion : {question}"},
    ]
    return Prompt(text=text, messages=messages)
