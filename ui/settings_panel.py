"""The «Réglages» tab: how this page searches, and what the server runs on.

The retrieval mode and top-k are the page's own (:class:`~ui.session.Session`): a change
applies to its next question, not to other readers. The models, the data folder and the
index are shown read-only.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from rag.errors import DepecheError
from rag.models.embedding import resolve_model_path
from rag.models.gguf import DEFAULT_LLM_NAME
from ui.session import MAX_TOP_K, AppContext, Session

MODE_LABELS = {
    "hybrid": "Hybride : sens et mots-clés",
    "dense": "Sens (vecteurs)",
    "bm25": "Mots-clés (BM25)",
}


def size_text(size: int | None) -> str:
    """``250_000_000`` -> ``"238 Mo"``; ``1.5 * 2**30`` -> ``"1,5 Go"``; None -> ``"taille inconnue"``."""
    if size is None:
        return "taille inconnue"
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} Go".replace(".", ",")
    return f"{max(1, round(size / 1024**2))} Mo"


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def generator_file(generator) -> Path | None:
    """The GGUF file a llama.cpp generator loaded, if it says."""
    path = getattr(getattr(generator, "llm", None), "model_path", None)
    return Path(path) if path else None


def facts_markdown(context: AppContext) -> str:
    """The models, the data folder and the index, as Markdown."""
    settings, generator = context.settings, context.pipeline.generator
    gguf = generator_file(generator)
    llm = f"**{DEFAULT_LLM_NAME}**, " if settings.llm_path is None and gguf is not None else ""
    llm += f"`{getattr(generator, 'name', type(generator).__name__)}`"
    llm += f", {size_text(gguf.stat().st_size)}" if gguf is not None and gguf.is_file() else ""
    if context.embedder is None:
        embedding = f"`{settings.embed_model}`, non chargé : ce serveur cherche par mots-clés seulement"
    else:
        try:
            size = size_text(folder_size(resolve_model_path(settings.embed_model, settings.cache)))
        except DepecheError:
            size = size_text(None)
        embedding = f"`{settings.embed_model}`, {context.embedder.dimension} dimensions, {size}"
    try:
        documents, chunks = context.store.counts()
        info = context.store.info
        index = (
            f"{context.store.version} : {documents} documents, {chunks} passages "
            f"(passages de {info.chunk_size} caractères, chevauchement {info.chunk_overlap}) ; "
            f"magasin {context.store.location}"
        )
    except DepecheError as error:
        index = f"illisible : {error}"
    return "\n".join(
        [
            "### Modèles",
            f"- Génération : {llm}",
            f"- Embedding : {embedding}",
            "",
            "### Données",
            f"- Dossier : `{settings.home}`",
            f"- Index : {index}",
            f"- Avis des lecteurs : `{settings.feedback_db}`",
        ]
    )


def set_mode(mode: str, session: Session) -> Session:
    session.mode = mode
    return session


def set_top_k(top_k: float, session: Session) -> Session:
    session.top_k = int(top_k)
    return session


def settings_tab(context: AppContext, session: gr.State) -> gr.Markdown:
    """The tab's components, inside the caller's ``with gr.Tab(...)``; returns the facts,
    for the caller to refresh with :func:`facts_markdown` when the tab is opened."""
    gr.Markdown("Ces réglages valent pour cette page et s'appliquent à la prochaine question.")
    with gr.Row():
        mode = gr.Radio(
            [(MODE_LABELS[m], m) for m in context.modes],
            value=context.default_mode(),
            label="Mode de recherche",
            info="Sans modèle d'embedding chargé, seule la recherche par mots-clés est possible."
            if context.embedder is None
            else "Hybride : le meilleur des deux, recommandé.",
            elem_id="depeche-mode",
        )
        top_k = gr.Slider(
            1,
            MAX_TOP_K,
            value=context.pipeline.top_k,
            step=1,
            label="Passages montrés au modèle",
            info="Plus de passages : plus de contexte, mais des réponses plus lentes.",
            elem_id="depeche-top-k",
        )
    facts = gr.Markdown(facts_markdown(context), elem_id="depeche-facts")
    mode.change(set_mode, [mode, session], [session], api_visibility="private", queue=False)
    top_k.change(set_top_k, [top_k, session], [session], api_visibility="private", queue=False)
    return facts
