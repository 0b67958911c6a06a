"""The trained reader run by OpenVINO, without torch or transformers: a cold start in a second.

:class:`~rag.answer.reader.Reader` loads e5-small through transformers and torch, then the
trained layers on top: about 7 seconds before the first question, most of it importing torch
and transformers. This module exports that same model, once, into an OpenVINO model in fp32
(:func:`export_reader`, in a child process, about 20 seconds), and reads with it
(:class:`OpenVINOReader`): the tokenizer through ``tokenizers`` alone (:func:`encode_windows_fast`,
the same windows as transformers' fast tokenizer, tested), the forward pass through OpenVINO's
compiled model, kept in the compiled-model cache of this CPU (:func:`rag.models.cpu.compiled_cache`).

``export.json`` records the sha256 of the trained weights and of the e5-small conversion it
was exported from, and the size and sha256 of every file; a load re-exports when any of them changed.
The logits match torch's within 1e-3 (tested), so the calibration and every threshold fitted
on the torch reader stay valid.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.answer.reader import MANIFEST, MAX_LENGTH, STRIDE, WEIGHTS, Calibration, Reader, Windows, load_manifest
from rag.errors import ModelLoadError
from rag.models.checksums import file_sha256
from rag.models.exports import child_main, compile_on_cpu, file_entries, manifest_matches, run_export

log = logging.getLogger(__name__)

EXPORT_DIR = "e5-small-piaf-reader-openvino"
EXPORT_MANIFEST = "export.json"
EXPORT_FORMAT = 2  # 2: files recorded with their sha256, as the embedder's export


def encode_windows_fast(tokenizer, question: str, passages: Sequence[str], *, pad_id: int) -> Windows:
    """:func:`rag.answer.reader.encode_windows` with a ``tokenizers.Tokenizer`` (no transformers):
    the pair (question, passage) truncated on the passage's side into windows of ``MAX_LENGTH``
    tokens sharing ``STRIDE``, padded to the longest window."""
    tokenizer.enable_truncation(MAX_LENGTH, stride=STRIDE, strategy="only_second")
    tokenizer.no_padding()
    windows, owners = [], []
    for index, encoding in enumerate(tokenizer.encode_batch([(question, passage) for passage in passages])):
        for window in [encoding, *encoding.overflowing]:
            windows.append(window)
            owners.append(index)
    width = max((len(window.ids) for window in windows), default=0)
    input_ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    attention_mask = np.zeros((len(windows), width), dtype=np.int64)
    offsets = []
    for row, window in enumerate(windows):
        input_ids[row, : len(window.ids)] = window.ids
        attention_mask[row, : len(window.ids)] = window.attention_mask
        sequence = window.sequence_ids
        offsets.append(
            [tuple(o) if s == 1 else None for o, s in zip(window.offsets, sequence, strict=True)]
            + [None] * (width - len(window.ids))
        )
    return Windows(input_ids=input_ids, attention_mask=attention_mask, passage=owners, offsets=offsets)


def _sources(base: Path, weights: Path) -> dict[str, str]:
    try:
        conversion = json.loads((base / "conversion.json").read_text())["sha256"]
    except (OSError, ValueError, KeyError):
        conversion = None
    return {"weights_sha256": file_sha256(weights) if weights.is_file() else None, "base_sha256": conversion}


def _export_ok(folder: Path, sources: dict[str, str]) -> bool:
    return manifest_matches(folder, EXPORT_MANIFEST, {"format": EXPORT_FORMAT, "sources": sources})


def export_reader(base: Path, target: Path, *, weights: Path = WEIGHTS, manifest: Path = MANIFEST) -> None:
    """Load the torch reader (its checks included) and save it as an OpenVINO model in ``target``."""
    import openvino as ov
    import torch

    reader = Reader(base, weights=weights, manifest=manifest)

    class Logits(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask)
            return out.start_logits, out.end_logits

    example = reader.tokenizer(["Où ?"], ["Un exemple de passage."], return_tensors="pt")
    with torch.no_grad():
        converted = ov.convert_model(
            Logits(reader.model),
            example_input={"input_ids": example["input_ids"], "attention_mask": example["attention_mask"]},
            input=[("input_ids", [-1, -1], ov.Type.i64), ("attention_mask", [-1, -1], ov.Type.i64)],
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as work:
        staging = Path(work) / target.name
        staging.mkdir()
        ov.save_model(converted, staging / "reader.xml", compress_to_fp16=False)
        shutil.copy2(base / "tokenizer.json", staging / "tokenizer.json")
        info = {
            "format": EXPORT_FORMAT,
            "sources": _sources(base, weights),
            "pad_id": int(reader.tokenizer.pad_token_id),
            "versions": {"openvino": ov.__version__, "torch": torch.__version__},
            "files": file_entries(staging),
        }
        (staging / EXPORT_MANIFEST).write_text(json.dumps(info, indent=1))
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)


def ensure_reader_export(base: Path, cache: Path, *, weights: Path = WEIGHTS, manifest: Path = MANIFEST) -> Path:
    """The OpenVINO reader in ``cache/models``, exported in a child process when missing or stale."""
    target = cache / "models" / EXPORT_DIR
    if _export_ok(target, _sources(base, weights)):
        return target
    log.warning("Lecteur : export OpenVINO dans %s (première utilisation, environ 20 secondes)", target)
    run_export("rag.answer.reader_openvino", [str(base), str(target), str(weights), str(manifest)], what="du lecteur")
    if not _export_ok(target, _sources(base, weights)):
        raise ModelLoadError(f"Export OpenVINO du lecteur impossible : {target} incomplet.")
    return target


class OpenVINOReader(Reader):
    """The :class:`Reader`, its forward pass by OpenVINO and its tokenizer by ``tokenizers``."""

    def __init__(
        self, folder: Path, *, manifest: Path = MANIFEST, threads: int | None = None, compiled: Path | None = None
    ) -> None:
        from tokenizers import Tokenizer

        info = load_manifest(manifest)
        try:
            export = json.loads((folder / EXPORT_MANIFEST).read_text())
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self.compiled = compile_on_cpu(folder / "reader.xml", threads=threads, compiled=compiled)
        except (OSError, ValueError, RuntimeError) as error:
            raise ModelLoadError(f"Lecteur OpenVINO ({folder}) illisible : {error}") from None
        self.pad_id = int(export["pad_id"])
        self.calibration = Calibration(**info["calibration"])
        self.name = info.get("name", WEIGHTS.stem)
        self._lock = threading.Lock()
        log.info("reader %s (OpenVINO) from %s", self.name, folder)

    def encode(self, question: str, passages: Sequence[str]) -> Windows:
        with self._lock:  # the tokenizer's truncation is set in place
            return encode_windows_fast(self.tokenizer, question, passages, pad_id=self.pad_id)

    def logits(self, windows: Windows) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            out = self.compiled({0: windows.input_ids, 1: windows.attention_mask})
        return np.asarray(out[0], dtype=np.float32), np.asarray(out[1], dtype=np.float32)


def main(argv: list[str]) -> int:
    """``python -m rag.answer.reader_openvino BASE TARGET WEIGHTS MANIFEST``: the export, in its own process."""
    base, target, weights, manifest = map(Path, argv)
    return child_main(lambda: export_reader(base, target, weights=weights, manifest=manifest))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
