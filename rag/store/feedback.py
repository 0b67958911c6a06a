"""Readers' 👍/👎 on the chat's answers, kept to grow the gold set.

Each rating is stored with what was asked and answered: the question (and the earlier
questions of the conversation, for a follow-up), the answer as shown, the passages it cites
and whether the bot refused. The database, ``feedback.sqlite`` in the data folder
(:attr:`rag.config.Settings.feedback_db`), lives beside the index and not in it: index
versions are replaced on every update (:mod:`rag.store.versions`), this file is written in place.

Usage (the chat)::

    store = FeedbackStore.open(settings.feedback_db)
    row = store.record(FeedbackEntry.from_answer(answer, +1, history=asked, model=generator.name))
    store.update_rating(row, -1)  # the reader changed their mind
    store.retract(row)  # or took the rating back

One store may be shared by the chat's threads (one connection behind a lock).

Export (``python -m eval feedback --export FILE.jsonl``, :meth:`FeedbackStore.export`):
JSON Lines, one object per rating, oldest first, shaped like the gold sets
(:mod:`eval.gold`, ``eval/gold/seeds.jsonl``) so that reviewed lines can be copied into one:

- ``id``: ``"feedback-<n>"``, ``n`` the rating's row id;
- ``question``, ``history`` (earlier questions, oldest first; ``[]`` if none);
- ``kind``: ``"followup"`` with a history, ``"unanswerable"`` for a 👍 on a refusal, else
  ``"feedback"``;
- for a 👍, candidates to confirm: ``answerable`` (``false`` when the bot refused: the reader
  agreed the corpus does not say), ``answer`` (the answer without its ``[n]`` markers),
  ``doc_ids`` and ``support`` (the cited passages' documents and texts, in citation order);
- for a 👎: ``answerable: null``, ``answer: ""``, ``doc_ids: []``, ``support: []``: a
  wrong answer says nothing about the right one, which a person must write;
- ``needs_review``: ``true`` for a 👎 (``eval.gold.load_gold_jsonl`` refuses such a line
  until ``answerable`` is filled in), ``false`` for a 👍;
- ``feedback``: the rating as recorded: ``rating`` (1 or -1), ``answer`` (as shown, with its
  markers), ``citations`` (``number``, ``doc_id``, ``title``, ``date``, ``source``,
  ``location``, ``text``), ``search_question``, ``refused``, ``model``, ``created_at`` (ISO 8601,
  UTC), ``comment``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import DepecheError

RATINGS = (1, -1)  # 👍, 👎
SCHEMA_VERSION = 1
_MARKERS = re.compile(r"\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (1, -1)),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,  -- JSON list of objects, see FeedbackEntry
    history TEXT NOT NULL,  -- JSON list of the earlier questions, oldest first
    search_question TEXT,
    refused INTEGER NOT NULL,
    model TEXT,
    comment TEXT
);
"""
_COLUMNS = "id, created_at, rating, question, answer, citations, history, search_question, refused, model, comment"


def check_rating(rating: object) -> int:
    """``rating`` if it is 1 (👍) or -1 (👎); otherwise ValueError (``True`` included)."""
    if isinstance(rating, bool) or rating not in RATINGS:
        raise ValueError(f"rating must be 1 or -1, not {rating!r}")
    return int(rating)  # type: ignore[call-overload]


def without_markers(text: str) -> str:
    """The answer without its citation markers: «Munich [1]. » -> «Munich.»"""
    return " ".join(_MARKERS.sub("", text).split())


@dataclass(frozen=True)
class FeedbackEntry:
    question: str
    answer: str
    rating: int  # 1 (👍) or -1 (👎)
    citations: list[dict[str, Any]] = field(default_factory=list)  # number, doc_id, title, date, source, location, text
    history: list[str] = field(default_factory=list)  # the user's earlier questions, oldest first
    search_question: str | None = None  # the question as searched (standalone, for a follow-up)
    refused: bool = False
    model: str | None = None
    created_at: str = ""  # ISO 8601, UTC; filled by FeedbackStore.record when empty
    comment: str | None = None
    id: int | None = None  # the row id, once recorded

    def __post_init__(self) -> None:
        check_rating(self.rating)

    @classmethod
    def from_answer(
        cls,
        answer,
        rating: int,
        *,
        history: Sequence[str] = (),
        model: str | None = None,
        comment: str | None = None,
    ) -> FeedbackEntry:
        """The entry for a :class:`rag.pipeline.Answer`, with the passages its markers cite."""
        passages = list(getattr(answer, "passages", None) or [])
        citations = []
        for number in getattr(answer, "citations", None) or []:
            if not 1 <= number <= len(passages):
                continue
            passage = passages[number - 1]
            citations.append(
                {
                    "number": number,
                    "doc_id": passage.doc_id,
                    "title": passage.title,
                    "date": passage.date,
                    "source": passage.source,
                    "location": passage.location,
                    "text": passage.text,
                }
            )
        return cls(
            question=answer.question,
            answer=answer.text,
            rating=rating,
            citations=citations,
            history=list(history),
            search_question=getattr(answer, "search_question", None) or None,
            refused=bool(answer.refused),
            model=model,
            comment=comment or None,
        )

    def gold_candidate(self) -> dict[str, Any]:
        """This rating as a line of the export (see the module's docstring)."""
        liked = self.rating == 1
        answerable = (not self.refused) if liked else None
        if self.history:
            kind = "followup"
        elif liked and self.refused:
            kind = "unanswerable"
        else:
            kind = "feedback"
        cited = self.citations if liked and answerable else []
        feedback = {
            "rating": self.rating,
            "answer": self.answer,
            "citations": self.citations,
            "search_question": self.search_question,
            "refused": self.refused,
            "model": self.model,
            "created_at": self.created_at,
            "comment": self.comment,
        }
        return {
            "id": f"feedback-{self.id}",
            "question": self.question,
            "history": list(self.history),
            "kind": kind,
            "answerable": answerable,
            "answer": without_markers(self.answer) if liked and answerable else "",
            "doc_ids": list(dict.fromkeys(c["doc_id"] for c in cited)),
            "support": list(dict.fromkeys(c["text"] for c in cited)),
            "needs_review": not liked,
            "feedback": feedback,
        }


class FeedbackStore:
    """The ratings database; safe to share between threads."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path) -> FeedbackStore:
        """Open the database at ``path``, creating it (and its folder) if need be."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Autocommit; each write is one statement. WAL: the export can read while the chat writes.
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(_SCHEMA)
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                db.close()
                raise DepecheError(f"{path} : base d'avis au format {version}, attendu {SCHEMA_VERSION}.")
        except sqlite3.DatabaseError as error:
            raise DepecheError(f"{path} n'est pas une base d'avis lisible ({error}).") from None
        return cls(path, db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------

    def record(self, entry: FeedbackEntry) -> int:
        """Store a rating; return its row id (for :meth:`update_rating` or :meth:`retract`)."""
        created_at = entry.created_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        row = (
            created_at,
            check_rating(entry.rating),
            entry.question,
            entry.answer,
            json.dumps(list(entry.citations), ensure_ascii=False),
            json.dumps(list(entry.history), ensure_ascii=False),
            entry.search_question,
            int(bool(entry.refused)),
            entry.model,
            entry.comment,
        )
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO feedback (created_at, rating, question, answer, citations, history, "
                "search_question, refused, model, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cursor.lastrowid)

    def update_rating(self, row_id: int, rating: int) -> bool:
        """Change a recorded rating (👍 then 👎); False if there is no such row."""
        rating = check_rating(rating)
        with self._lock:
            return self._db.execute("UPDATE feedback SET rating = ? WHERE id = ?", (rating, row_id)).rowcount > 0

    def retract(self, row_id: int) -> bool:
        """Delete a rating the reader took back; False if there is no such row."""
        with self._lock:
            return self._db.execute("DELETE FROM feedback WHERE id = ?", (row_id,)).rowcount > 0

    # -- reading ---------------------------------------------------------------------

    def entries(self) -> list[FeedbackEntry]:
        """Every rating, oldest first, with its row id."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM feedback ORDER BY id").fetchall()
        return [_entry(row) for row in rows]

    def count(self) -> tuple[int, int]:
        """(👍, 👎)."""
        with self._lock:
            up, down = self._db.execute(
                "SELECT COALESCE(SUM(rating = 1), 0), COALESCE(SUM(rating = -1), 0) FROM feedback"
            ).fetchone()
        return int(up), int(down)

    def export(self, path: Path) -> int:
        """Write every rating to ``path`` as JSON Lines (see the module's docstring); return how many."""
        entries = self.entries()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            for entry in entries:
                out.write(json.dumps(entry.gold_candidate(), ensure_ascii=False) + "\n")
        temporary.replace(path)
        return len(entries)


def _entry(row: tuple) -> FeedbackEntry:
    row_id, created_at, rating, question, answer, citations, history, search, refused, model, comment = row
    return FeedbackEntry(
        question=question,
        answer=answer,
        rating=rating,
        citations=json.loads(citations),
        history=json.loads(history),
        search_question=search,
        refused=bool(refused),
        model=model,
        created_at=created_at,
        comment=comment,
        id=row_id,
    )
