"""The trained French reader (rag.answer.reader): what it reads, and what it refuses to load."""

from __future__ import annotations

import json
import shutil

import pytest

from rag.answer.reader import MANIFEST, WEIGHTS, Reader, load_manifest
from rag.config import PROJECT_ROOT, Settings
from rag.errors import ModelLoadError

SEED_TEXTS = [path.read_text(encoding="utf-8") for path in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))]
MUNICH = next(text for text in SEED_TEXTS if "Munich" in text)


def _paragraph(text: str, word: str) -> str:
    return next(p for p in text.split("\n\n") if word in p and len(p) > 200)


def test_the_committed_weights_are_small_pinned_and_only_what_training_changed():
    manifest = load_manifest()
    assert WEIGHTS.stat().st_size == manifest["size"] <= 25_000_000
    assert manifest["dtype"] == "float16"
    layers = {name.split(".")[3] for name in manifest["trained"] if name.startswith("roberta.encoder.layer.")}
    assert layers == {str(i) for i in range(6, 12)}  # the bottom six layers and the embeddings stay e5-small's
    assert any(name.startswith("qa_outputs") for name in manifest["trained"])
    assert manifest["data"]["sha256"] == "008229ccefa0195d7e809d777d33149cab03433059c9477bdbadb4838a277cd2"
    assert manifest["held_out"]["span_f1"] > 0 and 0 < manifest["threshold"] < 1


@pytest.fixture(scope="module")
def base():
    from rag.models.e5_convert import ensure_e5_model

    return ensure_e5_model(Settings.from_env().cache)


@pytest.fixture(scope="module")
def reader(base):
    return Reader(base, threads=2)


@pytest.mark.integration
def test_the_reader_finds_the_city_and_is_surer_in_the_right_passage(reader):
    question = "Dans quelle ville OpenAI va-t-elle ouvrir un bureau en Allemagne ?"
    right = _paragraph(MUNICH, "Hubert Aiwanger")
    wrong = "La récolte de blé a baissé de dix pour cent cette année en Beauce, selon les agriculteurs."
    reading = reader.read(question, [wrong, right])
    assert reading.passage == 1 and "Munich" in reading.text
    assert right[reading.start : reading.end] == reading.text
    alone = reader.read(question, [wrong])
    assert alone.confidence < reading.confidence


@pytest.mark.integration
def test_altered_weights_are_refused_naming_the_file_and_the_fix(base, tmp_path):
    weights = tmp_path / WEIGHTS.name
    shutil.copy(WEIGHTS, weights)
    with weights.open("r+b") as handle:
        handle.seek(-10, 2)
        handle.write(b"\x00" * 10)
    with pytest.raises(ModelLoadError, match=f"{WEIGHTS.name}.*make reader"):
        Reader(base, weights=weights)


@pytest.mark.integration
def test_another_e5_small_is_refused(tmp_path):
    other = tmp_path / "multilingual-e5-small"
    other.mkdir()
    (other / "conversion.json").write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(ModelLoadError, match="autre version de multilingual-e5-small.*make reader"):
        Reader(other, manifest=MANIFEST)


def _word_offsets(text: str) -> list[tuple[int, int] | None]:
    """A token per word, after a ``<s>`` without offsets, as the tokenizer maps them."""
    import re

    return [None] + [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def test_the_span_is_read_in_the_sentence_where_the_spans_weigh_most():
    import numpy as np

    from rag.answer.reader import best_span

    text = "Le bureau ouvre à Munich. Il recrutera chercheurs, ingénieurs, juristes."
    offsets = _word_offsets(text)  # <s> Le bureau ouvre à Munich. | Il recrutera chercheurs, ingénieurs, juristes.
    # One sharp span in the first sentence (4 + 4), three good ones in the second (3.5 each end)
    starts = np.array([0.0, -5, -5, -5, -5, 4.0, -5, -5, 3.5, 3.5, 3.5])
    ends = np.array([0.0, -5, -5, -5, -5, 4.0, -5, -5, 3.5, 3.5, 3.5])
    first, last, score = best_span(starts, ends, offsets, text=text)
    assert offsets[first][0] >= text.index("chercheurs") and score == 7.0
    # Without the text, no sentences: the single best span, «Munich.»
    assert best_span(starts, ends, offsets)[:2] == (5, 5)


def test_a_sentence_whose_only_spans_repeat_the_question_gives_way_to_the_next():
    import numpy as np

    from rag.answer.reader import best_span

    text = "Paris. Munich aussi."
    offsets = _word_offsets(text)  # <s> Paris. | Munich aussi.
    starts = np.array([0.0, 5.0, 1.0, -9])
    ends = np.array([0.0, 5.0, 1.0, -9])
    first, last, _ = best_span(starts, ends, offsets, text=text, question_words={"paris"})
    assert text[offsets[first][0] : offsets[last][1]] == "Munich"
