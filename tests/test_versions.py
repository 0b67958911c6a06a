"""Versions of the index: one writer at a time, readers undisturbed, and the chat following."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from index.update import add_documents, remove_documents
from rag.config import PROJECT_ROOT
from rag.errors import IndexBusyError
from rag.search.retrieval import HybridRetriever, KeywordRetriever
from rag.store.live import LiveIndex
from rag.store.versions import current_version, write_lock
from tests.conftest import SEEDS
from tests.consistency import check_index

ARTICLE = "Tramway : la ligne T10 est ouverte\n\nLa métropole de Lyon a inauguré la ligne T10, de Gerland à Vénissieux."


@pytest.fixture
def indexed(settings, fake_embedder, tmp_path):
    add_documents(settings, [SEEDS], fake_embedder, progress=False, on_wait=None)
    folder = tmp_path / "nouveaux"
    folder.mkdir()
    (folder / "lyon.txt").write_text(ARTICLE, encoding="utf-8")
    return folder


def test_a_second_writer_fails_clearly_when_it_cannot_wait(settings, indexed):
    with write_lock(settings.index_dir):
        with pytest.raises(IndexBusyError, match="en cours de mise à jour"):
            remove_documents(settings.with_(lock_wait=0), ["lyon"], on_wait=None)


def test_a_second_writer_waits_for_the_first(settings, fake_embedder, indexed):
    messages = []
    holder_done = threading.Event()

    def hold():
        with write_lock(settings.index_dir):
            time.sleep(0.6)
        holder_done.set()

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    patient = settings.with_(lock_wait=10)
    report = add_documents(patient, [indexed], fake_embedder, progress=False, on_wait=messages.append)
    holder.join()
    assert holder_done.is_set() and report.added == ["lyon"]
    assert messages and "attente" in messages[0]


def test_the_cli_says_the_index_is_busy_in_one_line(settings, indexed):
    with write_lock(settings.index_dir):
        done = subprocess.run(
            [sys.executable, "-m", "index", "remove", "lyon"],
            cwd=PROJECT_ROOT,
            env={"DEPECHE_HOME": str(settings.home), "DEPECHE_LOCK_WAIT": "0", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "en cours de mise à jour" in done.stderr
    assert "Traceback" not in done.stderr


def test_readers_keep_answering_during_an_update_and_then_see_it(settings, fake_embedder, indexed):
    live = LiveIndex(settings.index_dir, embed_model=fake_embedder.name)
    retriever = HybridRetriever(live, fake_embedder)
    errors, answers, stop = [], [], threading.Event()

    def read():
        while not stop.is_set():
            try:
                answers.append(retriever.retrieve("Munich et Aiwanger", 3))
            except Exception as error:  # noqa: BLE001 - any failure of a reader is the bug
                errors.append(error)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    for _ in range(3):
        add_documents(settings, [indexed], fake_embedder, progress=False, on_wait=None)
        remove_documents(settings, ["lyon"], on_wait=None)
    add_documents(settings, [indexed], fake_embedder, progress=False, on_wait=None)
    stop.set()
    for reader in readers:
        reader.join()
    assert not errors and len(answers) > 10
    assert all(passages and "Aiwanger" in " ".join(p.text for p in passages) for passages in answers)
    assert KeywordRetriever(live).retrieve("Vénissieux", 1)[0].doc_id == "lyon"  # the new version, no restart
    assert live.snapshot().directory == current_version(settings.index_dir)


def test_a_reader_opened_before_removal_still_reads_its_version(settings, fake_embedder, indexed):
    add_documents(settings, [indexed], fake_embedder, progress=False, on_wait=None)
    live = LiveIndex(settings.index_dir)
    old = live.snapshot()
    for _ in range(3):  # old versions are deleted from disk meanwhile
        remove_documents(settings, ["lyon"], on_wait=None)
        add_documents(settings, [indexed], fake_embedder, progress=False, on_wait=None)
    assert not old.directory.exists()
    assert old.passages(old.keyword_search("Vénissieux", 1))[0].doc_id == "lyon"
    assert check_index(settings.index_dir) >= {"lyon"}
