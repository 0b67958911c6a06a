"""The newsroom gold set (``eval/gold/presse.jsonl``): questions written by reading the press
archive, each checked against its evidence and its articles before anything is asked.

One JSON object per line:

- ``id``, ``question``, ``kind`` (:data:`KINDS`), ``answerable``, ``half`` (1 or 2, fixed once:
  :func:`assign_halves`);
- answerable: ``answer``, short and quoted from the article (a list's items, or the figures of
  outlets that disagree, joined by «; »; «Oui» or «Non» for a yes/no question); ``evidence``, the
  sentences that hold it, word for word; ``doc_ids``, every article that holds the same fact
  (agency wires repeat), the article of the first evidence first;
- unanswerable: ``about``, the articles whose people, places or events it asks about, and
  ``trap``, why no article answers it (a detail none gives, another date, another place…);
- a follow-up (kind ``suivi``): ``history``, the user's earlier questions, oldest first.

:func:`check` returns every fault as one line naming the question; :func:`load_presse_gold`
stops at the first. Every article that holds an evidence sentence must be listed: a wire
repeated word for word in another outlet is the same fact.

    python -m eval.presse.gold FILE.jsonl [--archive PATH]   # prints the faults, exit 1 if any
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError

KINDS = {
    "qui": "qui : une personne ou une organisation",
    "quoi": "quoi / quel : une chose, un fait court",
    "ou": "où : un lieu",
    "quand": "quand : une date, un moment",
    "combien": "combien : un nombre, une somme, une part",
    "pourquoi": "pourquoi : une cause",
    "comment": "comment : une manière, un moyen",
    "evenement": "que s'est-il passé",
    "liste": "une liste (quels sont les…)",
    "oui_non": "oui ou non",
    "definition": "qu'est-ce que…",
    "date": "une question bornée par ses dates («en décembre 2018»)",
    "chiffres": "des chiffres sur lesquels les sources divergent",
    "suivi": "une question de suite («Et à Bordeaux ?»)",
}
PARTS = re.compile(r"\s*;\s*")
COMPLETE_MIN_CHARS = 50  # an evidence sentence this long, found in an unlisted article, is the same fact
MAX_ANSWER_WORDS = 40


@dataclass(frozen=True)
class PresseItem:
    id: str
    question: str
    kind: str
    answerable: bool
    answer: str
    evidence: tuple[str, ...]
    doc_ids: tuple[str, ...]
    about: tuple[str, ...]
    history: tuple[str, ...]
    half: int | None
    trap: str = ""

    @property
    def parts(self) -> list[str]:
        """The answer's items: a list's names, each figure of a disagreement; one for the rest."""
        return [p for p in PARTS.split(self.answer) if p]

    @property
    def articles(self) -> tuple[str, ...]:
        """Every article the question needs in an index: its own, or those it is about."""
        return self.doc_ids + self.about


def normalized(text: str) -> str:
    """What «quoted word for word» compares: case, apostrophes, quotes and spaces aside.

    >>> normalized("L’acte  IV\u00a0: «Gilets jaunes»") == normalized("l'acte IV : «gilets jaunes»")
    True
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'").replace("´", "'")
    text = text.replace("“", '"').replace("”", '"')
    return " ".join(text.lower().split())


def parse(row: dict) -> PresseItem:
    def strings(name: str) -> tuple[str, ...]:
        value = row.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError(f"{name} doit être une liste de textes")
        return tuple(value)

    if not isinstance(row.get("answerable"), bool):
        raise TypeError("answerable doit valoir true ou false")
    half = row.get("half")
    return PresseItem(
        id=str(row["id"]),
        question=str(row["question"]).strip(),
        kind=str(row["kind"]),
        answerable=row["answerable"],
        answer=str(row.get("answer") or "").strip(),
        evidence=strings("evidence"),
        doc_ids=strings("doc_ids"),
        about=strings("about"),
        history=strings("history"),
        half=int(half) if half is not None else None,
        trap=str(row.get("trap") or ""),
    )


def read_lines(path: Path) -> list[tuple[int, dict]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DocumentError(f"{path} : jeu de questions illisible ({error}).") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except ValueError as error:
            raise DocumentError(f"{path.name}, ligne {number} : JSON invalide ({error}).") from None
    return rows


def check(
    rows: Sequence[tuple[int, dict]], texts: dict[str, str], *, name: str = "presse.jsonl", halves: bool = True
) -> tuple[list[PresseItem], list[str]]:
    """The items and every fault found, one line each. ``texts``: each article's title and body,
    by id. ``halves``: whether every item must already carry its half."""
    items, faults = [], []
    seen_ids: set[str] = set()
    seen_questions: dict[str, str] = {}
    folded = {doc_id: normalized(text) for doc_id, text in texts.items()}
    for number, row in rows:
        where = f"{name}, ligne {number}"
        try:
            item = parse(row)
        except (KeyError, TypeError, ValueError) as error:
            faults.append(f"{where} : question mal formée ({error}).")
            continue
        where = f"{where} ({item.id})"
        faults += [f"{where} : {fault}" for fault in _faults(item, folded, halves)]
        if item.id in seen_ids:
            faults.append(f"{where} : identifiant en double.")
        key = normalized(" ".join([*item.history, item.question]))
        if key in seen_questions:
            faults.append(f"{where} : même question que {seen_questions[key]}.")
        seen_ids.add(item.id)
        seen_questions.setdefault(key, item.id)
        items.append(item)
    return items, faults


def _faults(item: PresseItem, texts: dict[str, str], halves: bool) -> Iterable[str]:
    if not item.question:
        yield "question vide."
    if item.kind not in KINDS:
        yield f"type «{item.kind}» inconnu ({', '.join(KINDS)})."
    if halves and item.half not in (1, 2):
        yield "moitié (half) absente : 1 ou 2."
    if item.kind == "suivi" and not item.history:
        yield "une question de suite doit avoir son historique (history)."
    for doc_id in item.articles:
        if doc_id not in texts:
            yield f"article inconnu de l'archive : {doc_id}."
    if any(doc_id not in texts for doc_id in item.articles):
        return
    if not item.answerable:
        if item.answer or item.evidence or item.doc_ids:
            yield "une question sans réponse n'a ni answer, ni evidence, ni doc_ids (about la situe)."
        if not item.about:
            yield "une question sans réponse dit de quels articles elle parle (about)."
        if not item.trap:
            yield "une question sans réponse dit pourquoi aucun article n'y répond (trap)."
        return
    if not item.answer or not item.evidence or not item.doc_ids:
        yield "une question avec réponse a answer, evidence et doc_ids."
        return
    evidence = [normalized(e) for e in item.evidence]
    if len(item.answer.split()) > MAX_ANSWER_WORDS:
        yield f"réponse de plus de {MAX_ANSWER_WORDS} mots : citez l'essentiel."
    if item.kind == "oui_non":
        if item.answer not in ("Oui", "Non"):
            yield "une question oui/non a pour réponse «Oui» ou «Non»."
    else:
        for part in item.parts:
            if not any(normalized(part) in e for e in evidence):
                yield f"réponse absente de ses preuves : «{part}»."
    first = texts[item.doc_ids[0]]
    if evidence[0] not in first:
        yield f"la première preuve n'est pas dans {item.doc_ids[0]} : «{item.evidence[0][:60]}…»."
    for sentence, original in zip(evidence, item.evidence, strict=True):
        holders = [doc_id for doc_id in item.doc_ids if sentence in texts[doc_id]]
        if not holders:
            yield f"preuve absente de ses articles : «{original[:60]}…»."
    for doc_id in item.doc_ids:
        text = texts[doc_id]
        if not any(e in text for e in evidence) and not all(normalized(p) in text for p in item.parts):
            yield f"{doc_id} ne tient ni une preuve ni la réponse."
    missing = sorted(
        doc_id
        for doc_id, text in texts.items()
        if doc_id not in item.doc_ids and any(len(e) >= COMPLETE_MIN_CHARS and e in text for e in evidence)
    )
    if missing:
        yield f"la même preuve est aussi dans {', '.join(missing)} : ajoutez-les à doc_ids."


def archive_texts(archive: Path | None = None) -> dict[str, str]:
    from eval.presse.archive import ARCHIVE, load_archive

    return {a.id: f"{a.title}\n{a.text}" for a in load_archive(archive or ARCHIVE).values()}


def load_presse_gold(path: Path, texts: dict[str, str]) -> list[PresseItem]:
    """The gold set, checked: the first fault stops with one line naming its question."""
    items, faults = check(read_lines(path), texts, name=path.name)
    if faults:
        more = f" (et {len(faults) - 1} autre(s) : python -m eval.presse.gold {path})" if len(faults) > 1 else ""
        raise DocumentError(faults[0] + more)
    return items


def assign_halves(items: Sequence[PresseItem]) -> dict[str, int]:
    """Each question's half, by article: questions that share an article (directly or through
    a wire repeated in several) fall in the same half. Groups are ordered by their smallest
    article id and dealt alternately, so the halves are balanced and the split depends on the
    articles only. Run once, when the set was written; the halves are stored, never redrawn."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for item in items:
        ids = item.articles or (item.id,)
        for other in ids[1:]:
            parent[root(other)] = root(ids[0])
    groups: dict[str, list[PresseItem]] = {}
    for item in items:
        groups.setdefault(root((item.articles or (item.id,))[0]), []).append(item)
    halves, sizes = {}, {1: 0, 2: 0}
    for _, members in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
        half = 1 if sizes[1] <= sizes[2] else 2
        sizes[half] += len(members)
        for item in members:
            halves[item.id] = half
    return halves


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m eval.presse.gold", description="Vérifier un jeu de questions.")
    parser.add_argument("file", type=Path)
    parser.add_argument("--archive", type=Path, default=None)
    parser.add_argument("--sans-moitie", action="store_true", help="ne pas exiger le champ half (brouillon)")
    args = parser.parse_args(argv)
    items, faults = check(read_lines(args.file), archive_texts(args.archive), name=args.file.name,
                          halves=not args.sans_moitie)  # fmt: skip
    for fault in faults:
        print(fault)
    answerable = sum(i.answerable for i in items)
    print(f"{len(items)} questions ({answerable} avec réponse, {len(items) - answerable} sans) ; "
          f"{len(faults)} défaut(s).", file=sys.stderr)  # fmt: skip
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
