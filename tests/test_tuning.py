"""Per-model settings measured rather than assumed: the hybrid's dense weight and the check's floor."""

from __future__ import annotations

import pytest

from rag.components import make_checker, resolved_hybrid_alpha, resolved_min_similarity
from rag.config import Settings
from rag.errors import ConfigError
from rag.models.embedding import E5_TUNING, TUNING, tuning_for
from rag.search.retrieval import HybridRetriever, make_retriever
from tests.fakes import FakeEmbedder


def test_each_packaged_model_has_measured_settings_and_unknown_ones_fall_back_to_e5s():
    assert tuning_for("intfloat/multilingual-e5-small") == E5_TUNING
    assert tuning_for("/some/local/folder") == E5_TUNING
    assert tuning_for("embeddinggemma-300m-int8@256") == tuning_for("embeddinggemma-300m-int8")  # truncated
    assert "embeddinggemma-300m-int8" in TUNING and "google/embeddinggemma-300m" in TUNING


def test_the_hybrid_takes_the_embedders_weight_unless_one_is_given():
    for name, tuning in TUNING.items():
        retriever = make_retriever("hybrid", store=None, embedder=FakeEmbedder(name=name))
        assert isinstance(retriever, HybridRetriever) and retriever.alpha == tuning.hybrid_alpha
    assert make_retriever("hybrid", None, FakeEmbedder(), alpha=0.25).alpha == 0.25


def test_environment_overrides_and_defaults(monkeypatch):
    monkeypatch.setenv("DEPECHE_EMBED_MODEL", "embeddinggemma-300m-int8")
    settings = Settings.from_env()
    assert settings.min_similarity is None and settings.hybrid_alpha is None
    assert resolved_min_similarity(settings) == TUNING["embeddinggemma-300m-int8"].min_similarity
    assert resolved_hybrid_alpha(settings) == TUNING["embeddinggemma-300m-int8"].hybrid_alpha
    monkeypatch.setenv("DEPECHE_MIN_SIMILARITY", "0.42")
    monkeypatch.setenv("DEPECHE_HYBRID_ALPHA", "0.9")
    settings = Settings.from_env()
    assert resolved_min_similarity(settings) == 0.42 and resolved_hybrid_alpha(settings) == 0.9
    assert make_checker(settings, FakeEmbedder()).min_similarity == 0.42
    monkeypatch.setenv("DEPECHE_HYBRID_ALPHA", "1.5")
    with pytest.raises(ConfigError, match="DEPECHE_HYBRID_ALPHA"):
        Settings.from_env()
