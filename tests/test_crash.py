"""``kill -9`` at random points of ``add``, ``remove`` and ``rebuild``: the index is always the
one before the command or the one after it, whole, and the next command works.

The number of kills is ``DEPECHE_CRASH_KILLS`` (default 50); the closing figures of issue 6
come from a longer run of this same test::

    DEPECHE_CRASH_KILLS=300 DEPECHE_CRASH_SEED=7 pytest tests/test_crash.py -s
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from index.update import add_documents
from rag.config import PROJECT_ROOT, Settings
from rag.store.versions import POINTER, current_version
from tests.conftest import SEEDS
from tests.consistency import check_index, check_store
from tests.fakes import FakeEmbedder

KILLS = int(os.environ.get("DEPECHE_CRASH_KILLS", "50"))
SEED = int(os.environ.get("DEPECHE_CRASH_SEED", "6"))
SPF = PROJECT_ROOT / "eval" / "datasets" / "spf_qr_test.json"


def write_corpus(folder: Path, count: int) -> None:
    """``count`` distinct service-public.fr pages, one text file each."""
    folder.mkdir()
    data = json.loads(SPF.read_text(encoding="utf-8"))["data"]
    for n, page in enumerate(data[:count]):
        text = "\n\n".join(p["context"] for p in page["paragraphs"])
        (folder / f"page-{n:03d}.txt").write_text(f"{page['title']}\n\n{text}", encoding="utf-8")


def start(
    home: Path, *arguments: str, uri: str = "", segmented: bool = False, die_after_flush: bool = False
) -> tuple[subprocess.Popen, float]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.crash_driver", str(home), *arguments],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "DEPECHE_MILVUS_URI": uri,
            "DEPECHE_TEST_SEGMENTED": "1" if segmented else "",
            "DEPECHE_TEST_DIE_AFTER_FLUSH": "1" if die_after_flush else "",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready", process.stderr.read()
    return process, time.perf_counter()


def run_to_end(home: Path, *arguments: str, uri: str = "", segmented: bool = False) -> float:
    process, started = start(home, *arguments, uri=uri, segmented=segmented)
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors
    return time.perf_counter() - started


@pytest.mark.parametrize("layout", ["copy", "segments"])
def test_kill_9_at_random_points_leaves_the_index_before_or_after(layout, tmp_path, capsys):
    """``copy``: every write copies the index (under ``SEGMENTS_FROM`` passages); ``segments``:
    writes add delta segments and hide removed documents, sharing the published segments by
    hard link (past it), and a third delta merges the deltas."""
    home, corpus = tmp_path / "home", tmp_path / "corpus"
    write_corpus(corpus, 30)
    settings = Settings(home=home)
    add_documents(settings, [SEEDS], FakeEmbedder(), progress=False, on_wait=None)
    before = check_index(settings.index_dir)
    segmented = layout == "segments"
    kills = KILLS if not segmented else KILLS // 2

    # One clean run of each command: the states it moves between, and how long it takes.
    durations = {"add": run_to_end(home, "add", str(corpus), segmented=segmented)}
    after = check_index(settings.index_dir)
    added = sorted(after - before)
    assert len(added) == 30
    durations["rebuild"] = run_to_end(home, "rebuild", segmented=segmented)
    assert check_index(settings.index_dir) == after
    durations["remove"] = run_to_end(home, "remove", *added, segmented=segmented)
    assert check_index(settings.index_dir) == before

    rng = random.Random(SEED)
    state, outcomes = before, Counter()
    for _ in range(kills):
        command = rng.choice(["rebuild", "add" if state == before else "remove"])
        arguments = {"add": [str(corpus)], "remove": added, "rebuild": []}[command]
        target = {"add": after, "remove": before, "rebuild": state}[command]
        version = current_version(settings.index_dir)
        process, _ = start(home, command, *arguments, segmented=segmented)
        time.sleep(rng.uniform(0, durations[command] * 1.1))
        process.kill()
        process.communicate()
        found = check_index(settings.index_dir)  # the three parts agree, or this raises
        published = current_version(settings.index_dir) != version
        assert found == (target if published else state), f"{command} killed: {len(found)} documents"
        ended = "finished" if process.returncode == 0 else "killed"
        outcomes[f"{command} {ended}: {'new' if published else 'old'} version"] += 1
        state = found

    run_to_end(home, "add", str(corpus), segmented=segmented)  # the next command works, and tidies up
    assert check_index(settings.index_dir) == after
    leftovers = sorted(p.name for p in settings.index_dir.iterdir() if p.name not in (POINTER, ".lock"))
    assert len(leftovers) <= 2, leftovers  # the current version and the one before it
    with capsys.disabled():
        rounded = json.dumps({k: round(v, 2) for k, v in durations.items()})
        print(f"\n{layout}: {kills} kill -9 survived; durations {rounded}")
        for outcome, count in sorted(outcomes.items()):
            print(f"  {count:4d}  {outcome}")


def visible(settings: Settings) -> dict[str, str]:
    """What a reader of the Milvus store sees: each document's id and version, every one whole
    (all its passages searchable, its text readable); then this process lets go of the store."""
    from rag.store.backend import open_index
    from rag.store.milvus import disconnect
    from rag.store.milvus_layout import collection_names as _names

    try:
        store = open_index(settings)
        names = _names(store._generation)
        rows = store._scan(names["documents"], ["doc_id", "sha256", "chunks"])
        chunks = Counter((c["doc_id"], c["sha256"]) for c in store._scan(names["chunks"], ["doc_id", "sha256"]))
        for row in rows:
            assert chunks[(row["doc_id"], row["sha256"])] == row["chunks"], f"{row['doc_id']} not whole"
            assert store.document(row["doc_id"]).sha256 == row["sha256"]
        return {row["doc_id"]: row["sha256"] for row in rows}
    finally:
        disconnect(settings.milvus_uri)


@pytest.mark.parametrize("backend", ["milvus-lite", "milvus-server"])
def test_kill_9_on_milvus_loses_no_published_document(backend, tmp_path, request, capsys, caplog):
    """On Milvus an add publishes document by document (rag/store/milvus.py): a kill leaves each
    document whole, old or new, never half; what was there stays; the next writer tidies up.
    With Milvus Lite on a file, the killed process is the one holding the database (its
    write-ahead log is replayed at the next opening); with a server, the server lives on."""
    from tests.conftest import on_backend

    home, corpus = tmp_path / "home", tmp_path / "corpus"
    write_corpus(corpus, 30)
    settings = on_backend(backend, Settings(home=home), request)
    uri = settings.milvus_uri
    add_documents(settings, [SEEDS], FakeEmbedder(), progress=False, on_wait=None)
    before = visible(settings)
    durations = {"add": run_to_end(home, "add", str(corpus), uri=uri)}
    after = visible(settings)
    added = sorted(set(after) - set(before))
    assert len(added) == 30
    durations["rebuild"] = run_to_end(home, "rebuild", uri=uri)
    assert visible(settings) == after
    durations["remove"] = run_to_end(home, "remove", *added, uri=uri)
    assert visible(settings) == before

    rng = random.Random(SEED)
    outcomes = Counter()
    for _ in range(KILLS // 3):
        command = rng.choice(["add", "remove", "rebuild"])
        arguments = {"add": [str(corpus)], "remove": added, "rebuild": []}[command]
        process, _ = start(home, command, *arguments, uri=uri)
        time.sleep(rng.uniform(0, durations[command] * 1.1))
        process.kill()
        process.communicate()
        caplog.clear()
        with caplog.at_level("WARNING", logger="rag.store.milvus_repair"):
            found = visible(settings)  # every document whole, or this raises
        for record in caplog.records:  # what Milvus Lite left that Dépêche tidied (Lite file only)
            outcomes["repaired: " + record.getMessage().split(" (")[0]] += 1
        assert {d: found[d] for d in before} == before, f"{command} killed: a published document was lost"
        assert set(found) <= set(after) and all(found[d] == after[d] for d in found)
        outcomes[f"{command} {'finished' if process.returncode == 0 else 'killed'}: {len(found)} documents"] += 1

    run_to_end(home, "add", str(corpus), uri=uri)  # the next writer recovers and completes
    assert visible(settings) == after
    assert check_store(settings) == set(after)  # no stale passage or body left
    from rag.store.milvus import disconnect

    disconnect(uri)
    with capsys.disabled():
        rounded = json.dumps({k: round(v, 2) for k, v in durations.items()})
        print(f"\n{backend}: {KILLS // 3} kill -9 survived; durations {rounded}")
        for outcome, count in sorted(outcomes.items()):
            print(f"  {count:4d}  {outcome}")


def test_a_kill_between_milvus_lites_manifest_and_log_deletion_duplicates_nothing(tmp_path, request):
    """Killed after a flush committed its manifest but before it deleted its write-ahead log,
    Milvus Lite would replay the log onto the rows already flushed, and the next writer would
    flush them a second time: every passage of that flush seen twice (rag/store/milvus_repair.py)."""
    from rag.store.backend import open_index
    from rag.store.milvus import disconnect
    from tests.conftest import on_backend

    home, corpus = tmp_path / "home", tmp_path / "corpus"
    write_corpus(corpus, 6)
    settings = on_backend("milvus-lite", Settings(home=home), request)
    add_documents(settings, [SEEDS], FakeEmbedder(), progress=False, on_wait=None)
    before = visible(settings)

    lyon = tmp_path / "lyon"
    lyon.mkdir()
    (lyon / "lyon.txt").write_text("Tramway à Lyon\n\nLa ligne T10 relie Gerland à Vénissieux.", encoding="utf-8")
    process, _ = start(home, "add", str(lyon), uri=settings.milvus_uri, die_after_flush=True)
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 137, errors
    logs = sorted(p.name for p in Path(settings.milvus_uri).glob("collections/*_chunks/wal/*.arrow"))
    assert logs, "the kill did not leave the flushed log behind"

    run_to_end(home, "add", str(corpus), uri=settings.milvus_uri)  # the next writer opens, writes, flushes
    found = visible(settings)  # each document's passages counted once, or this raises
    assert set(found) == set(before) | {"lyon"} | {f"page-{n:03d}" for n in range(6)}
    assert check_store(settings) == set(found)
    store = open_index(settings)
    assert store.counts()[1] == sum(d.chunks for d in store.documents())
    disconnect(settings.milvus_uri)
