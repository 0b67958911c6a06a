"""The open questions' gold set (``eval/gold/open.jsonl``): questions a newsroom asks that no
span answers (summaries, why, how, what happened, what the articles say, definitions, lists),
each with the key points a good answer states, written by reading the articles.

One JSON object per line:

- ``id``, ``question``, ``kind`` (:data:`KINDS`), ``corpus`` (``presse``: the press archive,
  ``seeds``: the two seed articles), ``half`` (1 or 2, fixed once by article, as the newsroom
  set's: :func:`eval.presse.gold.assign_halves`);
- ``doc_ids``: every article that holds one of its key points;
- ``points``: 2 to 6 key points, each ``{"point": a short statement, "keys": the words a
  statement of it cannot do without (1 to 3, alternatives joined by «|»: the matching rule is
  :func:`eval.open.points.states`), "evidence": the sentence that holds it, word for word,
  "doc_id": its article}``. Each key must be in the point's evidence (the rule can be met).

    python -m eval.open.gold FILE.jsonl   # prints the faults, exit 1 if any
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from eval.open.points import fold, key_in
from eval.presse.gold import normalized, read_lines
from rag.config import PROJECT_ROOT
from rag.errors import DocumentError

KINDS = {
    "resume": "résume l'article / les articles sur…",
    "pourquoi": "pourquoi : des causes",
    "comment": "comment : une manière, une suite d'actes",
    "evenement": "que s'est-il passé…",
    "que_disent": "que disent les articles sur…",
    "definition": "qu'est-ce que…",
    "liste": "une liste dont les éléments sont dans plusieurs phrases ou articles",
    "principaux": "quels sont les principaux…",
}
GOLD = PROJECT_ROOT / "eval" / "gold" / "open.jsonl"
SEEDS = PROJECT_ROOT / "seeds"


@dataclass(frozen=True)
class Point:
    point: str
    keys: tuple[str, ...]
    evidence: str
    doc_id: str


@dataclass(frozen=True)
class OpenItem:
    id: str
    question: str
    kind: str
    corpus: str
    doc_ids: tuple[str, ...]
    points: tuple[Point, ...]
    half: int | None

    @property
    def articles(self) -> tuple[str, ...]:
        """The articles it needs (what :func:`eval.presse.gold.assign_halves` splits by)."""
        return self.doc_ids


def parse(row: dict) -> OpenItem:
    points = tuple(
        Point(str(p["point"]), tuple(p["keys"]), str(p["evidence"]), str(p["doc_id"])) for p in row["points"]
    )
    return OpenItem(
        str(row["id"]), str(row["question"]), str(row["kind"]), str(row.get("corpus", "presse")),
        tuple(row["doc_ids"]), points, row.get("half"),
    )  # fmt: skip


def read(path: Path) -> list[OpenItem]:
    """The items of a gold file; an unreadable file, or a line that is no item, stops with one
    line naming it (the lines are read as the newsroom set's: :func:`eval.presse.gold.read_lines`)."""
    items = []
    for number, row in read_lines(path):
        try:
            items.append(parse(row))
        except (ValueError, KeyError, TypeError) as error:
            raise DocumentError(f"{path.name}, ligne {number} : entrée illisible ({error}).") from error
    return items


def texts_for(items: Iterable[OpenItem]) -> dict[str, str]:
    """The text of every article the items name: the archive's, and the seed files'."""
    from eval.presse.archive import load_archive

    texts = {p.stem: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    if any(item.corpus == "presse" for item in items):
        texts.update({i: a.title + "\n" + a.text for i, a in load_archive().items()})
    return texts


def faults(items: list[OpenItem], texts: dict[str, str], halves: bool = True) -> Iterable[str]:
    """One line per fault: unknown kind or article, a point's evidence not word for word in its
    article, a key its evidence does not hold, too few or too many points, a repeated id."""
    folded = {doc_id: normalized(text) for doc_id, text in texts.items()}
    seen: set[str] = set()
    for item in items:
        where = f"{item.id} («{item.question[:50]}»)"
        if item.id in seen:
            yield f"{where} : identifiant répété"
        seen.add(item.id)
        if item.kind not in KINDS:
            yield f"{where} : type inconnu {item.kind!r}"
        if item.corpus not in ("presse", "seeds"):
            yield f"{where} : corpus inconnu {item.corpus!r}"
        if halves and item.half not in (1, 2):
            yield f"{where} : moitié absente"
        if not 2 <= len(item.points) <= 6:
            yield f"{where} : {len(item.points)} points (de 2 à 6)"
        for doc_id in item.doc_ids:
            if doc_id not in folded:
                yield f"{where} : article inconnu {doc_id}"
        for point in item.points:
            if point.doc_id not in item.doc_ids:
                yield f"{where} : l'article {point.doc_id} du point «{point.point[:40]}» manque à doc_ids"
            if normalized(point.evidence) not in folded.get(point.doc_id, ""):
                yield f"{where} : preuve absente de {point.doc_id} : «{point.evidence[:60]}»"
            if not 1 <= len(point.keys) <= 3:
                yield f"{where} : point «{point.point[:40]}» : de 1 à 3 clés"
            for key in point.keys:
                if not key_in(key, fold(point.evidence)):
                    yield f"{where} : la clé «{key}» n'est pas dans la preuve du point «{point.point[:40]}»"


def load_open_gold(path: Path = GOLD) -> list[OpenItem]:
    """The checked gold set; the first fault stops with its line."""
    items = read(path)
    for fault in faults(items, texts_for(items)):
        raise DocumentError(f"{path.name} : {fault}")
    return items


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else GOLD
    items = read(path)
    found = list(faults(items, texts_for(items), halves="--no-halves" not in argv))
    for fault in found:
        print(fault)
    kinds = {k: sum(i.kind == k for i in items) for k in KINDS}
    print(f"{len(items)} questions, {sum(len(i.points) for i in items)} points ; {kinds} ; {len(found)} fautes")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
