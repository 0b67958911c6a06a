"""The embedded store past ``SEGMENTS_FROM``: a write adds a delta segment or hides documents,
shares the previous version's segments by hard link without changing them, and searches give
what one segment holding the same passages gives; merges and ``optimize`` fold segments."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pytest

from index.build import build_index
from index.update import add_documents, remove_documents
from index.writing import new_version
from rag.errors import IndexCorruptedError
from rag.store import embedded, segment
from rag.store import manifest as version_manifest
from rag.store.embedded import IndexStore
from rag.store.manifest import stored_documents
from rag.store.versions import current_version
from tests.conftest import SEEDS
from tests.consistency import check_index

SEED_IDS = ["2024-10-openai-paris", "2025-03-27-openai-munich"]


@pytest.fixture
def segmented(monkeypatch):
    """Every write past the first adds a segment; deltas merge only past ``MAX_DELTAS``."""
    monkeypatch.setattr(embedded, "SEGMENTS_FROM", 0)
    monkeypatch.setattr(embedded, "MERGE_SHARE", 0)


WORDS = (
    "conseil municipal budget tramway ligne parcours débat école hôpital gare port musée stade piscine "
    "marché pont rocade quartier collège lycée bibliothèque parc forêt rivière canal viaduc théâtre"
).split()


def write_articles(folder, count, start=0):
    """Short articles, each on its own town and words (none a near duplicate of another)."""
    folder.mkdir(exist_ok=True)
    for n in range(start, start + count):
        rng = np.random.default_rng(n)
        words = " ".join(rng.choice(WORDS, size=12))
        (folder / f"article-{n:02d}.txt").write_text(
            f"Dépêche numéro {n}\n\nÀ Ville{n}, le vote {n} porte sur : {words}. La ligne L{n} coûtera "
            f"{n * 10 + 7} millions d'euros selon le maire de Ville{n}.",
            encoding="utf-8",
        )
    return folder


def digest(folder):
    """The bytes of every file under ``folder``, by relative path."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def open_current(settings, embedder):
    return IndexStore.open(settings.index_dir, embed_model=embedder.name)


def test_a_write_adds_a_delta_linked_to_the_previous_version_and_changes_none_of_it(
    segmented, settings, fake_embedder, tmp_path
):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    first = current_version(settings.index_dir)
    before = digest(first)
    add_documents(settings, [write_articles(tmp_path / "a", 3)], fake_embedder, progress=False)
    second = current_version(settings.index_dir)
    manifest = json.loads((second / version_manifest.MANIFEST).read_text())
    assert len(manifest["deltas"]) == 1 and manifest["hidden"] == {}
    assert (second / embedded.DB_NAME).stat().st_ino == (first / embedded.DB_NAME).stat().st_ino  # no copy
    assert digest(first) == before  # the published version is as it was
    before = digest(second)

    remove_documents(settings, [SEED_IDS[0], "article-01"], on_wait=None)
    third = current_version(settings.index_dir)
    manifest = json.loads((third / version_manifest.MANIFEST).read_text())
    assert manifest["hidden"] == {"": [SEED_IDS[0]], manifest["deltas"][0]: ["article-01"]}
    assert digest(second) == before  # a removal hides: the segments it shares are unchanged
    assert check_index(settings.index_dir) == {SEED_IDS[1], "article-00", "article-02"}
    assert {d.doc_id for d in stored_documents(settings.index_dir)} == {SEED_IDS[1], "article-00", "article-02"}
    store = open_current(settings, fake_embedder)
    assert store.document(SEED_IDS[0]) is None and store.document("article-02") is not None
    assert store.counts()[0] == 3
    assert all(p.doc_id not in (SEED_IDS[0], "article-01") for p in store.passages(store.keyword_search("tramway", 50)))


def test_searches_across_segments_match_one_segment_holding_the_same_passages(
    segmented, settings, fake_embedder, tmp_path, monkeypatch
):
    corpus = write_articles(tmp_path / "a", 6)
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    add_documents(settings, [corpus], fake_embedder, progress=False)
    remove_documents(settings, ["article-03"], on_wait=None)
    segmented_store = open_current(settings, fake_embedder)
    assert segmented_store.segment_count == 2

    whole = settings.with_(home=tmp_path / "whole")
    build_index(whole, [SEEDS, corpus], fake_embedder, progress=False)
    remove_documents(whole, ["article-03"], on_wait=None)
    monkeypatch.setattr(embedded, "SEGMENTS_FROM", 10**9)  # not used by reads; one segment here
    single = open_current(whole, fake_embedder)
    assert single.segment_count == 1

    def texts(store, hits):
        return [(p.text, round(p.score, 4)) for p in store.passages(hits)]

    question = fake_embedder.embed_query("budget du tramway de la ligne L4")
    assert texts(segmented_store, segmented_store.vector_search(question, 8)) == texts(
        single, single.vector_search(question, 8)
    )
    # BM25: the same term weights (idf of all segments); a segment's own length norm differs a little.
    for query in ("tramway Ville4", "OpenAI Munich", "millions d'euros"):
        found = [p.text for p in segmented_store.passages(segmented_store.keyword_search(query, 3))]
        expected = [p.text for p in single.passages(single.keyword_search(query, 3))]
        assert found[0] == expected[0], query
    hits = segmented_store.keyword_search("Ville3", 50)
    assert "article-03" not in {p.doc_id for p in segmented_store.passages(hits)}


def test_deltas_past_the_limit_merge_into_one_and_optimize_folds_all_into_the_base(
    segmented, settings, fake_embedder, tmp_path, monkeypatch
):
    monkeypatch.setattr(embedded, "MAX_DELTAS", 2)
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    for n in range(4):
        add_documents(settings, [write_articles(tmp_path / f"a{n}", 1, start=n)], fake_embedder, progress=False)
        deltas = json.loads((current_version(settings.index_dir) / version_manifest.MANIFEST).read_text())["deltas"]
        assert len(deltas) == [1, 2, 1, 2][n]  # a third delta merges the three into one
    remove_documents(settings, [SEED_IDS[1], "article-00"], on_wait=None)
    expected = {SEED_IDS[0], "article-01", "article-02", "article-03"}
    assert check_index(settings.index_dir) == expected
    before = current_version(settings.index_dir)
    kept = digest(before)

    with new_version(settings, on_wait=None) as store:
        store.optimize()
    after = current_version(settings.index_dir)
    assert not (after / version_manifest.MANIFEST).exists() and not (after / version_manifest.DELTAS).exists()
    assert check_index(settings.index_dir) == expected
    assert digest(before) == kept  # the version before is whole for the readers still on it
    store = open_current(settings, fake_embedder)
    assert store.segment_count == 1 and store.counts()[0] == 4
    assert [p.doc_id for p in store.passages(store.keyword_search("Ville2", 1))] == ["article-02"]


def test_deltas_that_outgrow_a_share_of_the_base_are_merged_into_it(settings, fake_embedder, tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, "SEGMENTS_FROM", 0)
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    base_passages = open_current(settings, fake_embedder).counts()[1]
    add_documents(settings, [write_articles(tmp_path / "a", 1)], fake_embedder, progress=False)
    assert open_current(settings, fake_embedder).segment_count == 2  # one short article: under a quarter
    add_documents(settings, [write_articles(tmp_path / "b", 3 * base_passages, start=1)], fake_embedder, progress=False)
    store = open_current(settings, fake_embedder)
    assert store.segment_count == 1 and store.counts()[0] == 2 + 1 + 3 * base_passages


def test_an_update_replaces_the_document_of_an_older_segment(segmented, settings, fake_embedder, tmp_path):
    corpus = write_articles(tmp_path / "a", 2)
    build_index(settings, [SEEDS, corpus], fake_embedder, progress=False)
    (corpus / "article-01.txt").write_text("Dépêche corrigée\n\nLa ligne L1 coûtera finalement 12 millions.", "utf-8")
    report = add_documents(settings, [corpus], fake_embedder, progress=False)
    assert report.updated == ["article-01"]
    store = open_current(settings, fake_embedder)
    assert store.document("article-01").title == "Dépêche corrigée"
    assert [d.doc_id for d in store.documents()].count("article-01") == 1
    assert check_index(settings.index_dir) == {*SEED_IDS, "article-00", "article-01"}


def test_a_damaged_manifest_is_one_line(segmented, settings, fake_embedder, tmp_path):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    add_documents(settings, [write_articles(tmp_path / "a", 1)], fake_embedder, progress=False)
    (current_version(settings.index_dir) / version_manifest.MANIFEST).write_text("{not json", encoding="utf-8")
    _damage_is_told_then_refused_alone(settings, fake_embedder, "segments.json.*python -m index rebuild")


def _damage_is_told_then_refused_alone(settings, embedder, why: str) -> None:
    """The version before the damaged one answers, with the damage in one line; without it, the
    damage is the error."""
    import shutil

    from rag.store.versions import previous_version

    store = open_current(settings, embedder)
    assert re.search(why, store.warning) and "\n" not in store.warning and store.counts()[0] == 2
    shutil.rmtree(previous_version(settings.index_dir))
    with pytest.raises(IndexCorruptedError, match=why):
        open_current(settings, embedder)


def test_a_missing_delta_segment_is_one_line(segmented, settings, fake_embedder, tmp_path):
    import shutil

    build_index(settings, [SEEDS], fake_embedder, progress=False)
    add_documents(settings, [write_articles(tmp_path / "a", 1)], fake_embedder, progress=False)
    shutil.rmtree(current_version(settings.index_dir) / version_manifest.DELTAS)
    _damage_is_told_then_refused_alone(settings, fake_embedder, "store.sqlite manquant")


def test_keyword_weights_are_those_of_all_segments(segmented, settings, fake_embedder, tmp_path):
    """A word only the new article holds weighs what it would in one index of every passage."""
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    add_documents(settings, [write_articles(tmp_path / "a", 1, start=7)], fake_embedder, progress=False)
    store = open_current(settings, fake_embedder)
    base, delta = store._segments
    total = len(base.keywords) + len(delta.keywords)
    term = base.keywords.analyzer.terms("Ville7")[0]
    assert base.keywords.document_frequency(term) == 0 and delta.keywords.document_frequency(term) == 1
    (chunk_id, score), *_ = store.keyword_search("Ville7", 3)
    own = delta.keyword_search([term], 1)[0][1]
    assert score == pytest.approx(own * embedded.lucene_idf(1, total) / embedded.lucene_idf(1, len(delta.keywords)))
    assert np.isclose(score, own) is np.False_  # rescaled, not the small segment's own weight


def test_status_shows_the_segments_and_optimize_folds_them(segmented, settings, fake_embedder, tmp_path, capsys):
    from index.__main__ import optimize, status

    build_index(settings, [SEEDS], fake_embedder, progress=False)
    add_documents(settings, [write_articles(tmp_path / "a", 2)], fake_embedder, progress=False)
    remove_documents(settings, ["article-00"], on_wait=None)
    capsys.readouterr()
    assert status(settings) == 0
    assert "Segments : une base et 1 segment(s) d'ajouts, 1 document(s) retiré(s)" in capsys.readouterr().out
    assert optimize(settings) == 0
    out = capsys.readouterr().out
    assert out.startswith("Index optimisé en ") and out.rstrip().endswith("maintenant, un segment.")
    assert check_index(settings.index_dir) == {*SEED_IDS, "article-01"}


def test_a_reader_keeps_its_version_while_writers_add_hide_merge_and_delete_it(
    segmented, settings, fake_embedder, tmp_path
):
    """Its segments are mapped and its database open: later versions share them by hard link,
    a merge writes new files, and deleting the old version folder leaves the open files whole."""
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    add_documents(settings, [write_articles(tmp_path / "a", 2)], fake_embedder, progress=False)
    reader = open_current(settings, fake_embedder)
    first = reader.directory
    question = fake_embedder.embed_query("tramway de Ville1")
    before = [(p.doc_id, p.text) for p in reader.passages(reader.vector_search(question, 5))]
    keyword_before = reader.keyword_search("Ville1", 3)

    remove_documents(settings, ["article-01", SEED_IDS[0]], on_wait=None)
    add_documents(settings, [write_articles(tmp_path / "b", 2, start=5)], fake_embedder, progress=False)
    with new_version(settings, on_wait=None) as store:
        store.optimize()
    assert not first.exists()  # two versions on, its folder is gone

    assert [(p.doc_id, p.text) for p in reader.passages(reader.vector_search(question, 5))] == before
    assert reader.keyword_search("Ville1", 3) == keyword_before
    assert reader.document("article-01") is not None and reader.counts()[0] == 4
    assert {d.doc_id for d in open_current(settings, fake_embedder).documents()} == {
        SEED_IDS[1],
        "article-00",
        "article-05",
        "article-06",
    }


def test_fingerprints_are_read_from_the_segments_files_and_follow_hiding(segmented, settings, fake_embedder, tmp_path):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    add_documents(settings, [write_articles(tmp_path / "a", 2)], fake_embedder, progress=False)
    remove_documents(settings, [SEED_IDS[0]], on_wait=None)
    version = current_version(settings.index_dir)
    store = open_current(settings, fake_embedder)
    ids, matrix = store.minhashes()
    assert sorted(ids) == [SEED_IDS[1], "article-00", "article-01"] and matrix.shape == (3, 128)
    assert isinstance(store._segments[0].minhashes()[1], np.ndarray)
    assert (version / segment.FINGERPRINTS_NAME).is_file()  # the base's, mapped by readers
    with new_version(settings, on_wait=None) as writer:
        writer.optimize()
    optimized = current_version(settings.index_dir)
    assert json.loads((optimized / segment.FINGERPRINT_IDS_NAME).read_text()) == sorted(ids)
    reopened = open_current(settings, fake_embedder)
    assert {k: v.tobytes() for k, v in zip(*reopened.minhashes(), strict=True)} == {
        k: v.tobytes() for k, v in zip(ids, matrix, strict=True)
    }
