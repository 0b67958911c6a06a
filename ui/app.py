"""The chat window: a Gradio app with three tabs.

- «Discussion» (:mod:`ui.chat`): the streamed, cited answer; its markers open the passages
  in the sources panel; 👍/👎; the ``chat`` API endpoint;
- «Corpus» (:mod:`ui.corpus`, when present): the documents of the index, adding and removing;
- «Réglages» (:mod:`ui.settings_panel`): retrieval mode and top-k, the models and the data.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls

import gradio as gr  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from ui.chat import chat_tab  # noqa: E402
from ui.session import AppContext  # noqa: E402
from ui.settings_panel import facts_markdown, settings_tab  # noqa: E402

try:
    from ui.corpus import corpus_tab
except ImportError:  # the Corpus tab is optional
    corpus_tab = None

TITLE = "Dépêche"
DESCRIPTION = "Chaque réponse cite ses passages [n] : cliquez sur un numéro pour lire le passage."


def header_markdown(context: AppContext) -> str:
    """The title, what the index holds now and the model that answers."""
    documents, chunks = context.store.counts()
    header = (
        f"# {TITLE}\n{documents} documents, {chunks} passages · modèle {context.pipeline.generator.name}. {DESCRIPTION}"
    )
    if warning := getattr(context.store, "warning", None):  # a damaged index version (rag.store.live)
        header += f"\n\n⚠️ {warning}"
    return header


def build_app(
    pipeline: Pipeline, *, settings: Settings | None = None, description: str = "", context: AppContext | None = None
) -> gr.Blocks:
    """The app for ``pipeline`` (``settings``: those it was built with; default: the environment's).

    ``context``: the server's shared parts, when the caller serves the API beside the app
    (:func:`launch_options`); made here otherwise."""
    context = context or AppContext.of(pipeline, settings or Settings.from_env())
    with gr.Blocks(title=f"{TITLE} : vos articles, vos réponses", fill_width=True) as app:
        header = gr.Markdown(
            f"# {TITLE}\n{description}" if description else header_markdown(context), elem_id="depeche-header"
        )
        session = gr.State(context.new_session())
        with gr.Tabs():
            with gr.Tab("Discussion", id="discussion"):
                chat_tab(context, session)
            if corpus_tab is not None:
                with gr.Tab("Corpus", id="corpus"):
                    corpus_tab(context)
            with gr.Tab("Réglages", id="reglages") as reglages:
                facts = settings_tab(context, session)
        # The index changes under a running chat (Corpus tab, `python -m index add`): read it anew.
        reglages.select(lambda: facts_markdown(context), None, facts, api_visibility="private", queue=False)
        if not description:  # the counts as they are when the page opens
            app.load(lambda: header_markdown(context), None, header, api_visibility="private", queue=False)
    return app


def launch_options(context: AppContext, auth: tuple[str, str] | None) -> dict[str, Any]:
    """``launch()``'s arguments for the login (:mod:`ui.login`) and the OpenAI-compatible API
    (:mod:`ui.openai_api`) on the app's port, whose key is the login's password."""
    from ui.login import secured_launch
    from ui.openai_api import OpenAIApi

    options = secured_launch(auth)
    api = OpenAIApi(context, password=auth[1] if auth else None)
    options.setdefault("app_kwargs", {})["routes"] = [api.mount()]
    return options
