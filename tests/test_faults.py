"""Faults that must lose nothing: kill -9 during an upload from the Corpus tab, a full disk
while a version is published, a corrupted vectors file in the current version. Each leaves
the published index answering and says what happened."""

from __future__ import annotations

import errno
import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from index.update import add_documents, rebuild_index
from rag.config import Settings
from rag.errors import DiskFullError
from rag.store.live import LiveIndex
from rag.store.versions import POINTER, current_version
from tests.conftest import SEEDS
from tests.consistency import check_index
from tests.fakes import FakeEmbedder
from tests.test_crash import run_to_end, start, write_corpus
from ui.uploads import upload_folder

UPLOAD_KILLS = int(os.environ.get("DEPECHE_UPLOAD_KILLS", "5"))


def _answers(settings: Settings) -> list[str]:
    """The titles a reader finds for a question on the seeds (keyword and vector search)."""
    store = LiveIndex(settings.index_dir, embed_model=FakeEmbedder().name)
    found = store.passages(store.keyword_search("OpenAI Munich bureau", 3))
    found += store.passages(store.vector_search(FakeEmbedder().embed_query("OpenAI Munich bureau"), 3))
    assert found, "the index does not answer"
    return [p.title for p in found]


def test_kill_9_during_an_upload_leaves_the_index_before_or_after(tmp_path):
    corpus, template = tmp_path / "corpus", tmp_path / "template"
    write_corpus(corpus, 12)
    files = sorted(str(p) for p in corpus.iterdir())
    add_documents(Settings(home=template), [SEEDS], FakeEmbedder(), progress=False, on_wait=None)
    before = check_index(template / "index")
    clean = tmp_path / "clean"
    shutil.copytree(template, clean)
    duration = run_to_end(clean, "upload", *files)
    after = check_index(clean / "index")
    assert len(after - before) == 12
    rng = random.Random(17)
    outcomes = []
    for n in range(UPLOAD_KILLS):
        home = tmp_path / f"home-{n}"
        shutil.copytree(template, home)
        process, _ = start(home, "upload", *files)
        time.sleep(rng.uniform(0, duration * 1.1))
        process.kill()
        process.communicate()
        found = check_index(home / "index")  # whole, or this raises
        assert found in (before, after)
        uploads = upload_folder(home)
        copies = sorted(uploads.iterdir()) if uploads.exists() else []
        for copy in (p for p in copies if not p.name.startswith(".")):
            assert copy.read_bytes() == (corpus / copy.name).read_bytes()  # never a half file under its name
        partial = [p for p in copies if p.name.endswith(".part")]
        for copy in partial:  # as if the crash were two hours ago
            os.utime(copy, (time.time() - 7200, time.time() - 7200))
        outcomes.append(("after" if found == after else "before") + (" + partial copy" if partial else ""))
        run_to_end(home, "upload", *files)  # the same upload again completes it
        assert check_index(home / "index") == after
        assert not list(uploads.glob("*.part")), "a dead upload's partial copy was left behind"
    print(f"\nupload killed {UPLOAD_KILLS} times: {sorted(outcomes)}")
    assert any(o.startswith("before") for o in outcomes)  # killed while copying or indexing at least once


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs where the machine lets us mount one; else None (a fake ENOSPC is used)."""
    folder = tmp_path / "disque"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path, leave: int) -> Path:
    """Fill the disk holding ``folder`` but ``leave`` bytes."""
    filler = folder / "remplissage"
    free = shutil.disk_usage(folder).free
    with filler.open("wb") as handle:
        handle.truncate(0)
        handle.write(b"\0" * max(0, free - leave))
    return filler


def test_a_full_disk_while_publishing_publishes_nothing_and_says_so(small_disk, tmp_path, monkeypatch):
    home = (small_disk or tmp_path) / "home"
    settings = Settings(home=home)
    add_documents(settings, [SEEDS], FakeEmbedder(), progress=False, on_wait=None)
    before, version = check_index(settings.index_dir), current_version(settings.index_dir)
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 10)
    if small_disk is not None:
        filler = _fill(small_disk, leave=64 * 1024)
    else:  # no mount here: the filesystem says ENOSPC when the new version is made durable

        def no_space(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(DiskFullError, match=r"^Disque plein en écrivant l'index dans .*rien n'a été publié"):
        add_documents(settings, [corpus], FakeEmbedder(), progress=False, on_wait=None)
    monkeypatch.undo()
    assert current_version(settings.index_dir) == version and check_index(settings.index_dir) == before
    leftovers = sorted(p.name for p in settings.index_dir.iterdir() if p.name not in (POINTER, ".lock"))
    assert leftovers == [version.name]  # the half-written version is gone
    assert any("Munich" in title for title in _answers(settings))
    if small_disk is not None:
        filler.unlink()
    add_documents(settings, [corpus], FakeEmbedder(), progress=False, on_wait=None)  # room again: it works
    assert len(check_index(settings.index_dir) - before) == 10


def test_a_corrupted_vectors_file_lets_the_previous_version_answer_until_a_rebuild(settings, tmp_path, capsys):
    from index.__main__ import status
    from ui.app import header_markdown
    from ui.session import AppContext

    add_documents(settings, [SEEDS], FakeEmbedder(), progress=False, on_wait=None)
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 3)
    add_documents(settings, [corpus], FakeEmbedder(), progress=False, on_wait=None)
    everything = check_index(settings.index_dir)
    damaged = current_version(settings.index_dir)
    vectors = damaged / "vectors.faiss"
    vectors.write_bytes(b"\x00garbage" * 64)

    live = LiveIndex(settings.index_dir, embed_model=FakeEmbedder().name)  # the chat starts anyway
    assert any("Munich" in title for title in _answers(settings))
    assert "endommagé" in live.warning and "vectors.faiss illisible" in live.warning
    assert "version précédente" in live.warning and "python -m index rebuild" in live.warning
    context = AppContext(settings, type("P", (), {"generator": type("G", (), {"name": "g"})()})(), None, live)
    assert "⚠️ L'index" in header_markdown(context)
    assert status(settings) == 0 and "Attention : L'index" in capsys.readouterr().out

    report = rebuild_index(settings, FakeEmbedder(), progress=False, on_wait=None)  # reads the damaged texts
    assert len(report.rebuilt) == len(everything)
    assert check_index(settings.index_dir) == everything
    assert LiveIndex(settings.index_dir, embed_model=FakeEmbedder().name).warning is None
