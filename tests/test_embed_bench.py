"""The embedders' speed benchmark (eval/bench/embed_bench.py): its passages and its token count."""

from __future__ import annotations

import numpy as np

from eval.bench.embed_bench import CAPS, count_tokens, markdown, sample_passages


def test_passages_are_full_chunks_of_distinct_articles_drawn_the_same_way_each_time():
    first, again = sample_passages(12), sample_passages(12)
    assert first == again and len(first) == 12 and len(set(first)) == 12
    assert all(640 <= len(p) <= 800 for p in first)  # 800-character chunks, never an article's short tail


def test_tokens_are_counted_with_the_models_own_tokenizer():
    class Encoding:
        def __init__(self, text):
            self.ids = text.split()

    class Tokenizer:
        def encode_batch(self, texts):
            return [Encoding(t) for t in texts]

    class Embedder:
        tokenizer = Tokenizer()

        def embed_passages(self, texts):
            return np.zeros((len(texts), 2))

    assert count_tokens(Embedder(), ["un deux trois", "quatre"]) == 4
    assert count_tokens(object(), ["un"]) == 0  # unknown: no figure rather than a guess


def test_the_report_names_the_cpu_and_a_failed_run_in_one_line():
    rows = [
        {"variant": "m", "cap": "avx2", "passages_per_s": 3.9, "tokens_per_s": 710.0, "query_ms": 120.0, "load_s": 6.0},
        {"variant": "m", "cap": "avx512", "error": "ModelLoadError: absent"},
    ]
    text = markdown(rows, "AMD EPYC (avx2)")
    assert text.startswith("CPU : AMD EPYC (avx2)") and "| m | avx2 | 3.9 | 710.0 |" in text
    assert "| m | avx512 | erreur : ModelLoadError: absent |" in text
    assert set(CAPS) >= {"native", "avx2", "avx512", "avx512_vnni"} and CAPS["native"] == {}


def test_each_variant_is_compared_with_its_models_reference_and_a_capped_run_with_its_own_native_run(tmp_path):
    from eval.bench.embed_bench import compare, vectors_file

    rng = np.random.default_rng(0)
    reference = rng.normal(size=(20, 8))
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    close = reference + 0.01 * rng.normal(size=reference.shape)
    close /= np.linalg.norm(close, axis=1, keepdims=True)
    np.save(vectors_file(tmp_path, "google/embeddinggemma-300m:sentence-transformers", "native"), reference)
    np.save(vectors_file(tmp_path, "embeddinggemma-300m-int8", "native"), close)
    np.save(vectors_file(tmp_path, "embeddinggemma-300m-int8", "avx2"), close)
    rows = [
        {"variant": "google/embeddinggemma-300m:sentence-transformers", "cap": "native"},
        {"variant": "embeddinggemma-300m-int8", "cap": "native"},
        {"variant": "embeddinggemma-300m-int8", "cap": "avx2"},
    ]
    compare(rows, tmp_path)
    assert "cosine" not in rows[0]  # the reference itself
    assert 0.99 < rows[1]["cosine"]["min"] < 1.0
    assert rows[1]["cosine"]["to"] == "google/embeddinggemma-300m:sentence-transformers, native"
    assert rows[2]["cosine"]["min"] > 0.99  # a capped run is compared with the model's reference too


def test_the_retrieval_table_gives_each_models_figures_and_names_a_failure():
    from eval.bench.embed_bench import retrieval_markdown

    text = retrieval_markdown(
        {
            "m": {
                "SPF-QR": {"doc@1": 0.9238, "ans@5": 0.9619, "mrr": 0.88},
                "PIAF": {"doc@1": 0.9, "ans@5": 0.93, "mrr": 0.852},
            },
            "e5": {"SPF-QR": {"error": "ModelLoadError"}, "PIAF": {}},
        }
    )
    assert "| m | 0.924 | 0.962 | 0.852 | 0.930 |" in text
    assert "| e5 | ModelLoadError | ModelLoadError | — | — |" in text
