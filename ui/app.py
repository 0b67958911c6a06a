"""The chat window: a streamed, cited answer, with the passages it was given under it."""

from __future__ import annotations

import html
import os
from collections.abc import Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls

import gradio as gr  # noqa: E402

from rag.errors import DepecheError  # noqa: E402
from rag.pipeline import Answer, Pipeline  # noqa: E402

EXAMPLES = [
    "Dans quelle ville OpenAI va-t-elle ouvrir un bureau en Allemagne ?",
    "Qui est Hubert Aiwanger ?",
    "Pourquoi OpenAI s'installe-t-elle à Paris ?",
]


def sources_markdown(answer: Answer) -> str:
    """The passages shown to the model, numbered like the answer's markers; cited ones first-class."""
    if not answer.passages:
        return ""
    lines = ["", "---", "**Sources**", ""]
    for number, passage in enumerate(answer.passages, start=1):
        cited = " ✓" if number in answer.citations else ""
        name = html.escape(os.path.basename(passage.source))
        heading = html.escape(f"[{number}] {passage.title} — {passage.date or 'date inconnue'}")
        lines.append(
            f"<details><summary><b>{heading}</b>{cited} · {name}, caractère {passage.start}</summary>"
            f"\n\n{html.escape(passage.text)}\n\n</details>"
        )
    return "\n".join(lines)


def make_respond(pipeline: Pipeline):
    def respond(message: str, history: list[dict]) -> Iterator[str]:
        try:
            stream = pipeline.ask(message)
            text = ""
            for piece in stream:
                text += piece
                yield text
        except DepecheError as error:
            yield f"⚠️ {error}"
            return
        yield stream.answer.text + "\n" + sources_markdown(stream.answer)

    return respond


def build_app(pipeline: Pipeline, *, description: str = "") -> gr.ChatInterface:
    return gr.ChatInterface(
        fn=make_respond(pipeline),
        chatbot=gr.Chatbot(
            label="Dépêche",
            height="70vh",
            placeholder="Posez une question sur les articles du corpus.",
        ),
        textbox=gr.Textbox(placeholder="Votre question…", submit_btn="Envoyer", stop_btn="Arrêter"),
        examples=EXAMPLES,
        title="Dépêche",
        description=description
        or "Questions en français sur vos articles de presse ; chaque réponse cite ses passages [n].",
        api_name="chat",
        fill_height=True,
        save_history=False,
    )
