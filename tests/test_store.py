import numpy as np
import pytest

from index.build import build_index
from rag.config import ChunkSettings, Settings
from rag.errors import IndexCorruptedError, IndexMissingError, ModelMismatchError
from rag.sources.chunking import chunk_document
from rag.sources.files import load_documents
from rag.store.embedded import VECTORS_NAME, IndexStore
from rag.store.interface import Store
from rag.store.records import IndexInfo
from rag.store.versions import current_version
from tests.conftest import SEEDS
from tests.consistency import check_index
from tests.fakes import FakeEmbedder

SETTINGS = ChunkSettings(size=400, overlap=60)


def make_store(tmp_path, embedder):
    info = IndexInfo(embed_model=embedder.name, dimension=embedder.dimension, chunk_size=400, chunk_overlap=60)
    store = IndexStore.create(tmp_path / "index", info)
    documents, _ = load_documents([SEEDS])
    for doc in documents:
        chunks = chunk_document(doc, SETTINGS)
        store.add_document(doc, chunks, embedder.embed_passages([c.text for c in chunks]))
    store.save()
    return store, documents


def test_round_trip(tmp_path, fake_embedder):
    store, documents = make_store(tmp_path, fake_embedder)
    expected_chunks = sum(len(chunk_document(d, SETTINGS)) for d in documents)
    store.close()

    reopened = IndexStore.open(tmp_path / "index", embed_model=fake_embedder.name)
    assert isinstance(reopened, Store)  # the embedded backend has every method of the interface
    assert reopened.counts() == (2, expected_chunks)
    assert reopened.info.chunk_size == 400
    for doc in documents:
        assert reopened.document(doc.doc_id) == doc
    summaries = {s.doc_id: s for s in reopened.documents()}
    assert summaries["2025-03-27-openai-munich"].date == "2025-03-27"

    # Searching with a chunk's own vector finds that chunk first, with its metadata.
    munich = documents[1] if documents[1].doc_id.endswith("munich") else documents[0]
    chunk = chunk_document(munich, SETTINGS)[2]
    hits = reopened.vector_search(fake_embedder.embed_passages([chunk.text])[0], k=3)
    passage = reopened.passages(hits)[0]
    assert (passage.doc_id, passage.text, passage.start) == (munich.doc_id, chunk.text, chunk.start)
    assert passage.title == munich.title
    assert munich.body[passage.start : passage.end] == passage.text
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)


def test_removal_by_id(tmp_path, fake_embedder):
    store, documents = make_store(tmp_path, fake_embedder)
    _, before = store.counts()
    removed = store.remove_document("2024-10-openai-paris")
    store.save()
    store.close()

    reopened = IndexStore.open(tmp_path / "index")
    assert reopened.counts() == (1, before - removed)
    assert removed > 0
    assert reopened.document("2024-10-openai-paris") is None
    # No search can return a chunk of the removed document any more.
    paris = next(d for d in documents if d.doc_id == "2024-10-openai-paris")
    hits = reopened.vector_search(fake_embedder.embed_query(paris.body[:300]), k=50)
    assert {p.doc_id for p in reopened.passages(hits)} == {"2025-03-27-openai-munich"}


def test_model_mismatch_is_a_clear_error(tmp_path, fake_embedder):
    store, _ = make_store(tmp_path, fake_embedder)
    store.close()
    with pytest.raises(ModelMismatchError, match="python -m index rebuild") as error:
        IndexStore.open(tmp_path / "index", embed_model="intfloat/multilingual-e5-small")
    assert "fake-embedder" in str(error.value)


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissingError, match="python -m index build"):
        IndexStore.open(tmp_path / "nowhere")


def test_corrupted_vectors_file(tmp_path, fake_embedder):
    store, _ = make_store(tmp_path, fake_embedder)
    store.close()
    (tmp_path / "index" / VECTORS_NAME).write_bytes(b"not a faiss index")
    with pytest.raises(IndexCorruptedError, match="python -m index rebuild"):
        IndexStore.open(tmp_path / "index")


def test_vectors_out_of_step_with_the_database(tmp_path, fake_embedder):
    store, _ = make_store(tmp_path, fake_embedder)
    store.remove_document("2024-10-openai-paris")
    store._segments[0].vectors.add_with_ids(np.zeros((1, fake_embedder.dimension), np.float32), np.array([999]))
    store.save()
    store.remove_document("2025-03-27-openai-munich")  # staged, never saved
    store.close()
    with pytest.raises(IndexCorruptedError, match="vecteurs"):
        IndexStore.open(tmp_path / "index")


def test_build_index_reports_and_swaps_in(settings, fake_embedder, tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "bad.txt").write_bytes(b"\xff\xfe")
    (extra / "ajout.txt").write_text("Un titre\n\nLyon inaugure une ligne de tramway.", encoding="utf-8")

    report = build_index(settings, [SEEDS, extra], fake_embedder, progress=False)
    assert report.documents == 3
    assert len(report.skipped) == 1 and "bad.txt" in report.skipped[0]

    # A second build replaces the first; only it and the version before it are kept.
    first = current_version(settings.index_dir)
    report2 = build_index(settings, [SEEDS], fake_embedder, progress=False)
    store = IndexStore.open(settings.index_dir, embed_model=fake_embedder.name)
    assert store.counts() == (2, report2.chunks)
    assert store.directory != first and store.directory.parent == settings.index_dir
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    versions = sorted(p.name for p in settings.index_dir.iterdir() if p.name.startswith("v-"))
    assert first.name not in versions and len(versions) == 2


def test_failed_build_keeps_the_previous_index(settings, fake_embedder):
    build_index(settings, [SEEDS], fake_embedder, progress=False)

    class BrokenEmbedder(FakeEmbedder):
        def embed_passages(self, texts):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        build_index(settings, [SEEDS], BrokenEmbedder(), progress=False)
    store = IndexStore.open(settings.index_dir, embed_model=fake_embedder.name)
    assert store.counts()[0] == 2
    assert [p.name for p in settings.index_dir.iterdir() if p.name.startswith("v-")] == [store.directory.name]


def test_an_index_from_before_versions_is_read_then_moved_into_one(tmp_path, fake_embedder):
    store, _ = make_store(tmp_path, fake_embedder)  # store.sqlite directly in index/
    store.close()
    root = tmp_path / "index"
    assert IndexStore.open(root).counts()[0] == 2
    build_index(Settings(home=tmp_path), [SEEDS], fake_embedder, progress=False)
    assert not (root / "store.sqlite").exists() and current_version(root) != root
    assert IndexStore.open(root).counts()[0] == 2


def test_missing_keyword_index_is_reported(tmp_path, fake_embedder):
    store, _ = make_store(tmp_path, fake_embedder)
    store.close()
    (tmp_path / "index" / "bm25" / "chunk_ids.json").unlink()
    with pytest.raises(IndexCorruptedError, match="BM25"):
        IndexStore.open(tmp_path / "index")


def test_a_large_index_goes_approximate_and_keeps_every_operation(tmp_path, fake_embedder, monkeypatch):
    """Past APPROXIMATE_FROM passages the vectors move to an inverted file (lowered here to the
    seeds' size): searches, removal by id, reopening, export and the consistency check work."""
    import faiss

    from rag.store import vector_index

    monkeypatch.setattr(vector_index, "APPROXIMATE_FROM", 10)
    monkeypatch.setattr(vector_index, "PROBE_SHARE", 1)  # every list: exact, so results can be compared
    store, documents = make_store(tmp_path, fake_embedder)
    assert isinstance(store._segments[0].vectors, faiss.IndexIVFFlat)
    munich = next(d for d in documents if d.doc_id.endswith("munich"))
    chunk = chunk_document(munich, SETTINGS)[2]
    vector = fake_embedder.embed_passages([chunk.text])[0]
    hits = store.vector_search(vector, k=3)
    assert store.passages(hits)[0].text == chunk.text and hits[0][1] == pytest.approx(1.0, abs=1e-5)

    removed = store.remove_document("2024-10-openai-paris")
    store.save()
    store.close()
    reopened = IndexStore.open(tmp_path / "index")
    vectors = reopened._segments[0].vectors
    assert isinstance(vectors, faiss.IndexIVF) and vectors.nprobe == vectors.nlist
    assert reopened.counts()[1] == sum(len(chunk_document(d, SETTINGS)) for d in documents) - removed
    assert {p.doc_id for p in reopened.passages(reopened.vector_search(vector, k=50))} == {munich.doc_id}
    exported = list(reopened.export())
    assert [e.document.doc_id for e in exported] == [munich.doc_id]
    assert np.allclose(exported[0].vectors[2], vector, atol=1e-6)
    assert check_index(tmp_path / "index") == {munich.doc_id}
