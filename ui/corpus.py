"""The Corpus tab: the documents of the index, adding files, removing a document.

:func:`corpus_tab` lays the components out inside the caller's ``with gr.Tab("Corpus"):``;
what the buttons do lives in :class:`CorpusActions`, plain methods a test calls without a
browser. Every change goes through :mod:`index.update` (``add_documents``,
``remove_documents``), like ``python -m index add`` / ``remove``: it publishes a new
version of the index, which the chat's :class:`~rag.store.live.LiveIndex` follows without a restart.

The RSS/Atom feeds the index follows (``python -m index add-feed``, :mod:`index.feeds`) are
listed under the documents, with their last refresh, refreshed with the documents' list.

A :class:`~rag.errors.DepecheError` (the index is busy, missing, built with another model…)
is shown as its one-line message, never as a traceback.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import gradio as gr
from gradio.context import Context as BlocksContext

from index.feed_registry import FeedRegistry, local_time
from index.update import add_documents, remove_documents
from rag.config import Settings
from rag.errors import DepecheError
from rag.models.vector_cache import kept_until_published
from rag.sources.files import SUPPORTED_SUFFIXES
from ui.uploads import MAX_FILE_BYTES, MAX_FILES, megabytes, save_uploads, upload_folder

log = logging.getLogger(__name__)

HEADERS = ["Titre", "Date", "Source", "Passages", "Id"]
FEED_HEADERS = ["Flux", "Adresse", "Dernière lecture", "Entrées", "Ajoutées", "Erreur"]
UI_LOCK_WAIT = 60  # seconds an upload or removal waits for another index command, then says so
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>#|~])")


class Context(Protocol):
    """What the tab needs of the app (``ui.session.AppContext``)."""

    settings: Settings
    embedder: Any  # None when the chat runs in bm25 mode: one is loaded lazily for indexing
    store: Any  # a LiveIndex


def escape(text: str) -> str:
    """Text shown as is inside Markdown: a file named ``*<img>*.txt`` is not formatted."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


@dataclass(frozen=True)
class Outcome:
    """What a button did: one line, then one line per file that needs attention."""

    summary: str
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "\n".join([self.summary, *(f"- {note}" for note in self.notes)])

    def markdown(self) -> str:
        return "\n".join([f"**{escape(self.summary)}**", *(f"- {escape(note)}" for note in self.notes)])


class CorpusActions:
    """What the Corpus tab's buttons do, with plain values in and out."""

    def __init__(
        self,
        context: Context,
        *,
        max_files: int = MAX_FILES,
        max_bytes: int = MAX_FILE_BYTES,
        lock_wait: int = UI_LOCK_WAIT,
    ) -> None:
        self.context = context
        self.max_files = max_files
        self.max_bytes = max_bytes
        settings = context.settings
        # The page waits for another writer a minute at most, then says the index is busy.
        self.settings = settings.with_(lock_wait=min(settings.lock_wait, lock_wait))
        self._embedder = context.embedder
        self._embedder_lock = threading.Lock()

    @property
    def store(self):
        return self.context.store

    @property
    def uploads(self) -> Path:
        return upload_folder(self.settings.home)

    def embedder(self):
        """The chat's embedder; in bm25 mode, the configured one, loaded on first use."""
        with self._embedder_lock:
            if self._embedder is None:
                from rag.components import lazy_embedder

                self._embedder = lazy_embedder(self.settings)
            return self._embedder

    # -- the table --------------------------------------------------------------------------

    def _source(self, doc_id: str, source: str) -> str:
        name = os.path.basename(source.rstrip("/")) or source
        if "://" in source or Path(source).suffix.lower() in (".html", ".htm"):  # a web page, a feed entry
            document = self.store.document(doc_id)
            if document is not None and document.site:
                return f"{document.site} ({name})"
        return name

    def rows(self) -> list[list]:
        """One row per document: title, date, source (file name, or site), passages, id."""
        try:
            documents = self.store.documents()
        except DepecheError as error:
            log.warning("documents not listed: %s", error)
            return []
        return [[d.title, d.date or "—", self._source(d.doc_id, d.source), d.chunks, d.doc_id] for d in documents]

    def feed_rows(self) -> list[list]:
        """One row per registered feed: title, address, last refresh, entries, added then, last error."""
        try:
            feeds = FeedRegistry(self.settings.feeds_db).feeds()
        except DepecheError as error:
            log.warning("feeds not listed: %s", error)
            return []
        return [[f.title, f.location, local_time(f.refreshed_at), f.entries, f.added, f.error or ""] for f in feeds]

    def choices(self) -> list[tuple[str, str]]:
        """The documents offered for removal: ``("titre — id", id)``."""
        try:
            return [(f"{d.title} — {d.doc_id}", d.doc_id) for d in self.store.documents()]
        except DepecheError:
            return []

    def counts(self) -> str:
        try:
            documents, chunks = self.store.counts()
        except DepecheError as error:
            return str(error)
        return f"{documents} documents, {chunks} passages dans l'index."

    # -- adding -----------------------------------------------------------------------------

    def add(
        self,
        files: Sequence[Path | str] | None,
        *,
        progress: bool = True,
        on_wait: Callable[[str], None] | None = None,
        keep_near_duplicates: bool = False,
    ) -> Outcome:
        """Save the uploaded files and index them: the index's summary, the refusals and its notes."""
        files = [f for f in (files or []) if f]
        if not files:
            return Outcome("Choisissez d'abord un ou plusieurs fichiers.")
        saved, rejected = save_uploads(files, self.uploads, max_files=self.max_files, max_bytes=self.max_bytes)
        refused = tuple(f"refusé : {line}" for line in rejected)
        if not saved:
            return Outcome("Aucun fichier indexé.", refused)
        try:
            with kept_until_published(self.embedder(), self.settings.home) as embedder:
                report = add_documents(
                    self.settings,
                    saved,
                    embedder,
                    keep_near_duplicates=keep_near_duplicates,
                    progress=progress,
                    on_wait=on_wait,
                )
        except DepecheError as error:
            return Outcome(str(error), refused)
        return Outcome(report.summary(), (*refused, *report.notes()))

    # -- removing ---------------------------------------------------------------------------

    def removal_question(self, doc_id: str | None) -> str | None:
        """The confirmation asked before removing ``doc_id``; ``None`` if there is no such document."""
        if not doc_id:
            return None
        try:
            document = self.store.document(doc_id)
        except DepecheError:
            return None
        if document is None:
            return None
        return f"Retirer « {document.title} » de l'index ?"

    def remove(self, doc_id: str, *, on_wait: Callable[[str], None] | None = None) -> Outcome:
        """Remove one document (the user has confirmed); its copy in the upload folder goes too."""
        try:
            document = self.store.document(doc_id)
            report = remove_documents(self.settings, [doc_id], on_wait=on_wait)
        except DepecheError as error:
            return Outcome(str(error))
        if report.removed and document is not None:
            self._forget_upload(Path(document.source))
        return Outcome(report.summary(), tuple(report.notes()))

    def _forget_upload(self, source: Path) -> None:
        """Delete the uploaded copy of a removed document, so that a rebuild does not bring it back
        (files the user indexed from elsewhere are never touched)."""
        try:
            if source.parent.resolve() != self.uploads.resolve() or source.is_symlink():
                return
            if any(Path(d.source) == source for d in self.store.documents()):
                return  # another document still reads it
            source.unlink(missing_ok=True)
        except (OSError, DepecheError) as error:
            log.warning("uploaded copy %s not deleted: %s", source, error)


def _info(message: str) -> None:
    """A writer is waiting for the lock: say so in a toast."""
    gr.Info(message)


class CorpusTab(CorpusActions):
    """The handlers the tab's events call: :class:`CorpusActions` results as Gradio outputs.

    Removal takes two clicks: «Retirer» only asks (the confirmation row shows, the id is kept
    in a ``gr.State``), «Confirmer» removes what was asked, «Annuler» forgets it.
    """

    def refreshed(self) -> tuple:
        """Outputs: the table, the counts line, the removal choices."""
        return self.rows(), self.counts(), gr.update(choices=self.choices(), value=None)

    def on_index(self, uploaded, keep_near=False, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - Gradio's idiom
        """Outputs: the report, the (cleared) upload box, then :meth:`refreshed`."""
        progress(0, desc="Indexation…")
        outcome = self.add(uploaded, progress=True, on_wait=_info, keep_near_duplicates=bool(keep_near))
        return (outcome.markdown(), None, *self.refreshed())

    def on_remove(self, doc_id):
        """Outputs: the report, the pending id, the confirmation row, its question."""
        asked = self.removal_question(doc_id)
        if asked is None:
            return "Choisissez d'abord un document à retirer.", None, gr.update(visible=False), ""
        return "", doc_id, gr.update(visible=True), f"**{escape(asked)}**"

    def on_confirm(self, doc_id):
        """Outputs: the report, the pending id, the confirmation row, then :meth:`refreshed`."""
        message = self.remove(doc_id, on_wait=_info).markdown() if doc_id else "Rien à retirer."
        return (message, None, gr.update(visible=False), *self.refreshed())

    def on_cancel(self):
        """Outputs: the report, the pending id, the confirmation row."""
        return "Retrait annulé.", None, gr.update(visible=False)


def corpus_tab(context: Context, *, tab: CorpusTab | None = None) -> CorpusTab:
    """Build the Corpus tab's components inside the current ``gr.Tab`` and wire them."""
    tab = tab or CorpusTab(context)
    suffixes = list(SUPPORTED_SUFFIXES)
    shown_formats = " ".join(s for s in suffixes if s != ".markdown")

    counts = gr.Markdown(tab.counts(), elem_id="depeche-corpus-counts")
    table = gr.Dataframe(
        value=tab.rows(),
        headers=HEADERS,
        datatype=["str", "str", "str", "number", "str"],
        interactive=False,
        wrap=True,
        # In pixels: a narrow screen scrolls the table inside its frame, not the whole page.
        column_widths=["440px", "110px", "260px", "95px", "250px"],
        label="Documents",
        max_height=420,
        elem_id="depeche-corpus-table",
    )
    feeds = gr.Dataframe(
        value=tab.feed_rows(),
        headers=FEED_HEADERS,
        datatype=["str", "str", "str", "number", "number", "str"],
        interactive=False,
        wrap=True,
        label="Flux RSS/Atom suivis (python -m index add-feed URL, puis python -m index refresh)",
        max_height=240,
        elem_id="depeche-corpus-feeds",
    )
    refresh = gr.Button("Rafraîchir la liste", size="sm", elem_id="depeche-corpus-refresh")

    gr.Markdown(
        f"### Ajouter des articles\nFormats : {shown_formats} · {tab.max_files} fichiers au plus par envoi, "
        f"{megabytes(tab.max_bytes)} au plus par fichier."
    )
    files = gr.File(
        file_count="multiple",
        file_types=suffixes,
        type="filepath",
        label="Fichiers à indexer",
        elem_id="depeche-upload",
    )
    keep_near = gr.Checkbox(
        value=False,
        label="Indexer aussi les quasi-doublons (la même dépêche reprise par un autre titre)",
        elem_id="depeche-keep-near",
    )
    index_button = gr.Button("Indexer", variant="primary", elem_id="depeche-index")
    report = gr.Markdown(elem_id="depeche-corpus-report", min_height=40)

    gr.Markdown("### Retirer un document")
    with gr.Row(equal_height=True):
        choice = gr.Dropdown(
            choices=tab.choices(),
            value=None,
            label="Document",
            scale=4,
            elem_id="depeche-remove-choice",
        )
        remove_button = gr.Button("Retirer", variant="stop", scale=1, elem_id="depeche-remove")
    pending = gr.State(None)
    with gr.Row(visible=False, elem_id="depeche-remove-confirm") as confirm_row:
        question = gr.Markdown()
        confirm = gr.Button("Confirmer", variant="stop", elem_id="depeche-remove-yes")
        cancel = gr.Button("Annuler", elem_id="depeche-remove-no")

    listing = [table, counts, choice]
    # The list as it is now each time the page opens and the tab is shown: another page or
    # `python -m index add` may have changed the index since the app was built.
    root, parent = BlocksContext.root_block, BlocksContext.block
    quiet = {"api_visibility": "private", "show_progress": "hidden"}
    if root is not None:
        root.load(tab.refreshed, outputs=listing, **quiet)
        root.load(tab.feed_rows, outputs=[feeds], **quiet)
    if isinstance(parent, gr.Tab):
        parent.select(tab.refreshed, outputs=listing, **quiet)
        parent.select(tab.feed_rows, outputs=[feeds], **quiet)
    writer = {"concurrency_limit": 1, "concurrency_id": "depeche-index-writer", "api_visibility": "private"}
    refresh.click(tab.refreshed, outputs=listing, api_visibility="private")
    refresh.click(tab.feed_rows, outputs=[feeds], **quiet)
    index_button.click(
        tab.on_index, inputs=[files, keep_near], outputs=[report, files, *listing], show_progress_on=[report], **writer
    )
    remove_button.click(
        tab.on_remove, inputs=[choice], outputs=[report, pending, confirm_row, question], api_visibility="private"
    )
    confirm.click(
        tab.on_confirm,
        inputs=[pending],
        outputs=[report, pending, confirm_row, *listing],
        show_progress_on=[report],
        **writer,
    )
    cancel.click(tab.on_cancel, outputs=[report, pending, confirm_row], api_visibility="private")
    return tab
