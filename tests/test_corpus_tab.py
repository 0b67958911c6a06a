"""The Corpus tab without a browser: safe upload names and limits, indexing, removal with confirmation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from index.build import build_index
from rag.config import Settings
from rag.store.live import LiveIndex
from rag.store.versions import write_lock
from tests.conftest import SEEDS
from ui.corpus import CorpusTab, corpus_tab
from ui.uploads import MAX_FILE_BYTES, MAX_FILES, megabytes, safe_name, save_uploads, upload_folder

ARTICLE = "Tramway à Lyon\n\nLa ligne de tramway T10 relie Gerland à Vénissieux depuis samedi.\n"
MUNICH = "2025-03-27-openai-munich"


@dataclass
class Context:  # the attributes ui.session.AppContext gives the tab
    settings: Settings
    embedder: Any
    store: LiveIndex


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def upload(folder: Path, name: str, text: str = ARTICLE) -> Path:
    """A file as Gradio hands it over: a temporary folder, the browser's name as basename."""
    path = folder / f"gradio-{len(list(folder.iterdir())) if folder.exists() else 0}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- safe names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Tramway à Lyon.txt", "tramway-a-lyon.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\x.txt", "x.txt"),
        ("C:\\Users\\moi\\Mes documents\\Rapport Final.DOCX", "rapport-final.docx"),
        (".hidden.md", "hidden.md"),
        ("...md", None),
        (".md", None),
        ("a\x00b.txt", "ab.txt"),
        ("ligne\nsuivante\r.html", "lignesuivante.html"),
        ("Über 東京 ñ.HTM", "uber-n.htm"),
        ("東京.pdf", "document.pdf"),
        ("article.txt. ", "article.txt"),
        ("x" * 5000 + ".pdf", "x" * 80 + ".pdf"),
        ("programme.exe", None),
        ("archive.tar.gz", None),
        ("sans-suffixe", None),
        ("rapport.doc", None),
        ("..", None),
        ("", None),
    ],
)
def test_safe_name_is_a_bare_name_with_a_known_suffix(name, expected):
    result = safe_name(name)
    assert result == expected
    if result is not None:
        assert "/" not in result and "\\" not in result and not result.startswith(".")
        assert result == os.path.basename(result) and len(result.encode()) < 255


def test_megabytes_uses_a_french_decimal_comma():
    assert megabytes(35 * 1024 * 1024) == "35 Mo"
    assert megabytes(int(20.3 * 1024 * 1024)) == "20,3 Mo"


def test_nasty_names_write_nothing_outside_the_upload_folder(tmp_path):
    incoming, home = tmp_path / "incoming", tmp_path / "home"
    folder = upload_folder(home)
    names = [
        "..\\..\\x.txt",
        "..\\..\\..\\etc\\passwd.txt",
        ".hidden.md",
        "ligne\nsuivante.txt",
        "tab\tcarriage\r.md",
        "y" * 250 + ".txt",
        "Été à Paris — dépêche №1.html",
        "..txt",
    ]
    files = [upload(incoming, name, f"Titre {i}\n\nTexte numéro {i}.") for i, name in enumerate(names)]
    (incoming / "sub").mkdir()
    files.append(incoming / "sub" / ".." / ".." / "incoming" / files[0].parent.name / files[0].name)  # ../ in the path
    before = tree(tmp_path)
    saved, rejected = save_uploads([*files, "bad\x00name.txt"], folder, max_files=20, max_bytes=1024)
    written = tree(tmp_path) - before
    assert written and all(entry.startswith("home") for entry in written)
    assert {p.parent for p in saved} == {folder}
    assert all(p.resolve().parent == folder.resolve() for p in saved)
    assert {p.name for p in folder.iterdir()} == {p.name for p in saved}  # no temporary copy left
    assert not any(p.name.startswith(".") for p in saved)
    assert sorted(p.name for p in saved) == sorted(
        [
            "x.txt",
            "passwd.txt",
            "hidden.md",
            "lignesuivante.txt",
            "tabcarriage.md",
            "y" * 80 + ".txt",
            "ete-a-paris-depeche-no1.html",
        ]
    )
    assert len(rejected) == 2  # "..txt" has no name; the NUL name cannot even be opened
    assert all("\n" not in line and "\x00" not in line for line in rejected)


def test_unchanged_content_reuses_the_file_and_other_content_gets_a_number(tmp_path):
    folder = tmp_path / "home" / "uploads"
    first = upload(tmp_path / "in", "Lyon.txt")
    (saved,), _ = save_uploads([first], folder)
    assert saved == folder / "lyon.txt"
    again, _ = save_uploads([upload(tmp_path / "in", "lyon.TXT")], folder)
    assert again == [saved]
    other, _ = save_uploads([upload(tmp_path / "in", "LYON.txt", "Autre\n\nUn autre texte.")], folder)
    assert other == [folder / "lyon-2.txt"]
    third, _ = save_uploads([upload(tmp_path / "in", "lyon.txt", "Encore\n\nUn troisième texte.")], folder)
    assert third == [folder / "lyon-3.txt"]
    back, _ = save_uploads([upload(tmp_path / "in", "lyon.txt", "Autre\n\nUn autre texte.")], folder)
    assert back == [folder / "lyon-2.txt"]
    assert saved.read_text(encoding="utf-8") == ARTICLE  # never overwritten


def test_limits_have_one_clear_line(tmp_path):
    folder = tmp_path / "uploads"
    many = [upload(tmp_path / "in", f"a{i}.txt") for i in range(21)]
    saved, rejected = save_uploads(many, folder, max_files=20)
    assert saved == [] and rejected == ["21 fichiers : 20 au plus par envoi."]
    assert not folder.exists()

    big = tmp_path / "in" / "big" / "gros.pdf"
    big.parent.mkdir()
    with open(big, "wb") as handle:
        handle.truncate(35 * 1024 * 1024)
    small = upload(tmp_path / "in", "petit.txt")
    saved, rejected = save_uploads([big, small], folder, max_bytes=MAX_FILE_BYTES)
    assert rejected == ["gros.pdf : 35 Mo, 20 Mo au plus."]
    assert [p.name for p in saved] == ["petit.txt"]

    incoming = tmp_path / "in"
    odd = [upload(incoming, "photo.jpg"), upload(incoming, "vieux.doc"), upload(incoming, "v.txt", "")]
    saved, rejected = save_uploads(odd, folder)
    assert saved == []
    assert rejected[0].startswith("photo.jpg : format non pris en charge ; formats lus : .docx, .htm, .html")
    assert "enregistrez-le en .docx ou en PDF" in rejected[1]
    assert rejected[2] == "v.txt : fichier vide."
    assert MAX_FILES == 20 and MAX_FILE_BYTES == 20 * 1024 * 1024


# -- the tab's actions -----------------------------------------------------------------------


@pytest.fixture
def context(settings, fake_embedder) -> Context:
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    store = LiveIndex(settings.index_dir, embed_model=fake_embedder.name)
    return Context(settings=settings, embedder=fake_embedder, store=store)


def test_the_table_lists_the_documents(context):
    tab = CorpusTab(context)
    rows = tab.rows()
    assert [row[-1] for row in rows] == [MUNICH, "2024-10-openai-paris"]
    title, date, source, passages, doc_id = rows[0]
    assert date == "2025-03-27" and source == "2025-03-27-openai-munich.txt" and passages >= 1
    assert "OpenAI" in title
    assert tab.counts().startswith("2 documents, ")
    assert (f"{title} — {MUNICH}", MUNICH) in tab.choices()


def test_upload_is_indexed_and_seen_by_the_live_index(context, tmp_path):
    tab = CorpusTab(context)
    message, cleared, rows, counts, choices = tab.on_index([upload(tmp_path / "in", "Tramway à Lyon.txt")])
    assert message.startswith("**1 ajouté(s), 0 mis à jour, 0 inchangé(s) ; 1 passages calculés en ")
    assert cleared is None
    assert "tramway-a-lyon" in [row[-1] for row in rows]
    assert counts.startswith("3 documents, ")
    assert ("Tramway à Lyon — tramway-a-lyon", "tramway-a-lyon") in choices["choices"]
    stored = context.store.document("tramway-a-lyon")  # the chat's index follows, no restart
    assert stored is not None and Path(stored.source) == upload_folder(context.settings.home) / "tramway-a-lyon.txt"

    again = tab.add([upload(tmp_path / "in", "Tramway à Lyon.txt")])
    assert again.summary.startswith("0 ajouté(s), 0 mis à jour, 1 inchangé(s)") and again.notes == ()
    twin = tab.add([upload(tmp_path / "in", "copie.txt")])
    assert "1 doublon(s) écarté(s)" in twin.summary
    assert twin.notes == ("doublon : copie.txt : même texte que « tramway-a-lyon », non indexé.",)


def test_upload_reports_refusals_and_notes(context, tmp_path):
    tab = CorpusTab(context, max_files=4, max_bytes=200)
    assert str(tab.add([])) == "Choisissez d'abord un ou plusieurs fichiers."
    too_many = tab.add([upload(tmp_path / "in", f"a{i}.txt") for i in range(5)])
    assert str(too_many) == "Aucun fichier indexé.\n- refusé : 5 fichiers : 4 au plus par envoi."
    assert too_many.markdown() == "**Aucun fichier indexé.**\n- refusé : 5 fichiers : 4 au plus par envoi."
    mixed = tab.add(
        [
            upload(tmp_path / "in", "image_<b>.png"),
            upload(tmp_path / "in", "long.txt", "x" * 300),
            upload(tmp_path / "in", "ok.md"),
            upload(tmp_path / "in", "vide.txt", "   \n"),
        ]
    )
    assert mixed.summary.startswith("1 ajouté(s), 0 mis à jour, 0 inchangé(s), 1 ignoré(s) ;")
    assert mixed.notes[0].startswith("refusé : image_<b>.png : format non pris en charge")
    assert mixed.notes[1] == "refusé : long.txt : 0 Mo, 0 Mo au plus."
    assert mixed.notes[2] == "ignoré : vide.txt : fichier vide, ignoré."
    assert "image\\_\\<b\\>.png" in mixed.markdown()  # a name is not read as Markdown or HTML


def test_removal_needs_a_confirmation(context, tmp_path):
    tab = CorpusTab(context)
    tab.on_index([upload(tmp_path / "in", "lyon.txt")])
    saved = upload_folder(context.settings.home) / "lyon.txt"
    assert saved.is_file()

    message, pending, row, question = tab.on_remove(None)
    assert message == "Choisissez d'abord un document à retirer." and pending is None and not row["visible"]

    assert tab.removal_question("lyon") == "Retirer « Tramway à Lyon » de l'index ?"
    message, pending, row, question = tab.on_remove("lyon")
    assert (pending, row["visible"]) == ("lyon", True)
    assert question == "**Retirer « Tramway à Lyon » de l'index ?**"
    assert context.store.document("lyon") is not None  # asking removed nothing

    assert tab.on_cancel() == ("Retrait annulé.", None, {"__type__": "update", "visible": False})
    assert context.store.document("lyon") is not None

    tab.on_remove("lyon")
    message, pending, row, rows, counts, choices = tab.on_confirm("lyon")
    assert message.startswith("**0 ajouté(s), 0 mis à jour, 0 inchangé(s), 1 retiré(s)")
    assert pending is None and not row["visible"]
    assert "lyon" not in [r[-1] for r in rows] and counts.startswith("2 documents")
    assert context.store.document("lyon") is None
    assert not saved.exists()  # the uploaded copy goes with it: a rebuild will not bring it back

    tab.on_confirm(MUNICH)
    assert (SEEDS / f"{MUNICH}.txt").is_file()  # a file indexed from elsewhere is never deleted
    assert tab.on_confirm(None)[0] == "Rien à retirer."
    assert tab.on_remove("inconnu")[0] == "Choisissez d'abord un document à retirer."


def test_a_busy_index_is_one_line(context, tmp_path):
    tab = CorpusTab(context, lock_wait=0)
    with write_lock(context.settings.index_dir):
        added = tab.add([upload(tmp_path / "in", "lyon.txt")])
        removed = tab.remove(MUNICH)
    for outcome in (added, removed):
        assert "en cours de mise à jour" in outcome.summary and outcome.notes == ()
    assert context.store.document(MUNICH) is not None


def test_bm25_mode_loads_an_embedder_lazily(context, monkeypatch, fake_embedder):
    import rag.components

    loaded = []
    monkeypatch.setattr(rag.components, "lazy_embedder", lambda settings: loaded.append(settings) or fake_embedder)
    tab = CorpusTab(Context(context.settings, None, context.store))
    assert tab.embedder() is fake_embedder and tab.embedder() is fake_embedder
    assert len(loaded) == 1


def test_the_tab_builds_inside_blocks(context):
    import gradio as gr

    with gr.Blocks() as demo, gr.Tab("Corpus") as corpus:
        tab = corpus_tab(context)
    assert isinstance(tab, CorpusTab)
    # The list is refreshed when the page opens and when the tab is shown.
    triggers = {target for fn in demo.fns.values() for target in fn.targets if fn.name == "refreshed"}
    assert {(demo._id, "load"), (corpus._id, "select")} <= triggers
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    assert {"depeche-corpus-table", "depeche-upload", "depeche-index", "depeche-remove-confirm"} <= ids
    labels = {getattr(block, "value", None) for block in demo.blocks.values() if isinstance(block, gr.Button)}
    assert {"Indexer", "Retirer", "Confirmer", "Annuler"} <= labels


def test_a_near_duplicate_upload_is_left_out_unless_the_box_is_ticked(context, tmp_path):
    tab = CorpusTab(context)
    words = " ".join(f"mot{i}" for i in range(200))
    tab.add([upload(tmp_path / "in", "afp.txt", f"Dépêche AFP\n\n{words}.")])
    rewritten = f"Reprise par Le Parisien\n\n(AFP) {words.replace('mot7 ', 'terme7 ')}. Avec AFP."
    skipped = tab.add([upload(tmp_path / "in2", "parisien.txt", rewritten)])
    assert "1 quasi-doublon(s) écarté(s)" in skipped.summary and "proche de « afp »" in skipped.notes[0]
    kept = tab.add([upload(tmp_path / "in2", "parisien.txt", rewritten)], keep_near_duplicates=True)
    assert kept.summary.startswith("1 ajouté(s)") and "quasi-doublon gardé" in kept.notes[0]
