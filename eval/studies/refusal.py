"""The refusal model (:mod:`rag.answer.refusal`) fitted on near misses: ``python -m eval refusal``.

    python -m eval refusal [--save READINGS.json | --load READINGS.json] [--write]

Every question is read as the chat reads it (:meth:`rag.answer.reading.ReadingAnswerer.weigh`:
the sentence chosen among the top passages, and what the refusal weighs), twice:

- as asked, over the index that holds its answer: the chosen sentence holds a gold answer
  (positive) or not (negative: the reader looked in the wrong place);
- with the articles that hold its answer left out of the search: every passage left is a near
  miss, on the same subject (negative). A newsroom archive asks this of most questions it
  cannot answer.

The data: held-out PIAF (the reader's calibration articles to fit, its test articles to
measure; never its training ones), searched as the product searches, and the first half of the
newsroom gold set (``eval/gold/presse.jsonl``) over the press archive's subset, its unanswerable
questions included. The second half, SPF-QR and the seeds gold set are never read here.

A logistic regression over :data:`rag.answer.refusal.FEATURES` gives the weights. The threshold
is the highest that refuses at most 8 % of the answerable fitting readings (:func:`capped_threshold`,
the ceiling set for the newsroom on answerable questions refused): within it, every near miss it
can. Two other rules were measured and left: maximising right answers plus right refusals
(threshold 0.52) refused 0.92 of the newsroom's answerable questions, near misses outnumbering
answers in the data; weighing both refusal rates alike (Youden's J, 0.29) refused 0.31 of them,
and a fifth of the seeds set's. ``--write`` saves the weights and the threshold, with the data
and the figures, in ``rag/answer/weights/refusal.json``.

Sets: the weights, intercept and threshold (0.112) in ``rag/answer/weights/refusal.json``,
read by :mod:`rag.answer.refusal`. Figures (the file keeps them all): on held-out PIAF's test
articles AUC 0.840, 10.5 % of answerable and 64.2 % of unanswerable readings refused; on the
newsroom's first half AUC 0.745, 6.8 % and 31.2 %. ``python -m eval refusal --write``, 2026-12-07.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.answer.refusal import FEATURES, REFUSAL_MODEL
from rag.config import Settings

SEARCHED_PAST = 20  # passages searched past top_k, to find top_k outside the left-out articles


@dataclass(frozen=True)
class Weighed:
    source: str  # "piaf-calibration", "piaf-test" or "presse-1"
    question: str
    variant: str  # "asked" or "left-out"
    answerable: bool  # the index searched holds the answer
    holds: bool  # the chosen sentence holds a gold answer
    values: dict[str, float]


def holds_answer(text: str, golds: Sequence[str]) -> bool:
    from eval.metrics import normalize_text

    folded = normalize_text(text)
    return any(normalize_text(g) in folded for g in golds if g.strip())


def weigh_all(parts, settings: Settings, questions, source: str) -> list[Weighed]:
    """``questions``: (question, history, gold answers, gold articles); no gold articles for an
    unanswerable one. Only questions the reader answers (not yes/no, lists, metadata) count."""
    from rag.answer.compose import quoted_range
    from rag.answer.routing import route
    from rag.search.evidence import gather_evidence
    from rag.search.followup import own_question
    from rag.search.repeats import SEARCHED_PAST as REPEATS_PAST
    from rag.search.repeats import distinct

    pipeline, reading = parts.pipeline(settings), parts.reading
    found = []
    for question, history, golds, articles in tqdm(questions, desc=source, unit="question"):
        _, search = pipeline.search(question, history)
        if route(own_question(search)) != "reader":
            continue
        variants = [("asked", ())] + ([("left-out", set(articles))] if articles else [])
        for variant, left_out in variants:
            depth = settings.top_k + REPEATS_PAST + (SEARCHED_PAST if left_out else 0)
            searched = [p for p in pipeline.retrieve(question, history, depth) if p.doc_id not in left_out]
            passages, _ = distinct(searched, settings.top_k)  # the passages the chat reads: repeated wires set aside
            evidence = gather_evidence(search, passages)
            if not passages or reading.checker.missing_name(search, evidence):
                continue  # refused before anything is read
            weighed = reading.weigh(search, passages, evidence)
            if weighed is None:
                continue
            choice, values = weighed.choice, weighed.values
            text = passages[choice.reading.passage].text
            start, end = quoted_range(text, choice.reading.start, choice.reading.end)
            answerable = bool(articles) and not left_out
            holds = answerable and holds_answer(text[start:end], golds)
            found.append(Weighed(source, question, variant, answerable, holds, values))
    return found


def piaf_questions(settings: Settings):
    from eval.run import EvalParts
    from eval.squad import squad_articles
    from eval.studies.piaf_examples import SEED, load_piaf, split_articles

    data = load_piaf()
    _, calibration, test = split_articles(data, SEED)
    documents, golds = squad_articles(data, "piaf-v1.0.json")
    split = (("calibration", calibration), ("test", test))
    halves = {documents[i].doc_id: half for half, indices in split for i in indices}
    parts = EvalParts.load(settings, documents, vector_cache=True, refusal=False)
    weighed = []
    for half in ("calibration", "test"):
        asked = [(g.question, (), list(g.answers), [g.doc_id]) for g in golds if halves.get(g.doc_id) == half]
        weighed += weigh_all(parts, settings, asked, f"piaf-{half}")
    return weighed


def presse_questions(settings: Settings):
    from eval.presse.archive import documents, load_archive, subset
    from eval.presse.command import DEFAULT_ARTICLES, GOLD
    from eval.presse.gold import load_presse_gold
    from eval.run import EvalParts

    archive = load_archive()
    items = load_presse_gold(GOLD, {a.id: f"{a.title}\n{a.text}" for a in archive.values()})
    ids = subset(archive, [doc for item in items for doc in item.articles], DEFAULT_ARTICLES)
    parts = EvalParts.load(settings, documents(archive, ids), vector_cache=True, refusal=False)
    first = [(i.question, i.history, i.parts, list(i.doc_ids)) for i in items if i.half == 1 and i.kind != "oui_non"]
    return weigh_all(parts, settings, first, "presse-1")


def matrix(rows: Sequence[Weighed]) -> tuple[np.ndarray, np.ndarray]:
    from rag.answer.routing import asks_explanation
    from rag.search.followup import own_question

    def value(row: Weighed, name: str) -> float:
        if name == "explanation" and name not in row.values:  # readings saved before the feature
            return float(asks_explanation(own_question(row.question)))
        return row.values[name]

    return np.array([[value(r, f) for f in FEATURES] for r in rows]), np.array([r.holds for r in rows])


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    positives, negatives = scores[labels], scores[~labels]
    if not len(positives) or not len(negatives):
        return float("nan")
    return float(np.mean([(p > negatives).mean() + 0.5 * (p == negatives).mean() for p in positives]))


def operating(probabilities: np.ndarray, rows: Sequence[Weighed], threshold: float) -> dict[str, float]:
    """At ``threshold``: answerable questions answered from a sentence that holds the answer,
    answerable ones refused, and unanswerable ones (or left out) refused."""
    kept = probabilities >= threshold
    answerable = np.array([r.answerable for r in rows])
    holds = np.array([r.holds for r in rows])
    return {
        "answerable.right": float((kept & holds)[answerable].mean()) if answerable.any() else float("nan"),
        "answerable.refused": float((~kept)[answerable].mean()) if answerable.any() else float("nan"),
        "unanswerable.refused": float((~kept)[~answerable].mean()) if (~answerable).any() else float("nan"),
    }


ANSWERABLE_REFUSED = 0.08  # the newsroom's ceiling on answerable questions refused


def capped_threshold(probabilities: np.ndarray, answerable: np.ndarray, refused: float = ANSWERABLE_REFUSED) -> float:
    """The highest threshold that refuses at most ``refused`` of the answerable fitting readings:
    every unanswerable question it can, within the ceiling the issue sets on answerable ones.

    >>> capped_threshold(np.array([0.9, 0.8, 0.3, 0.2, 0.1]), np.array([True, True, True, False, False]), 0.34)
    0.8
    """
    scores = np.sort(probabilities[answerable])
    if not len(scores):
        return 0.5
    allowed = int(np.floor(refused * len(scores) + 1e-9))  # answerable readings that may fall under it
    return float(scores[allowed])


def main(argv: list[str]) -> int:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    parser = argparse.ArgumentParser(prog="python -m eval refusal", description=__doc__.split("\n")[0])
    parser.add_argument("--save", type=Path, default=None, help="écrire les lectures pesées (JSON)")
    parser.add_argument("--load", type=Path, default=None, help="relire les lectures écrites par --save")
    parser.add_argument("--write", action="store_true", help=f"écrire le modèle dans {REFUSAL_MODEL.name}")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.load:
        rows = [Weighed(**row) for row in json.loads(args.load.read_text())]
    else:
        rows = piaf_questions(settings) + presse_questions(settings)
    if args.save:
        args.save.write_text(json.dumps([asdict(r) for r in rows], ensure_ascii=False))
    fitting = [r for r in rows if r.source in ("piaf-calibration", "presse-1")]
    x, y = matrix(fitting)
    model = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    probabilities = model.predict_proba(x)[:, 1]
    threshold = capped_threshold(probabilities, np.array([r.answerable for r in fitting]))
    figures = {}
    for source in ("piaf-calibration", "piaf-test", "presse-1"):
        group = [r for r in rows if r.source == source]
        gx, gy = matrix(group)
        if source == "presse-1":  # in the fit: measured by 5-fold cross-validation instead
            p = cross_val_predict(LogisticRegression(C=1.0, max_iter=5000), gx, gy, cv=5, method="predict_proba")[:, 1]
        else:
            p = model.predict_proba(gx)[:, 1]
        asked = [r for r in group if r.answerable]  # the sentence choice, before any refusal
        figures[source] = {
            "readings": len(group),
            "sentence_holds_answer": round(sum(r.holds for r in asked) / max(len(asked), 1), 3),
            "auc": round(auc(p, gy), 3),
        } | {k: round(v, 3) for k, v in operating(p, group, threshold).items()}
    weights = {name: round(float(w), 4) for name, w in zip(FEATURES, model.coef_[0], strict=True)}
    print(f"{len(fitting)} lectures pour l'ajustement ; seuil {threshold:.3f}")
    print("poids : " + ", ".join(f"{k} {v:+.3f}" for k, v in weights.items()), f"constante {model.intercept_[0]:+.3f}")
    for source, row in figures.items():
        print(f"{source:<17} " + ", ".join(f"{k} {v}" for k, v in row.items()))
    if args.write:
        REFUSAL_MODEL.write_text(
            json.dumps(
                {
                    "weights": weights,
                    "intercept": round(float(model.intercept_[0]), 4),
                    "threshold": round(threshold, 3),
                    "command": "python -m eval refusal --write",
                    "date": time.strftime("%Y-%m-%d"),
                    "data": "held-out PIAF (calibration articles) and the newsroom gold set's first half, each "
                    "question asked and asked again with its answer's articles left out of the search",
                    "figures": figures,
                },
                indent=1,
                ensure_ascii=False,
            )
            + "\n"
        )
        print(f"Écrit : {REFUSAL_MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
