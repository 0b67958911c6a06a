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


def revision_markdown(answer: Answer) -> str:
    """What the check changed in the streamed draft, for the reader to see."""
    if not answer.revised:
        return ""
    removed = "".join(f"\n- ~~{html.escape(s)}~~" for s in answer.dropped)
    if answer.refused:
        what = "Le brouillon n'était pas étayé par les passages : pas de réponse."
    elif any(s.origin == "quote" for s in answer.sentences):
        what = "Le brouillon n'était pas étayé par les passages : voici la phrase du passage la plus proche."
    else:
        what = "Phrases non étayées par les passages retirées."
    return (
        f"\n\n<details><summary><i>Réponse corrigée après vérification.</i></summary>\n\n{what}{removed}\n\n</details>"
    )


def sources_markdown(answer: Answer) -> str:
    """The passages shown to the model, numbered like the answer's markers; cited ones first-class."""
    if not answer.passages:
        return ""
    heading = "**Passages les plus proches, à vérifier**" if answer.refused else "**Sources**"
    lines = ["", "---", heading, ""]
    for number, passage in enumerate(answer.passages, start=1):
        cited = " ✓" if number in answer.citations else ""
        name = html.escape(os.path.basename(passage.source))
        heading = html.escape(f"[{number}] {passage.title} — {passage.date or 'date inconnue'}")
        lines.append(
            f"<details><summary><b>{heading}</b>{cited} · {name}, {passage.location}</summary>"
            f"\n\n{html.escape(passage.text)}\n\n</details>"
        )
    return "\n".join(lines)


def make_respond(pipeline: Pipeline):
    def respond(message: str, history: list[dict]) -> Iterator[str]:
        asked = [m["content"] for m in history if m.get("role") == "user" and isinstance(m.get("content"), str)]
        try:
            stream = pipeline.ask(message, asked)
            text = ""
            for piece in stream:
                text += piece
                yield text
        except DepecheError as error:
            yield f"⚠️ {error}"
            return
        answer = stream.answer
        yield answer.text + revision_markdown(answer) + "\n" + sources_markdown(answer)

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
