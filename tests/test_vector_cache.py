"""The benchmark's embedder wrappers: vectors cached on disk, Matryoshka truncation."""

from __future__ import annotations

import numpy as np
import pytest

from eval.vector_cache import CachedEmbedder, TruncatedEmbedder
from tests.fakes import FakeEmbedder

TEXTS = ["OpenAI ouvre un bureau à Munich", "Le bureau parisien d'OpenAI", "Mistral AI lève des fonds"]


def test_vectors_come_back_from_the_cache_identical_without_the_model(tmp_path):
    path = tmp_path / "vectors.sqlite"
    first = CachedEmbedder(FakeEmbedder(), path)
    vectors = first.embed_passages(TEXTS)
    query = first.embed_query("Où est le bureau ?")
    assert first.computed == 4 and first.inner.calls > 0

    model = FakeEmbedder()
    again = CachedEmbedder(model, path)  # a new process, the same file
    assert np.array_equal(again.embed_passages(list(reversed(TEXTS))), vectors[::-1])
    assert np.array_equal(again.embed_query("Où est le bureau ?"), query)
    assert again.computed == 0 and model.calls == 0
    again.embed_passages([TEXTS[0], "Un texte nouveau sur Munich"])
    assert again.computed == 1  # only the new text


def test_a_query_and_a_passage_of_the_same_text_are_kept_apart(tmp_path):
    class Prompted(FakeEmbedder):
        def embed_query(self, text):
            return super().embed_query("question " + text)

    cached = CachedEmbedder(Prompted(), tmp_path / "v.sqlite")
    passage = cached.embed_passages(["Munich en Bavière"])[0]
    assert not np.array_equal(cached.embed_query("Munich en Bavière"), passage)


def test_the_cache_is_keyed_by_model(tmp_path):
    path = tmp_path / "v.sqlite"
    CachedEmbedder(FakeEmbedder(name="a"), path).embed_passages(TEXTS)
    other = CachedEmbedder(FakeEmbedder(name="b"), path)
    other.embed_passages(TEXTS)
    assert other.computed == 3


class Counting:
    name, dimension = "counting", 6

    def embed_query(self, text):
        return np.array([3.0, 4.0, 1.0, 1.0, 1.0, 1.0], dtype=np.float32)

    def embed_passages(self, texts):
        return np.stack([self.embed_query(t) for t in texts])


def test_truncation_keeps_the_first_components_renormalized():
    cut = TruncatedEmbedder(Counting(), 2)
    assert cut.name == "counting@2" and cut.dimension == 2
    assert np.allclose(cut.embed_query("x"), [0.6, 0.8])
    assert np.allclose(cut.embed_passages(["a", "b"]), [[0.6, 0.8], [0.6, 0.8]])
    assert TruncatedEmbedder(Counting(), 6).name == "counting"  # whole: the model's own name
    with pytest.raises(ValueError):
        TruncatedEmbedder(Counting(), 7)
