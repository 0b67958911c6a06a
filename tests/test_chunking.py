import pytest

from rag.config import ChunkSettings
from rag.errors import ConfigError
from rag.sources.chunking import chunk_document
from rag.sources.documents import Document
from rag.sources.files import load_documents
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def seed_documents():
    documents, _ = load_documents([SEEDS])
    return documents


@pytest.mark.parametrize(("size", "overlap"), [(1000, 150), (400, 60), (200, 0), (120, 40)])
def test_offsets_point_at_the_chunk_text(seed_documents, size, overlap):
    settings = ChunkSettings(size=size, overlap=overlap)
    for doc in seed_documents:
        chunks = chunk_document(doc, settings)
        assert chunks
        for position, chunk in enumerate(chunks):
            assert doc.body[chunk.start : chunk.end] == chunk.text
            assert len(chunk.text) <= size
            assert chunk.position == position
            assert chunk.doc_id == doc.doc_id
        starts = [c.start for c in chunks]
        assert starts == sorted(starts)


def test_chunks_cover_the_whole_body(seed_documents):
    for doc in seed_documents:
        chunks = chunk_document(doc, ChunkSettings(size=300, overlap=50))
        covered = [False] * len(doc.body)
        for c in chunks:
            covered[c.start : c.end] = [True] * (c.end - c.start)
        uncovered = "".join(ch for ch, hit in zip(doc.body, covered, strict=True) if not hit)
        assert uncovered.strip() == ""  # only whitespace between chunks is left out


def test_chunks_break_at_sentence_ends(seed_documents):
    chunks = chunk_document(seed_documents[0], ChunkSettings(size=300, overlap=0))
    endings = [c.text[-1] for c in chunks]
    assert sum(e in '.!?…»"' for e in endings) >= len(chunks) // 2


def test_consecutive_chunks_overlap():
    # The splitter overlaps whole units (here sentences), so short sentences show it.
    body = " ".join(f"La phrase numéro {i} parle de Munich." for i in range(40))
    doc = Document("d", "t", None, "d.txt", body, "0")
    chunks = chunk_document(doc, ChunkSettings(size=300, overlap=100))
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end  # each passage repeats the end of the one before
        assert a.end - b.start <= 100


@pytest.mark.parametrize(("size", "overlap"), [(10, 0), (500, 500), (500, -1)])
def test_bad_chunk_settings_are_refused(size, overlap):
    with pytest.raises(ConfigError):
        ChunkSettings(size=size, overlap=overlap)
