"""Gold questions, from the hand-written JSONL sets or from a SQuAD-format file.

A :class:`GoldItem` says what a right answer is (``answer``), where it comes from
(``doc_ids``, and ``support``: exact passages of those documents), and whether the corpus
holds it at all (``answerable``). For SQuAD files, the support is the answer span and the
document is the one that holds it. A follow-up (kind ``followup``) also has ``history``: the
user's earlier questions in the conversation, oldest first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from eval.squad import GoldQuestion
from rag.config import PROJECT_ROOT
from rag.errors import DocumentError

EVAL_DIR = PROJECT_ROOT / "eval"
DEFAULT_DATASET = EVAL_DIR / "datasets" / "spf_qr_test.json"  # SPF-QR
SEEDS_GOLD = EVAL_DIR / "gold" / "seeds.jsonl"
FLOORS = EVAL_DIR / "floors.json"  # the gate's floors (python -m eval --gate)
RUNS = EVAL_DIR / "runs"  # each run's report (ignored by git)


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    answer: str
    answerable: bool
    doc_ids: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    kind: str = ""
    answers: tuple[str, ...] = field(default=())  # every accepted answer; defaults to (answer,)
    history: tuple[str, ...] = ()  # a follow-up's earlier questions in the conversation, oldest first

    @property
    def accepted_answers(self) -> tuple[str, ...]:
        return self.answers or ((self.answer,) if self.answer else ())


def load_gold_jsonl(path: Path) -> list[GoldItem]:
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DocumentError(f"{path.name} : jeu de questions illisible ({error}).") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if row.get("answerable", False) is None:  # exported feedback (rag.store.feedback) not yet reviewed
                raise DocumentError(f"{path.name}, ligne {number} : question à relire (answerable vide).")
            items.append(
                GoldItem(
                    id=row["id"],
                    question=row["question"],
                    answer=row.get("answer", ""),
                    answerable=bool(row["answerable"]),
                    doc_ids=tuple(row.get("doc_ids", ())),
                    support=tuple(row.get("support", ())),
                    kind=row.get("kind", ""),
                    history=tuple(row.get("history", ())),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise DocumentError(f"{path.name}, ligne {number} : question mal formée ({error}).") from None
    return items


def from_squad(questions: list[GoldQuestion]) -> list[GoldItem]:
    return [
        GoldItem(
            id=q.qid,
            question=q.question,
            answer=q.answers[0],
            answerable=True,
            doc_ids=(q.doc_id,),
            support=tuple(dict.fromkeys(q.answers)),
            kind="squad",
            answers=q.answers,
        )
        for q in questions
        if q.answers
    ]
