"""The reader run by OpenVINO (rag.answer.reader_openvino): the same windows, logits and
readings as the torch reader it is exported from, and an export redone when its sources change."""

from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pytest

from rag.answer.reader import MANIFEST, WEIGHTS, Reader, encode_windows
from rag.answer.reader_openvino import EXPORT_MANIFEST, OpenVINOReader, ensure_reader_export
from rag.config import PROJECT_ROOT, Settings
from rag.errors import ModelLoadError
from rag.models.cpu import compiled_cache

PIAF = PROJECT_ROOT / "eval" / "datasets" / "piaf-v1.0.json"
CACHE = Settings.from_env().cache


@pytest.fixture(scope="module")
def base():
    from rag.models.e5_convert import ensure_e5_model

    return ensure_e5_model(CACHE)


@pytest.fixture(scope="module")
def readers(base):
    folder = ensure_reader_export(base, CACHE)
    return Reader(base, threads=2), OpenVINOReader(folder, threads=2, compiled=compiled_cache(CACHE))


def _piaf_cases(count: int) -> list[tuple[str, list[str]]]:
    data = json.loads(PIAF.read_text(encoding="utf-8"))["data"]
    paragraphs = [p for article in data for p in article["paragraphs"]]
    cases = []
    for paragraph in random.Random(3).sample(paragraphs, count):
        text = paragraph["context"]
        # a whole paragraph, a cut one, and one longer than a window (several windows, with stride)
        long = " ".join([text] * (1 + 3000 // len(text)))
        cases.append((paragraph["qas"][0]["question"], [text, text[:300], long]))
    return cases


@pytest.mark.integration
def test_openvino_reads_what_torch_reads(readers):
    torch_reader, ov_reader = readers
    for question, passages in _piaf_cases(12):
        ours, theirs = ov_reader.encode(question, passages), encode_windows(torch_reader.tokenizer, question, passages)
        assert np.array_equal(ours.input_ids, theirs.input_ids)
        assert np.array_equal(ours.attention_mask, theirs.attention_mask)
        assert ours.passage == theirs.passage and ours.offsets == theirs.offsets
        assert max(ours.passage) == 2 and ours.passage.count(2) > 1  # the long passage took several windows
        mask = theirs.attention_mask.astype(bool)
        for a, b in zip(ov_reader.logits(ours), torch_reader.logits(theirs), strict=True):
            assert np.abs(a - b)[mask].max() < 1e-3
        expected = torch_reader.readings(question, passages)
        got = ov_reader.readings(question, passages)
        assert {k: (r.start, r.end) for k, r in got.items()} == {k: (r.start, r.end) for k, r in expected.items()}
        assert all(abs(got[k].confidence - expected[k].confidence) < 1e-3 for k in expected)


@pytest.mark.integration
def test_the_answer_path_imports_neither_torch_nor_transformers(base):
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from rag.answer.reader_openvino import OpenVINOReader;"
        f"r = OpenVINOReader(Path({str(ensure_reader_export(base, CACHE))!r}), threads=1);"
        "r.read('Où ?', ['Le bureau est à Munich.']);"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.integration
def test_the_export_is_redone_when_the_weights_change_and_refused_when_they_are_broken(base, tmp_path):
    weights = tmp_path / WEIGHTS.name
    shutil.copy(WEIGHTS, weights)
    folder = ensure_reader_export(base, tmp_path, weights=weights)
    assert json.loads((folder / EXPORT_MANIFEST).read_text())["sources"]["weights_sha256"]
    (folder / "reader.bin").write_bytes(b"truncated")  # a broken file: exported again
    assert ensure_reader_export(base, tmp_path, weights=weights) == folder
    assert (folder / "reader.bin").stat().st_size > 1_000_000
    with weights.open("r+b") as handle:  # weights that are not the manifest's: the torch reader's refusal
        handle.seek(-10, 2)
        handle.write(b"\x00" * 10)
    with pytest.raises(ModelLoadError, match="Export OpenVINO du lecteur impossible.*make reader"):
        ensure_reader_export(base, tmp_path, weights=weights, manifest=MANIFEST)
