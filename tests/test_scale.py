"""The scale benchmark (eval/bench/scale.py) on a tiny corpus, with the fake embedder."""

from __future__ import annotations

import numpy as np
import pytest

from eval.bench.scale import (
    PASSAGES_PER_ARTICLE,
    chunks_of,
    exact_top,
    markdown,
    run_scale,
    sentence_pool,
    synthetic_articles,
    vectors_for,
)


def test_the_synthetic_corpus_is_real_sentences_recombined_the_same_at_every_run():
    pool = sentence_pool()
    assert len(pool) > 1000 and all(40 <= len(s) <= 400 for s in pool)
    first = list(synthetic_articles(pool, 0, 3))
    assert first == list(synthetic_articles(pool, 0, 3))  # deterministic, article by article
    assert list(synthetic_articles(pool, 1, 1)) == first[1:2]
    chunks = chunks_of(first[0])
    assert len(chunks) == PASSAGES_PER_ARTICLE
    assert all(first[0].body[c.start : c.end] == c.text and 600 <= len(c.text) <= 1200 for c in chunks)


def test_noisy_vectors_stay_near_their_source_and_exact_search_finds_the_true_top():
    rng = np.random.default_rng(0)
    sample = rng.normal(size=(50, 32)).astype(np.float32)
    sample /= np.linalg.norm(sample, axis=1, keepdims=True)
    vectors = vectors_for(0, 200, sample)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(vectors * sample[np.arange(200) % 50], axis=1)
    assert 0.8 < cosines.mean() < 0.97
    assert np.array_equal(vectors_for(100, 10, sample), vectors[100:110])  # the same at every run
    queries = vectors[:3]
    top = exact_top(lambda s, c: vectors_for(s, c, sample), 200, queries, k=5, block=64)
    assert [0 in top[0], 1 in top[1], 2 in top[2]] == [True, True, True]  # each finds itself
    brute = np.argsort(-(queries @ vectors.T), axis=1)[:, :5]
    assert top == [set(row.tolist()) for row in brute]


@pytest.mark.parametrize("backend", ["embedded", "milvus-lite"])
def test_a_tiny_scale_run_measures_every_figure_through_the_product_paths(
    backend, tmp_path, fake_embedder, monkeypatch
):
    monkeypatch.setattr("eval.bench.scale.SAMPLE", 40)
    figures = run_scale([60, 120], 5, tmp_path, backend=backend, embedder=fake_embedder)
    assert [f.passages for f in figures] == [60, 120]
    for f in figures:
        assert f.disk_bytes > 0 and f.rss_bytes > 10_000_000
        assert set(f.query_ms) == {"bm25", "dense", "hybrid"} and all(v["p50"] > 0 for v in f.query_ms.values())
        assert f.add_one_s > 0 and f.remove_one_s > 0
        assert f.recall_at_10 == 1.0  # flat FAISS is exact; HNSW over 120 passages finds them all
    assert figures[1].disk_bytes > figures[0].disk_bytes
    assert f"| {backend} | 120 |" in markdown(figures)
