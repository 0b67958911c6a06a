"""PIAF as the reader's training and calibration data (:mod:`eval.studies.train_reader`).

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

Sets no constant: the data the reader's training (:mod:`eval.studies.train_reader`) and the
PIAF studies share: the split by article (``SEED``) and the unanswerable examples.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.config import PROJECT_ROOT
from rag.models.checksums import file_sha256

PIAF = PROJECT_ROOT / "eval" / "datasets" / "piaf-v1.0.json"
PIAF_SHA256 = "008229ccefa0195d7e809d777d33149cab03433059c9477bdbadb4838a277cd2"
SEED = 2026
HELD_OUT_QUESTIONS = 600  # held-out articles are drawn until they hold this many questions
NEGATIVE_SHARE = 0.35
NEGATIVE_KINDS = {"same_article": 0.45, "swapped": 0.35, "other_article": 0.2}
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


def shown_evidence(question: str, title: str, texts: Sequence[str]) -> list:
    """PIAF paragraphs as the product shows passages to the answer check: each a passage of
    one article titled ``title``, its sentences gathered for ``question``
    (:func:`rag.search.evidence.gather_evidence`)."""
    from rag.search.evidence import gather_evidence
    from rag.store.records import Passage

    passages = [Passage(i, "piaf", title, None, "", 0, len(text), text) for i, text in enumerate(texts)]
    return gather_evidence(question, passages)


def examples_for(data: list[dict], articles: Sequence[int], seed: int) -> list[Example]:
    positives = answerable_examples(data, articles)
    return positives + unanswerable_examples(data, articles, positives, random.Random(seed))
