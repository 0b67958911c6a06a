"""The answer check's similarity floor for an embedding model, calibrated on PIAF.

``python -m eval similarity-floor [--model M] [--pairs 400] [--json]``

The check (:mod:`rag.answer.checking`) keeps a sentence of the model's answer only if its cosine
with a sentence of the passage it cites reaches a floor. That floor was set at 0.8 for
multilingual-e5-small. Cosines do not mean the same thing from one model to another (e5's
are all high), so another model needs its own floor. This command sets it on PIAF, never on
an evaluation set:

- a *supported* pair is a claim, PIAF's question followed by its answer, set against the
  paragraph's sentence that holds the answer and the next one: what the check sees when the
  model restates the evidence;
- an *off-topic* pair is the same claim against two sentences of a paragraph of another
  article.

The new model's floor is the highest that rejects no more supported pairs than the reference
model (e5-small) does at its floor (0.8): good sentences fare as before. The command also
reports the share of off-topic pairs each floor lets through, the lower the better. On PIAF,
e5-small at 0.8 rejects no supported pair but lets three off-topic pairs in four through.

Sets: EmbeddingGemma's floor, ``min_similarity=0.21`` in ``GEMMA_TUNING``
(``rag/models/embedding.py``, read through :func:`rag.models.embedding.tuning_for`): on 800
PIAF pairs it rejects no supported pair and lets 29.7 % of the off-topic pairs through
(e5-small at 0.8: 76.5 %). ``python -m eval similarity-floor``, 2026-12-02.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict, dataclass

import numpy as np

from rag.config import PROJECT_ROOT, Settings
from rag.models.embedding import Embedder
from rag.search.evidence import split_sentences

PIAF = PROJECT_ROOT / "eval" / "datasets" / "piaf-v1.0.json"
REFERENCE_MODEL = "intfloat/multilingual-e5-small"
REFERENCE_FLOOR = 0.8
SEED = 7


@dataclass(frozen=True)
class Pair:
    claim: str
    evidence: tuple[str, ...]
    supported: bool


@dataclass
class Calibration:
    model: str
    floor: float
    supported_rejected: float  # share of supported pairs under the floor
    off_topic_accepted: float  # share of off-topic pairs at or over it
    reference_model: str
    reference_floor: float
    reference_supported_rejected: float
    reference_off_topic_accepted: float
    pairs: int


def piaf_pairs(count: int, *, seed: int = SEED) -> list[Pair]:
    """``count`` supported pairs and as many off-topic ones, drawn from PIAF with ``seed``."""
    data = json.loads(PIAF.read_text(encoding="utf-8"))["data"]
    rng = random.Random(seed)
    candidates = []
    for number, article in enumerate(data):
        for paragraph in article["paragraphs"]:
            sentences = split_sentences(paragraph["context"])
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]["text"]
                holding = next((i for i, s in enumerate(sentences) if answer in s), None)
                if holding is not None:
                    candidates.append((number, qa["question"], answer, sentences[holding : holding + 2]))
    rng.shuffle(candidates)
    pairs = []
    for number, question, answer, evidence in candidates[:count]:
        claim = f"{question.rstrip(' ?')} : {answer}."
        pairs.append(Pair(claim, tuple(evidence), True))
        other = rng.choice([a for i, a in enumerate(data) if i != number])
        sentences = split_sentences(rng.choice(other["paragraphs"])["context"])
        start = rng.randrange(max(1, len(sentences) - 1))
        pairs.append(Pair(claim, tuple(sentences[start : start + 2]), False))
    return pairs


def similarities(embedder: Embedder, pairs: list[Pair]) -> np.ndarray:
    """The check's measure for each pair: the best cosine between the claim and an evidence sentence."""
    texts = list(dict.fromkeys(t for pair in pairs for t in (pair.claim, *pair.evidence)))
    vectors = dict(zip(texts, embedder.embed_passages(texts), strict=True))
    return np.array([max(float(vectors[pair.claim] @ vectors[s]) for s in pair.evidence) for pair in pairs])


def calibrate(model: Embedder, reference: Embedder, pairs: list[Pair], reference_floor: float) -> Calibration:
    supported = np.array([pair.supported for pair in pairs])
    ours, theirs = similarities(model, pairs), similarities(reference, pairs)
    rejected = float(np.mean(theirs[supported] < reference_floor))
    floor = float(np.quantile(ours[supported], rejected))  # the minimum when the reference rejects none
    return Calibration(
        model=model.name,
        floor=round(floor, 3),
        supported_rejected=round(float(np.mean(ours[supported] < floor)), 3),
        off_topic_accepted=round(float(np.mean(ours[~supported] >= floor)), 3),
        reference_model=reference.name,
        reference_floor=reference_floor,
        reference_supported_rejected=round(rejected, 3),
        reference_off_topic_accepted=round(float(np.mean(theirs[~supported] >= reference_floor)), 3),
        pairs=len(pairs),
    )


def main(argv: list[str]) -> int:
    from rag.components import load_embedder

    parser = argparse.ArgumentParser(prog="python -m eval similarity-floor", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="modèle d'embedding (défaut : DEPECHE_EMBED_MODEL)")
    parser.add_argument("--pairs", type=int, default=400, help="paires étayées (autant hors sujet)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    model = load_embedder(settings.with_(embed_model=args.model or settings.embed_model))
    reference = load_embedder(settings.with_(embed_model=REFERENCE_MODEL))
    result = calibrate(model, reference, piaf_pairs(args.pairs), REFERENCE_FLOOR)
    if args.json:
        print(json.dumps(asdict(result)))
        return 0
    print(
        f"{result.model} : plancher {result.floor} (laisse passer {result.off_topic_accepted:.1%} des paires "
        f"hors sujet, rejette {result.supported_rejected:.1%} des étayées) ; {result.reference_model} à "
        f"{result.reference_floor} : {result.reference_off_topic_accepted:.1%} hors sujet acceptées, "
        f"{result.reference_supported_rejected:.1%} étayées rejetées ; {result.pairs} paires de PIAF."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
