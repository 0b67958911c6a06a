"""The embedder chosen for this CPU (rag.models.embedding_choice): measured, kept per CPU, and never
over an existing index's model."""

from __future__ import annotations

import json

import numpy as np

from index.build import build_index
from rag.config import DEFAULT_EMBED_MODEL, Settings
from rag.models.cpu import Cpu, cpu_key
from rag.models.embedding_choice import (
    CHOICE_FILE,
    Choice,
    Speed,
    default_embed_model,
    indexed_model,
    measure,
    record,
    recorded,
    runtime_for,
)
from tests.conftest import SEEDS
from tests.fakes import FakeEmbedder

AVX2 = Cpu("AMD EPYC", frozenset({"avx2", "fma"}))
AMX = Cpu("Intel Xeon", frozenset({"avx2", "avx512f", "avx512_vnni", "amx_tile", "amx_int8"}))


class Sleepy(FakeEmbedder):
    """A fake whose speed is set: ``per_passage`` seconds a passage."""

    def __init__(self, name: str, per_passage: float) -> None:
        super().__init__(name=name)
        self.per_passage = per_passage

    def embed_passages(self, texts):
        import time

        time.sleep(self.per_passage * len(texts))
        return super().embed_passages(texts)


def test_the_fastest_candidate_is_chosen_and_kept_per_cpu(tmp_path, monkeypatch):
    speeds = {("int8", "ov"): 0.02, ("fp32", "ov"): 0.005, ("fp32", "st"): 0.03}
    choice = measure(list(speeds), lambda m, r: Sleepy(m, speeds[(m, r)]), ["un texte"] * 6, cpu=AVX2)
    assert choice.fastest == next(s for s in choice.speeds if (s.model, s.runtime) == ("fp32", "ov"))
    assert choice.runtime("fp32") == "ov" and choice.runtime("absent") is None
    assert choice.key == cpu_key(AVX2) and "avx2" in choice.cpu
    record(tmp_path, choice)
    assert recorded(tmp_path, cpu_key(AVX2)) == choice
    assert recorded(tmp_path, cpu_key(AMX)) is None  # another CPU measures again
    other = Choice(AMX.describe(), cpu_key(AMX), [Speed("int8", "ov", 18.0)])
    record(tmp_path, other)  # both kept
    assert recorded(tmp_path, cpu_key(AVX2)) == choice and recorded(tmp_path, cpu_key(AMX)) == other


def test_caps_make_a_cpu_of_their_own(monkeypatch):
    plain = cpu_key(AVX2)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert cpu_key(AVX2) != plain and cpu_key(AVX2).endswith("-avx2")


def test_an_unreadable_record_is_no_record(tmp_path):
    (tmp_path / CHOICE_FILE).write_text("{pas du json")
    assert recorded(tmp_path) is None
    (tmp_path / CHOICE_FILE).write_text(json.dumps({cpu_key(): {"cpu": "x"}}))
    assert recorded(tmp_path) is None


def test_the_default_model_is_the_indexs_then_this_cpus_fastest_then_the_products(tmp_path, monkeypatch):
    cache, home = tmp_path / "cache", tmp_path / "home"
    assert (
        default_embed_model(home / "index", cache, DEFAULT_EMBED_MODEL) == DEFAULT_EMBED_MODEL
    )  # nothing measured, no index
    record(cache, Choice("cpu", cpu_key(), [Speed("fast-model", "ov", 6.0), Speed(DEFAULT_EMBED_MODEL, "ov", 4.0)]))
    assert default_embed_model(home / "index", cache, DEFAULT_EMBED_MODEL) == "fast-model"
    monkeypatch.setenv("DEPECHE_HOME", str(home))
    monkeypatch.setenv("DEPECHE_CACHE", str(cache))
    monkeypatch.delenv("DEPECHE_EMBED_MODEL", raising=False)
    assert Settings.from_env().embed_model == "fast-model"  # a new index gets the fastest here
    build_index(Settings.from_env(), [SEEDS], FakeEmbedder(name="built-with"), progress=False)
    assert indexed_model(home / "index") == "built-with"
    assert Settings.from_env().embed_model == "built-with"  # an index is searched with its own model
    monkeypatch.setenv("DEPECHE_EMBED_MODEL", "by-hand")
    assert Settings.from_env().embed_model == "by-hand"  # a model set by hand wins (a mismatch is then refused)
    monkeypatch.delenv("DEPECHE_EMBED_MODEL")
    monkeypatch.setenv("DEPECHE_MILVUS_URI", "http://localhost:19530")
    assert Settings.from_env().embed_model == DEFAULT_EMBED_MODEL  # a Milvus collection is shared by any CPU


def test_a_models_runtime_is_the_fastest_measured_else_its_first(tmp_path):
    assert runtime_for("google/embeddinggemma-300m", tmp_path, "openvino-fp32") == "openvino-fp32"
    record(tmp_path, Choice("cpu", cpu_key(), [Speed("google/embeddinggemma-300m", "sentence-transformers", 9.0)]))
    assert runtime_for("google/embeddinggemma-300m", tmp_path, "openvino-fp32") == "sentence-transformers"


def test_a_choice_reads_as_one_line():
    choice = Choice("EPYC (avx2)", "k", [Speed("a", "x", 4.08), Speed("b", "y", np.float64(6.1))])
    assert choice.summary().endswith("→ b (y) pour les nouveaux index.")
