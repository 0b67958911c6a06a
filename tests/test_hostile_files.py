"""Hostile files (tests/hostile.py) are skipped with their reason, under the fence's time and
memory limits (rag.sources.readers.fence), and nothing else changes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from index.update import add_documents
from rag.errors import DocumentError
from rag.sources.files import load_documents, read_document
from rag.sources.readers import fence
from rag.sources.readers.fence import FencedParser
from rag.store.embedded import IndexStore
from tests import hostile
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def parser():
    parser = FencedParser(timeout_s=20, memory_mb=1024)
    yield parser
    parser.close()


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    hostile.make_hostile_folder(root / "dossier", root / "ailleurs")
    return root / "dossier"


@pytest.fixture(scope="module")
def loaded(hostile_folder, parser):
    started = time.monotonic()
    documents, skipped = load_documents([hostile_folder], parse=parser)
    return documents, skipped, time.monotonic() - started


def _reason(skipped: list[str], name: str) -> str:
    found = [line for line in skipped if line.startswith(name)]
    assert len(found) == 1, (name, skipped)
    return found[0]


def test_every_hostile_file_is_skipped_with_its_reason_and_the_good_ones_are_read(loaded):
    documents, skipped, seconds = loaded
    by_id = {d.doc_id: d for d in documents}
    assert "bon-article" in by_id and "Munich" in by_id["bon-article"].body
    assert "secret" not in by_id and not any("Hors du dossier" in d.body for d in documents)
    assert seconds < 120
    assert "mémoire" in _reason(skipped, "bombe.docx") or "illisible" in _reason(skipped, "bombe.docx")
    assert "boucle.pdf : " in _reason(skipped, "boucle.pdf")
    assert "lien vers un fichier hors du dossier" in _reason(skipped, "lien-dehors.txt")
    assert "n'est pas un fichier ordinaire" in _reason(skipped, "tube.txt")
    # One line each, naming the file: no traceback.
    assert all("\n" not in line and "Traceback" not in line for line in skipped)


def test_a_link_inside_the_folder_is_read_once(loaded):
    documents, _, _ = loaded
    assert sum("Munich" in d.body for d in documents) == 1


def test_names_in_any_encoding_are_read_and_shown(loaded):
    documents, _, _ = loaded
    titles = {d.title for d in documents}
    assert {"Nom latin1", "Nom nfd", "Nom emoji"} <= titles
    for document in documents:  # what the store and the chat will print: valid UTF-8
        document.source.encode("utf-8")
        document.doc_id.encode("utf-8")


def test_a_huge_single_line_text_is_read_in_bounded_time(loaded):
    documents, skipped, _ = loaded
    line = [d for d in documents if d.doc_id == "une-ligne"]
    assert line or any(s.startswith("une-ligne.txt") for s in skipped)


def test_a_file_over_the_time_limit_is_skipped_and_the_next_is_read(tmp_path):
    slow = FencedParser(timeout_s=1, memory_mb=1024)
    try:
        page = hostile.slow_html(tmp_path / "lent.html")
        with pytest.raises(DocumentError, match=r"lent.html : lecture arrêtée au bout de 1 s, fichier ignoré\."):
            read_document(page, parse=slow)
        good = tmp_path / "bon.txt"
        good.write_text(hostile.ARTICLE, encoding="utf-8")
        assert "Munich" in read_document(good, parse=slow).body
        assert slow.worker.starts == 2
    finally:
        slow.close()


def test_a_parser_that_exhausts_memory_is_stopped(tmp_path, parser):
    bomb = hostile.zip_bomb_docx(tmp_path / "bombe.docx", megabytes=1536)
    with pytest.raises(DocumentError, match=r"^bombe.docx : .*(mémoire|MemoryError).*fichier ignoré\.$"):
        read_document(bomb, parse=parser)


def test_a_crash_while_parsing_skips_the_file(tmp_path, parser, monkeypatch):
    import signal

    good = tmp_path / "bon.txt"
    good.write_text(hostile.ARTICLE, encoding="utf-8")
    pid = parser.worker.pid or (read_document(good, parse=parser) and parser.worker.pid)
    real_call = parser.worker.call

    def call_then_kill(*args, **kwargs):  # the child dies in the middle of a parse
        os.kill(parser.worker.pid, signal.SIGSEGV)
        return real_call(*args, **kwargs)

    monkeypatch.setattr(parser.worker, "call", call_then_kill)
    with pytest.raises(DocumentError, match=r"bon.txt : le lecteur s'est arrêté en le lisant \(SIGSEGV\)"):
        read_document(good, parse=parser)
    monkeypatch.undo()
    assert "Munich" in read_document(good, parse=parser).body and parser.worker.pid != pid


def test_index_add_of_a_hostile_folder_keeps_the_index_answering(settings, fake_embedder, tmp_path, monkeypatch):
    hostile.make_hostile_folder(tmp_path / "dossier", tmp_path / "ailleurs", big=False)
    monkeypatch.setattr(fence, "_shared", FencedParser(timeout_s=20, memory_mb=1024))
    try:
        add_documents(settings, [SEEDS], fake_embedder, progress=False)
        report = add_documents(settings, [tmp_path / "dossier"], fake_embedder, progress=False)
        assert any(s.startswith("bombe.docx") for s in report.skipped)
        store = IndexStore.open(settings.index_dir, embed_model=fake_embedder.name)
        ids = {d.doc_id for d in store.documents()}
        seeds = {"2024-10-openai-paris", "2025-03-27-openai-munich"}
        assert ids == seeds | {"bon-article", "caf-latin1", "cafe-nfd", "journal"}
        for document in store.documents():
            assert store.document(document.doc_id) is not None
    finally:
        fence._shared.close()
