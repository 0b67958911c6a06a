"""Incremental add / update / remove: only changed files are embedded; all or nothing."""

import shutil

import pytest

from index.build import build_index
from index.update import add_documents, remove_documents
from rag.errors import IndexMissingError
from rag.store import IndexStore
from tests.conftest import SEEDS

ARTICLE = (
    "Tramway : la ligne T10 est ouverte\n\n"
    "La métropole de Lyon a inauguré samedi la ligne T10, qui relie Gerland à Vénissieux."
)


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "lyon.txt").write_text(ARTICLE, encoding="utf-8")
    return folder


def open_store(settings, embedder):
    return IndexStore.open(settings.index_dir, embed_model=embedder.name)


def test_add_embeds_only_the_new_document(settings, fake_embedder, corpus):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    before = open_store(settings, fake_embedder).counts()
    embedded = []
    original = fake_embedder.embed_passages
    fake_embedder.embed_passages = lambda texts: embedded.extend(texts) or original(texts)
    report = add_documents(settings, [corpus], fake_embedder, progress=False)
    assert report.added == ["lyon"] and report.updated == report.unchanged == []
    assert embedded and all("Lyon" in text or "T10" in text for text in embedded)
    store = open_store(settings, fake_embedder)
    assert store.counts() == (before[0] + 1, before[1] + report.chunks)
    assert store.keyword_search("Vénissieux", 1)  # BM25 knows it
    assert report.summary().startswith("1 ajouté(s), 0 mis à jour, 0 inchangé(s)")


def test_readding_an_unchanged_file_does_nothing_and_a_changed_one_is_replaced(settings, fake_embedder, corpus):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    add_documents(settings, [corpus], fake_embedder, progress=False)
    again = add_documents(settings, [corpus / "lyon.txt"], fake_embedder, progress=False)
    assert again.unchanged == ["lyon"] and again.chunks == 0
    (corpus / "lyon.txt").write_text(ARTICLE.replace("samedi", "dimanche") + " Coût : 200 millions.", "utf-8")
    changed = add_documents(settings, [corpus], fake_embedder, progress=False)
    assert changed.updated == ["lyon"]
    store = open_store(settings, fake_embedder)
    texts = [p.text for p in store.passages(store.keyword_search("Gerland", 5)) if p.doc_id == "lyon"]
    assert texts and all("dimanche" in t for t in texts)  # the old chunks are gone


def test_remove_drops_rows_vectors_and_keywords(settings, fake_embedder, corpus):
    build_index(settings, [SEEDS, corpus], fake_embedder, progress=False)
    documents, chunks = open_store(settings, fake_embedder).counts()
    report = remove_documents(settings, ["lyon", "nowhere"])
    assert report.removed == ["lyon"] and report.unknown == ["nowhere"]
    store = open_store(settings, fake_embedder)  # reopening checks FAISS and rows agree
    assert store.document("lyon") is None and store.counts()[0] == documents - 1
    assert all(p.doc_id != "lyon" for p in store.passages(store.keyword_search("Vénissieux Gerland", 5)))
    assert store.counts()[1] < chunks


def test_first_add_creates_the_index(settings, fake_embedder, corpus):
    report = add_documents(settings, [corpus], fake_embedder, progress=False)
    assert report.added == ["lyon"] and open_store(settings, fake_embedder).counts()[0] == 1


def test_a_failed_add_leaves_the_index_as_it_was(settings, fake_embedder, corpus):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    before = open_store(settings, fake_embedder).counts()

    def broken(texts):
        raise RuntimeError("embedding crashed")

    fake_embedder.embed_passages = broken
    with pytest.raises(RuntimeError):
        add_documents(settings, [corpus], fake_embedder, progress=False)
    assert open_store(settings, fake_embedder).counts() == before
    assert not [p for p in settings.home.iterdir() if p.name.startswith("index-updating-")]


def test_remove_without_an_index_is_a_clear_error(settings):
    shutil.rmtree(settings.index_dir, ignore_errors=True)
    with pytest.raises(IndexMissingError):
        remove_documents(settings, ["lyon"])
