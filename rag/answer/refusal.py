"""Whether to answer from the chosen sentence: one probability, fitted on near misses.

A newsroom archive holds, for most questions it cannot answer, a passage on the same people,
place or event: the reader finds a span there with confidence («how many police officers?»
answered with the number of demonstrators). The decision therefore weighs everything known
of the chosen sentence (:class:`rag.answer.choice.Choice`), not the reader's margin alone:

- ``margin``: the best span's score less the passage's no-answer score;
- ``mass``: the sentence's mass (all its spans) less the no-answer score;
- ``sentence_share`` and ``passage_share``: the share of the question's terms in the
  sentence and in its passage, each with its article's title;
- ``coverage``: the share of the question's terms in the evidence shown
  (:meth:`rag.answer.checking.AnswerChecker.coverage`);
- ``missing_name``: the question names something no passage mentions;
- ``explanation``: the question asks a cause, a manner, an event or a definition;
- ``similarity``: the cosine between the question and the sentence, as the search embeds them
  (what a paraphrase keeps when its words change).

P(the sentence holds the answer) = 1 / (1 + exp(-(Σ weight × feature + intercept))), and the
bot refuses below ``threshold``. Weights and threshold come from ``python -m eval refusal``
(:mod:`eval.studies.refusal`), fitted on held-out PIAF and on the first half of the newsroom gold set,
each question asked as is and again with the articles that hold its answer left out of the
index: the near misses of this corpus, as calibration data. The file records its data and
figures (``rag/answer/weights/refusal.json``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rag.answer.choice import Choice
from rag.config import PROJECT_ROOT
from rag.errors import ModelLoadError

REFUSAL_MODEL = PROJECT_ROOT / "rag" / "answer" / "weights" / "refusal.json"
FEATURES = (
    "margin",
    "mass",
    "sentence_share",
    "passage_share",
    "coverage",
    "missing_name",
    "explanation",
    "similarity",
)


def features(
    choice: Choice, coverage: float, missing_name: bool, explanation: bool = False, similarity: float = 0.0
) -> dict[str, float]:
    """What :class:`RefusalModel` weighs, for the chosen sentence (``explanation``: the question
    asks a cause, a manner, an event or a definition, answered with the sentence itself, where
    the reader's spans score low whatever the passage holds)."""
    reading = choice.reading
    return {
        "margin": reading.margin,
        "mass": reading.mass if reading.mass is not None else reading.margin,
        "sentence_share": choice.sentence_share,
        "passage_share": choice.passage_share,
        "coverage": coverage,
        "missing_name": float(missing_name),
        "explanation": float(explanation),
        "similarity": similarity,
    }


@dataclass(frozen=True)
class RefusalModel:
    weights: Mapping[str, float]
    intercept: float
    threshold: float

    def probability(self, values: Mapping[str, float]) -> float:
        """
        >>> model = RefusalModel({"margin": 1.0, "coverage": 2.0}, -3.0, 0.5)
        >>> round(model.probability({"margin": 2.0, "coverage": 0.5, "mass": 9.0}), 3)
        0.5
        """
        z = self.intercept + sum(weight * values.get(name, 0.0) for name, weight in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-700.0, min(700.0, z))))

    @classmethod
    def load(cls, path: Path = REFUSAL_MODEL) -> RefusalModel:
        try:
            data = json.loads(path.read_text())
            weights = {name: float(data["weights"][name]) for name in FEATURES}
            return cls(weights, float(data["intercept"]), float(data["threshold"]))
        except (OSError, ValueError, KeyError, TypeError):
            raise ModelLoadError(
                f"Refus : {path.name} absent ou illisible : relancez `python -m eval refusal`."
            ) from None
