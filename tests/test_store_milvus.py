"""The Milvus store (rag/store/milvus.py) beyond what every store does (tests/test_update.py
runs on both backends): same rankings as the embedded store, a writer killed mid-save, a
reader that follows a rebuild, a server that goes away and comes back, and bad URIs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.build import build_index
from index.update import add_documents
from rag.config import PROJECT_ROOT
from rag.errors import IndexMissingError, ModelMismatchError, StoreUnavailableError
from rag.store.backend import index_present, open_index
from rag.store.interface import Store
from rag.store.milvus import MilvusStore, disconnect, public_uri
from tests.conftest import SEEDS, on_backend
from tests.consistency import check_store
from tests.milvus_server import LiteServer, free_port

QUESTIONS = [
    "Où OpenAI ouvre-t-il un bureau en Allemagne ?",
    "Combien de salariés à Paris ?",
    "datacenter Munich énergie",
    "Station F start-up",
]


def run_module(*arguments: str, home, uri: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """``python -m <arguments>`` in a fresh process, on the index in ``home`` stored at ``uri``."""
    return subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DEPECHE_HOME": str(home), "DEPECHE_MILVUS_URI": uri},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(params=["milvus-lite", "milvus-server"])
def milvus(request, settings):
    return on_backend(request.param, settings, request)


def located(store, hits):
    """The scores in order, and the (document, offset, score) of each hit not tied with the last
    one (chunk ids differ between backends; ties come in any order)."""
    found = [(p.doc_id, p.start, round(p.score, 3)) for p in store.passages(hits)]
    last = found[-1][2] if found else None
    return [score for *_, score in found], sorted(hit for hit in found if hit[2] != last)


def test_rankings_are_the_embedded_stores(settings, milvus, fake_embedder):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    build_index(milvus, [SEEDS], fake_embedder, progress=False)
    embedded, remote = open_index(settings), open_index(milvus)
    assert isinstance(remote, Store)
    assert remote.counts() == embedded.counts()
    assert remote.documents() == embedded.documents()
    for question in QUESTIONS:
        # BM25 on the project's French terms: Lucene's formula on both sides, same k1 and b.
        assert located(remote, remote.keyword_search(question, 5)) == located(
            embedded, embedded.keyword_search(question, 5)
        )
        vector = fake_embedder.embed_query(question)
        assert located(remote, remote.vector_search(vector, 5)) == located(embedded, embedded.vector_search(vector, 5))
    for summary in embedded.documents():
        assert remote.document(summary.doc_id) == embedded.document(summary.doc_id)
    assert remote.keyword_search("le la les", 5) == []  # only stopwords: nothing to look for


def test_status_names_the_backend_without_its_secret(milvus, fake_embedder):
    build_index(milvus, [SEEDS], fake_embedder, progress=False)
    store = open_index(milvus)
    assert store.location.startswith("Milvus") and "depeche_g1_" in store.location
    assert store.version == "génération 1"
    assert public_uri("http://root:Milvus-secret@db.example:19530") == "http://db.example:19530"
    disconnect(milvus.milvus_uri)  # a Lite file admits one process: this one lets go
    result = run_module("index", "status", home=milvus.home, uri=milvus.milvus_uri)
    assert result.returncode == 0, result.stderr
    kind = "Milvus (serveur)" if milvus.milvus_uri.startswith("http") else "Milvus Lite"
    assert f"Magasin : {kind} à {milvus.milvus_uri}" in result.stdout
    assert "Documents : 2" in result.stdout and "Version : génération 1" in result.stdout


def test_a_writer_killed_mid_save_loses_nothing_published(milvus, fake_embedder, tmp_path, monkeypatch):
    build_index(milvus, [SEEDS], fake_embedder, progress=False)
    before = open_index(milvus).counts()
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "lyon.txt").write_text("Tramway à Lyon\n\nLa ligne T10 relie Gerland à Vénissieux.", encoding="utf-8")

    # The passages and body are written, then the process dies before the document's row.
    real_upsert = MilvusStore._call  # defined on MilvusReading, its base

    def dying(self, method, *args, **kwargs):
        if getattr(method, "__name__", "") == "upsert" and args and args[0].endswith("_documents"):
            raise KeyboardInterrupt("kill -9")
        return real_upsert(self, method, *args, **kwargs)

    monkeypatch.setattr(MilvusStore, "_call", dying)
    with pytest.raises(KeyboardInterrupt):
        add_documents(milvus, [folder], fake_embedder, progress=False)
    monkeypatch.setattr(MilvusStore, "_call", real_upsert)

    reader = open_index(milvus)
    assert reader.document("lyon") is None
    assert all(p.doc_id != "lyon" for p in reader.passages(reader.keyword_search("Gerland Vénissieux", 5)))
    with pytest.raises(AssertionError, match="stale"):
        check_store(milvus)  # the half-written passages are there, unseen

    report = add_documents(milvus, [folder], fake_embedder, progress=False)  # the next writer recovers
    assert report.added == ["lyon"]
    assert check_store(milvus) == {"lyon", "2024-10-openai-paris", "2025-03-27-openai-munich"}
    assert open_index(milvus).counts() == (before[0] + 1, before[1] + 1)


@pytest.mark.parametrize("kind", [".doc_id.inverted.sidx", ".vector.hnsw.idx", ".placeholder.flat.idx"])
@pytest.mark.parametrize("cut", ["half", "empty"])
def test_an_index_file_a_kill_cut_short_is_rebuilt_at_the_next_opening(
    kind, cut, settings, fake_embedder, caplog, request
):
    """Milvus Lite writes its index files in place after committing the data: a kill in the
    middle leaves one cut short, and it would refuse to load the collection (rag/store/milvus_repair.py)."""
    lite = on_backend("milvus-lite", settings, request)
    build_index(lite, [SEEDS], fake_embedder, progress=False)
    store = open_index(lite)

    def rankings(store):
        return [
            (
                located(store, store.vector_search(fake_embedder.embed_query(q), 5)),
                located(store, store.keyword_search(q, 5)),
            )
            for q in QUESTIONS
        ]

    expected = rankings(store)
    documents = store.counts()
    disconnect(lite.milvus_uri)

    files = sorted(Path(lite.milvus_uri).glob(f"collections/*/partitions/*/indexes/*{kind}"))
    assert files, kind
    victim = files[0]
    whole = victim.read_bytes()
    victim.write_bytes(whole[: len(whole) // 2] if cut == "half" else b"")
    try:
        with caplog.at_level("WARNING", logger="rag.store.milvus_repair"):
            store = open_index(lite)
        assert store.counts() == documents
        assert rankings(store) == expected
        assert [r.message for r in caplog.records if "removed to be rebuilt" in r.message] == [
            f"Milvus Lite index file unreadable (a write cut short), removed to be rebuilt: {victim}"
        ]
        assert victim.stat().st_size == len(whole)  # built again, whole
    finally:
        disconnect(lite.milvus_uri)
    store = open_index(lite)  # and the opening after that has nothing to repair
    assert store.counts() == documents
    disconnect(lite.milvus_uri)


def test_a_load_that_fails_for_another_reason_is_one_line_and_removes_nothing(
    settings, fake_embedder, monkeypatch, request
):
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    lite = on_backend("milvus-lite", settings, request)
    build_index(lite, [SEEDS], fake_embedder, progress=False)
    disconnect(lite.milvus_uri)
    files = sorted(Path(lite.milvus_uri).glob("collections/*/partitions/*/indexes/*"))

    def failing(self, name, *args, **kwargs):
        raise MilvusException(message="out of memory")

    monkeypatch.setattr(MilvusClient, "load_collection", failing)
    try:
        with pytest.raises(StoreUnavailableError, match="out of memory"):
            open_index(lite)
    finally:
        disconnect(lite.milvus_uri)
    assert sorted(Path(lite.milvus_uri).glob("collections/*/partitions/*/indexes/*")) == files


def test_a_reader_follows_a_rebuild_and_keeps_the_generation_before(milvus, fake_embedder, tmp_path):
    build_index(milvus, [SEEDS], fake_embedder, progress=False)
    reader = open_index(milvus, embed_model=fake_embedder.name)
    assert reader.counts()[0] == 2
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "lyon.txt").write_text("Tramway à Lyon\n\nLa ligne T10 relie Gerland à Vénissieux.", encoding="utf-8")
    build_index(milvus, [SEEDS, extra], fake_embedder, progress=False)
    assert reader.snapshot().counts()[0] == 3 and reader.version == "génération 2"
    build_index(milvus, [SEEDS], fake_embedder, progress=False)
    assert reader.snapshot().version == "génération 3"
    assert reader.passages(reader.keyword_search("Munich", 3))  # found on the new generation
    client = reader._client
    assert sorted(n for n in client.list_collections() if n.endswith("_chunks")) == [
        "depeche_g2_chunks",
        "depeche_g3_chunks",
    ]


def test_a_failed_build_publishes_nothing(milvus, fake_embedder):
    build_index(milvus, [SEEDS], fake_embedder, progress=False)

    def broken(texts):
        raise RuntimeError("embedding crashed")

    fake_embedder.embed_passages = broken
    with pytest.raises(RuntimeError):
        build_index(milvus, [SEEDS], fake_embedder, progress=False)
    store = open_index(milvus)
    assert store.version == "génération 1" and store.counts()[0] == 2
    assert not [n for n in store._client.list_collections() if n.startswith("depeche_g2_")]


def test_model_mismatch_and_missing_index(milvus, fake_embedder):
    assert not index_present(milvus)
    with pytest.raises(IndexMissingError, match="python -m index build"):
        open_index(milvus)
    build_index(milvus, [SEEDS], fake_embedder, progress=False)
    with pytest.raises(ModelMismatchError, match="python -m index rebuild"):
        open_index(milvus, embed_model="intfloat/multilingual-e5-small")


def test_an_unreachable_uri_is_one_line_naming_it_and_the_setting(settings):
    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailableError) as error:
        open_index(settings.with_(milvus_uri=uri))
    message = str(error.value)
    assert uri in message and "DEPECHE_MILVUS_URI" in message and "\n" not in message

    result = run_module("index", "status", home=settings.home, uri=uri)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"Erreur : {message}"]


def test_a_lite_file_held_by_another_process_says_how_to_share_it(settings, fake_embedder):
    settings.home.mkdir(parents=True, exist_ok=True)
    path = settings.home / "held.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pymilvus import MilvusClient; c = MilvusClient(sys.argv[1]); print('ready', flush=True); "
            "sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreUnavailableError, match="milvus-lite server"):
            build_index(settings.with_(milvus_uri=str(path)), [SEEDS], fake_embedder, progress=False)
    finally:
        holder.communicate("")
        disconnect(str(path))


def test_a_server_that_goes_away_fails_each_question_then_recovers(settings, fake_embedder, tmp_path):
    server = LiteServer(tmp_path / "server").start()
    try:
        remote = settings.with_(milvus_uri=server.uri)
        build_index(remote, [SEEDS], fake_embedder, progress=False)
        store = open_index(remote, embed_model=fake_embedder.name)
        assert store.keyword_search("Munich", 3)

        server.stop()
        for _ in range(2):  # each question gets the line; nothing else breaks
            with pytest.raises(StoreUnavailableError, match=server.uri):
                store.snapshot().keyword_search("Munich", 3)
        with pytest.raises(StoreUnavailableError, match=server.uri):  # opening again: the same line
            open_index(remote)
        with pytest.raises(StoreUnavailableError, match=server.uri):  # and a write
            add_documents(remote, [SEEDS], fake_embedder, progress=False, on_wait=None)

        server.start()  # same port, same data: gRPC reconnects within its backoff (about a second)
        deadline = time.monotonic() + 20
        while True:
            try:
                hits = store.snapshot().keyword_search("Munich", 3)
                break
            except StoreUnavailableError:
                assert time.monotonic() < deadline, "the store did not come back with its server"
                time.sleep(0.5)
        assert [p.doc_id for p in store.passages(hits)][0] == "2025-03-27-openai-munich"
    finally:
        server.stop()
        disconnect(server.uri)


def test_migrate_copies_without_embedding_and_back(settings, milvus, fake_embedder, tmp_path, capsys):
    from index.__main__ import migrate

    build_index(settings, [SEEDS], fake_embedder, progress=False)
    assert migrate(settings, milvus.milvus_uri, None, force=False) == 0
    out = capsys.readouterr().out
    assert "2 documents" in out and f"DEPECHE_MILVUS_URI={milvus.milvus_uri}" in out
    embedded, remote = open_index(settings), open_index(milvus)
    question = "Où OpenAI ouvre-t-il un bureau en Allemagne ?"
    vector = fake_embedder.embed_query(question)
    assert located(remote, remote.vector_search(vector, 5)) == located(embedded, embedded.vector_search(vector, 5))
    assert located(remote, remote.keyword_search(question, 5)) == located(
        embedded, embedded.keyword_search(question, 5)
    )
    remote_fingerprints, fingerprints = (dict(zip(*store.minhashes(), strict=True)) for store in (remote, embedded))
    assert len(fingerprints) == 2 and {k: v.tobytes() for k, v in remote_fingerprints.items()} == {
        k: v.tobytes() for k, v in fingerprints.items()
    }

    assert migrate(settings, milvus.milvus_uri, None, force=False) == 1  # the target holds an index
    assert "--force" in capsys.readouterr().out

    back = milvus.with_(home=tmp_path / "back")
    assert migrate(settings, "embedded", None, force=True) == 1  # the same store: nothing to do
    assert migrate(back, "embedded", None, force=False) == 0
    returned = open_index(back.with_(milvus_uri=""))
    assert returned.documents() == embedded.documents()
    for summary in embedded.documents():
        assert returned.document(summary.doc_id) == embedded.document(summary.doc_id)
    assert located(returned, returned.vector_search(vector, 5)) == located(embedded, embedded.vector_search(vector, 5))


def test_the_chat_answers_from_a_milvus_server_and_says_when_it_is_gone(settings, fake_embedder, tmp_path):
    from rag.components import open_store
    from tests.test_ui import MINISTER, make_context
    from ui.chat import ChatActions
    from ui.settings_panel import facts_markdown

    server = LiteServer(tmp_path / "server").start()
    try:
        remote = settings.with_(milvus_uri=server.uri, embed_model=fake_embedder.name)
        build_index(remote, [SEEDS], fake_embedder, progress=False)
        context = make_context(remote, open_store(remote), fake_embedder)
        assert "génération 1 : 2 documents" in facts_markdown(context)
        assert f"magasin Milvus (serveur) à {server.uri}" in facts_markdown(context)
        actions, session = ChatActions(context), context.new_session()
        *_, (_, chat, panel, session) = actions.respond(MINISTER, [], session)
        assert chat[-1]["content"].startswith('Hubert Aiwanger <a class="depeche-cite"') and "<mark>" in panel

        server.stop()
        *_, (_, chat, _, session) = actions.respond(MINISTER, chat, session)
        assert f"Magasin Milvus injoignable à {server.uri}" in chat[-1]["content"]
        assert "Traceback" not in chat[-1]["content"]
    finally:
        server.stop()
        disconnect(server.uri)


@pytest.mark.parametrize("uri", ["ftp://milvus.example:19530", "data/milvus", "http//oops:19530"])
def test_a_malformed_uri_is_refused_before_anything_is_created(settings, uri, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreUnavailableError, match=r"\*\.db .*http://hôte:19530"):
        open_index(settings.with_(milvus_uri=uri))
    assert list(tmp_path.iterdir()) == []  # no folder made from a typo


def test_the_chat_does_not_start_half_working_on_an_unreachable_store(settings):
    uri = f"http://127.0.0.1:{free_port()}"
    result = run_module("ui", home=settings.home, uri=uri, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"Erreur : Magasin Milvus injoignable à {uri}")
    assert "Traceback" not in result.stderr and "Running on" not in result.stdout


def test_shards_and_replicas_reach_every_collection_dépêche_creates_and_loads(milvus, fake_embedder, monkeypatch):
    """DEPECHE_MILVUS_SHARDS / _REPLICAS: Milvus Lite accepts and ignores them, so the calls
    themselves are checked."""
    from pymilvus import MilvusClient

    created, loaded = {}, {}
    real_create, real_load = MilvusClient.create_collection, MilvusClient.load_collection

    def create(self, name, *args, **kwargs):
        created[name] = kwargs.get("num_shards")
        return real_create(self, name, *args, **kwargs)

    def load(self, name, *args, **kwargs):
        loaded[name] = kwargs.get("replica_number")
        return real_load(self, name, *args, **kwargs)

    monkeypatch.setattr(MilvusClient, "create_collection", create)
    monkeypatch.setattr(MilvusClient, "load_collection", load)
    monkeypatch.setenv("DEPECHE_MILVUS_URI", milvus.milvus_uri)
    monkeypatch.setenv("DEPECHE_MILVUS_SHARDS", "4")
    monkeypatch.setenv("DEPECHE_MILVUS_REPLICAS", "2")
    from rag.config import Settings

    configured = Settings.from_env().with_(chunks=milvus.chunks)
    assert (configured.milvus_shards, configured.milvus_replicas) == (4, 2)
    build_index(configured, [SEEDS], fake_embedder, progress=False)
    assert set(created) == {"depeche_meta", "depeche_g1_chunks", "depeche_g1_documents", "depeche_g1_bodies"}
    assert set(created.values()) == {4} and set(loaded.values()) == {2}
    assert open_index(configured).counts()[0] == 2
