"""EmbeddingGemma-300M through OpenVINO, in int8 or fp32: the fast paths, exported here on first use.

Through sentence-transformers in fp32, EmbeddingGemma embeds about 2.5 passages of 800
characters a second on 2 cores. This module exports the same model, from its local folder
(:mod:`rag.models.embeddinggemma`), into an OpenVINO model quantized to int8 (``embeddinggemma-300m-int8``):
about 7× faster on a CPU with VNNI, its vectors at a cosine of 0.988 or more to fp32's, so a
model of its own. Without quantization (``precision="fp32"``), the export is the fp32 model's
faster runtime: the same vectors (cosine 1.0000), about 3× sentence-transformers' speed, and
the fastest EmbeddingGemma on a CPU without VNNI (``docs/indexing-speed.md``).

**Export** (:func:`export_openvino`, once, about 2 minutes on 2 cores):

1. sentence-transformers loads the folder (``local_files_only=True``, no remote code);
2. ``torch.export`` traces its transformer (``input_ids``, ``attention_mask`` ->
   ``last_hidden_state``), and ``openvino.convert_model`` converts the trace;
3. NNCF quantizes the weights and activations to int8, with SmoothQuant for Gemma's
   activation outliers (``ModelType.TRANSFORMER``). It calibrates on 150 French texts from
   PIAF (``eval/datasets/piaf-v1.0.json``, fixed seed), never on an evaluation set;
4. the two dense layers that follow the mean pooling are linear, with no bias and no
   activation, so they fold into one 768 × 768 matrix (``head.npy``).

``export.json`` records the source's sha256, the library versions, the calibration set's
sha256 and the sha256 of every file written. A load checks the sizes, and re-exports on any
mismatch.

The export runs in a child process (``python -m rag.models.embedding_openvino SOURCE TARGET``). This
keeps the fp32 model and the tracing (several GB) out of the chat's memory. It also runs with
``CI=true`` and ``NNCF_CI=1``, the switches that turn off the usage telemetry OpenVINO's
converter and NNCF send by default when the user has not opted out: nothing leaves the machine.

**Run** (:class:`OpenVINOEmbedder`): the model's own prompts and tokenizer
(``tokenizers``, the same ids as sentence-transformers), right padding, mean pooling over the
mask, the folded head, L2 normalization. OpenVINO runs in fp32 precision outside the int8 layers
(``INFERENCE_PRECISION_HINT``), so the numbers do not depend on whether the CPU has bf16.
Neither torch nor sentence-transformers is imported to embed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.config import PROJECT_ROOT
from rag.errors import ModelLoadError
from rag.models.checksums import file_sha256
from rag.models.exports import child_main, compile_on_cpu, file_entries, manifest_matches, run_export

log = logging.getLogger(__name__)

EXPORT_DIR = "embeddinggemma-300m-openvino-int8"
EXPORT_DIRS = {"int8": EXPORT_DIR, "fp32": "embeddinggemma-300m-openvino-fp32"}
MANIFEST = "export.json"
EXPORT_FORMAT = 1  # bump when the export recipe changes: older exports are redone
PIAF = PROJECT_ROOT / "eval" / "datasets" / "piaf-v1.0.json"
CALIBRATION_SEED = 13
CALIBRATION_PASSAGES = 100
CALIBRATION_QUESTIONS = 50
MAX_TOKENS = 2048  # the model's context, as sentence-transformers truncates
BATCH_SIZE = 16
# Inputs are padded to a multiple of this many tokens. OpenVINO prepares its kernels once for
# each input shape, which costs about 15 ms for every new sequence length. With padding, a
# few shapes come back again and again, and the attention mask keeps the padding out of the
# vectors.
PAD_MULTIPLE = 16
WARM_WIDTHS = (16, 32, 48, 64)  # most questions; shapes prepared at load time


def calibration_texts(piaf: Path = PIAF, *, seed: int = CALIBRATION_SEED) -> tuple[list[str], list[str]]:
    """PIAF paragraphs cut to at most 800 characters, and PIAF questions, drawn with ``seed``."""
    data = json.loads(piaf.read_text(encoding="utf-8"))["data"]
    paragraphs = [p["context"] for article in data for p in article["paragraphs"]]
    questions = [qa["question"] for article in data for p in article["paragraphs"] for qa in p["qas"]]
    rng = random.Random(seed)
    passages = [text[:800].rsplit(" ", 1)[0] if len(text) > 800 else text for text in rng.sample(paragraphs, 400)]
    passages = [text for text in passages if len(text) >= 200][:CALIBRATION_PASSAGES]
    return passages, rng.sample(questions, CALIBRATION_QUESTIONS)


def _manifest_ok(folder: Path, source_sha256: str) -> bool:
    return manifest_matches(folder, MANIFEST, {"format": EXPORT_FORMAT, "source_sha256": source_sha256})


def export_openvino(source: Path, target: Path, *, piaf: Path = PIAF, precision: str = "int8") -> None:
    """Export the sentence-transformers folder ``source`` into ``target`` (see the module's docstring);
    ``precision="fp32"``: the same export without step 3 (no quantization)."""
    import nncf
    import openvino as ov
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    modules = list(model)
    transformer, pooling, dense = modules[0], modules[1], modules[2:-1]
    pooling_config = pooling.get_config_dict()
    if pooling_config.get("pooling_mode") != "mean" or not pooling_config.get("include_prompt") or len(dense) != 2:
        raise ModelLoadError(f"{source.name} : architecture inattendue pour l'export OpenVINO (pooling, denses).")
    head = np.eye(transformer.get_word_embedding_dimension(), dtype=np.float64)
    for layer in dense:  # y = x @ W.T, no bias, identity activation: both fold into one matrix
        if layer.linear.bias is not None or type(layer.activation_function) is not torch.nn.Identity:
            raise ModelLoadError(f"{source.name} : couche dense non linéaire, export OpenVINO impossible.")
        head = head @ layer.linear.weight.detach().double().numpy().T

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    example = model.tokenize([model.prompts["document"] + "Un exemple.", model.prompts["query"] + "Deux ?"])
    batch, length = torch.export.Dim("batch", max=256), torch.export.Dim("length", min=2, max=MAX_TOKENS)
    with torch.no_grad():
        program = torch.export.export(
            LastHiddenState(transformer.auto_model.eval()),
            (example["input_ids"], example["attention_mask"]),
            dynamic_shapes={"input_ids": {0: batch, 1: length}, "attention_mask": {0: batch, 1: length}},
        )
        converted = ov.convert_model(program)

    texts: list[str] = []  # the calibration set: int8 only
    quantized = converted
    if precision == "int8":
        passages, questions = calibration_texts(piaf)
        texts = [model.prompts["document"] + p for p in passages] + [model.prompts["query"] + q for q in questions]

        def as_inputs(text: str) -> dict[str, np.ndarray]:
            features = model.tokenize([text])
            return {"input_ids": features["input_ids"].numpy(), "attention_mask": features["attention_mask"].numpy()}

        quantized = nncf.quantize(
            converted, nncf.Dataset(texts, as_inputs), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(texts)
        )

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as work:
        staging = Path(work) / target.name
        staging.mkdir()
        ov.save_model(quantized, staging / "model.xml", compress_to_fp16=precision == "int8")
        np.save(staging / "head.npy", head.astype(np.float32))
        shutil.copy2(source / "tokenizer.json", staging / "tokenizer.json")
        calibration = hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode()).hexdigest()
        manifest = {
            "format": EXPORT_FORMAT,
            "precision": precision,
            "source": str(source),
            "source_sha256": file_sha256(source / "model.safetensors"),
            "prompts": {"query": model.prompts["query"], "document": model.prompts["document"]},
            "max_tokens": MAX_TOKENS,
            "dimension": int(head.shape[1]),
            "calibration": {"data": "PIAF v1.0", "seed": CALIBRATION_SEED, "texts": len(texts), "sha256": calibration},
            "versions": {"openvino": ov.__version__, "nncf": nncf.__version__, "torch": torch.__version__},
            "files": file_entries(staging),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)


def ensure_export(source: Path, cache: Path, precision: str = "int8") -> Path:
    """The int8 (or fp32) export of ``source`` in ``cache/models``, made on first use (about 2 minutes)."""
    target = cache / "models" / EXPORT_DIRS[precision]
    source_sha256 = json.loads((source / "assembly.json").read_text())["files"]["model.safetensors"]
    if _manifest_ok(target, source_sha256):
        return target
    log.warning("EmbeddingGemma : export OpenVINO %s dans %s (première utilisation, 2 minutes)", precision, target)
    run_export("rag.models.embedding_openvino", [str(source), str(target), precision], what="d'EmbeddingGemma")
    if not _manifest_ok(target, source_sha256):
        raise ModelLoadError(f"Export OpenVINO d'EmbeddingGemma impossible : {target} incomplet.")
    return target


class OpenVINOEmbedder:
    """An exported folder (:func:`export_openvino`) run by OpenVINO; same interface as the other embedders."""

    def __init__(
        self, name: str, folder: Path, *, threads: int, batch_size: int = BATCH_SIZE, compiled: Path | None = None
    ) -> None:
        from tokenizers import Tokenizer

        try:
            manifest = json.loads((folder / MANIFEST).read_text())
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self.head = np.load(folder / "head.npy")
            self.compiled = compile_on_cpu(folder / "model.xml", threads=threads, compiled=compiled)
        except (OSError, ValueError, RuntimeError) as error:
            raise ModelLoadError(f"Chargement du modèle d'embedding {name} ({folder}) impossible : {error}") from None
        self.max_tokens = int(manifest["max_tokens"])
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()
        self.prompts = manifest["prompts"]
        self.name = name
        self.dimension = int(self.head.shape[1])
        self.batch_size = batch_size
        self._lock = threading.Lock()  # one inference at a time; OpenVINO spreads it over the threads
        for width in WARM_WIDTHS:
            self.compiled({0: np.ones((1, width), dtype=np.int64), 1: np.ones((1, width), dtype=np.int64)})
        log.info("embedding model %s (%d dimensions, OpenVINO) from %s", name, self.dimension, folder)

    def _embed(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        encodings = self.tokenizer.encode_batch([prompt + text for text in texts])
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))  # little padding per batch
        vectors = np.empty((len(encodings), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            longest = max(len(encodings[i].ids) for i in rows)
            width = min(-(-longest // PAD_MULTIPLE) * PAD_MULTIPLE, self.max_tokens)
            ids = np.zeros((len(rows), width), dtype=np.int64)  # <pad> is 0
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, i in enumerate(rows):
                ids[row, : len(encodings[i].ids)] = encodings[i].ids
                mask[row, : len(encodings[i].ids)] = 1
            with self._lock:
                hidden = self.compiled({0: ids, 1: mask})[0]
            pooled = (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            projected = pooled @ self.head
            vectors[rows] = projected / np.linalg.norm(projected, axis=1, keepdims=True)
        return vectors

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        return self._embed(texts, self.prompts["document"])

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], self.prompts["query"])[0]


def main(argv: list[str]) -> int:
    """``python -m rag.models.embedding_openvino SOURCE TARGET [PRECISION]``: the export, in its own process."""
    source, target, precision = Path(argv[0]), Path(argv[1]), argv[2] if len(argv) > 2 else "int8"
    return child_main(lambda: export_openvino(source, target, precision=precision))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
