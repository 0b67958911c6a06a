"""The answer types' marks checked against PIAF's gold answers.

``python -m eval answer-types [--show 5] [--json]``

A question asking for a kind of answer («Quel montant…», «Combien…», «Quand…», «À quelle
adresse…», «Comment s'appelle…») is refused
when the reader's span is not of that kind (:mod:`rag.answer.answer_types`). This command
counts, for each kind, the PIAF questions that ask for it and the gold answers its marks would
refuse: an answerable question the type check would turn away. Nothing is fitted here; PIAF
only tells how often the marks miss a real answer.

Sets no constant: it checks the marks of ``rag/answer/answer_types.py`` (which answer types
each interrogative accepts) against PIAF's 3,835 gold answers. Figure: of the questions of
each kind, the gold answers the marks would refuse: person 1 of 334, named 1 of 48, place 2 of
71, share 1 of 20, age 1 of 3, a figure already in the question 1 of 272.
``python -m eval answer-types``, 2026-12-07.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from eval.studies.piaf_examples import Example, answerable_examples, load_piaf


@dataclass(frozen=True)
class TypeFigures:
    kind: str
    asked: int  # PIAF questions asking for this kind
    refused: int  # of those, gold answers the marks do not take
    examples: list[tuple[str, str]] = field(default_factory=list)  # (question, gold answer) refused

    @property
    def refused_share(self) -> float:
        return self.refused / self.asked if self.asked else 0.0


def type_figures(examples: Sequence[Example], show: int = 5) -> list[TypeFigures]:
    """For each answer type, the questions asking for it and the gold answers refused.

    >>> rows = type_figures([Example("Combien de colonies ?", "", "treize", 0, "answerable", 0),
    ...                      Example("Combien de temps ?", "", "la décennie", 0, "answerable", 0)])
    >>> [(r.kind, r.asked, r.refused) for r in rows if r.asked]
    [('nombre', 2, 1)]
    """
    from rag.answer.answer_types import ANSWER_TYPES, asked_type

    kinds = [asked_type(e.question) for e in examples]
    rows = []
    for kind in ANSWER_TYPES:
        asked = [e for e, k in zip(examples, kinds, strict=True) if k is kind]
        refused = [e for e in asked if not kind.in_span(e.answer)]
        rows.append(TypeFigures(kind.name, len(asked), len(refused), [(e.question, e.answer) for e in refused[:show]]))
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval answer-types", description=__doc__.split("\n")[0])
    parser.add_argument("--show", type=int, default=5, help="réponses refusées montrées par type")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data = load_piaf()
    examples = answerable_examples(data, range(len(data)))
    rows = type_figures(examples, args.show)
    if args.json:
        print(json.dumps([asdict(r) | {"refused_share": round(r.refused_share, 4)} for r in rows], ensure_ascii=False))
        return 0
    print(f"{len(examples)} questions PIAF avec réponse")
    print("type      questions  réponses de référence refusées")
    for row in rows:
        print(f"{row.kind:<9} {row.asked:>9}  {row.refused:>4} ({row.refused_share:.1%})")
        for question, answer in row.examples:
            print(f"          {question[:80]} -> «{answer[:60]}»")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
