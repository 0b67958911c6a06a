"""The RSS/Atom feeds the index follows: ``feeds.sqlite`` in the data folder (:attr:`Settings.feeds_db`).

One row per feed: its location (the address, or the file's absolute path), its title (the
outlet), when it was added, when it was last read whole, how many entries it had then and how
many of them were added, and the error of the last attempt when it failed; and the links of
the entries already dealt with (indexed, or left out as a duplicate), so that a refresh does not
fetch them again, nor bring back a document the user removed from the index.

Why a database beside the index rather than in it: index versions are replaced on every
update and thrown away by ``build`` and ``rebuild`` (:mod:`rag.store.versions`), and a Milvus store
holds only documents and passages; the list of feeds must outlive all of them, and be written
after an index update without writing a new version. Like ``feedback.sqlite``
(:mod:`rag.store.feedback`) it is written in place, one short transaction per change. Reading it
never creates it: the Corpus tab of a fresh install lists no feed and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DepecheError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    location TEXT PRIMARY KEY,  -- http(s) address, or absolute path of a file
    title TEXT NOT NULL,
    added_at TEXT NOT NULL,  -- ISO 8601, UTC
    refreshed_at TEXT,  -- the last read that succeeded
    entries INTEGER NOT NULL DEFAULT 0,  -- entries in the feed at that read
    added INTEGER NOT NULL DEFAULT 0,  -- documents it added to the index
    error TEXT,  -- the last attempt's error, NULL when it succeeded
    failed_at TEXT
);
CREATE TABLE IF NOT EXISTS seen (  -- the entries of each feed already dealt with, by link
    feed TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (feed, source)
);
"""


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def local_time(stamp: str | None) -> str:
    """An ISO 8601 stamp as this machine's local time, to the minute; ``"—"`` for none."""
    if not stamp:
        return "—"
    return dt.datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class RegisteredFeed:
    location: str
    title: str
    added_at: str
    refreshed_at: str | None
    entries: int
    added: int
    error: str | None
    failed_at: str | None


class FeedRegistry:
    """The feeds database at ``path``; each call opens it for one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self, *, write: bool) -> Iterator[sqlite3.Connection | None]:
        if not write and not self.path.exists():
            yield None
            return
        try:
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=30)) as db:
                db.executescript(_SCHEMA)
                with db:  # one transaction, committed on success
                    yield db
        except sqlite3.Error as error:
            raise DepecheError(f"Liste des flux illisible ({self.path} : {error}).") from None

    def feeds(self) -> list[RegisteredFeed]:
        """Every feed, in the order they were added."""
        with self._db(write=False) as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT location, title, added_at, refreshed_at, entries, added, error, failed_at"
                " FROM feeds ORDER BY added_at, location"
            ).fetchall()
        return [RegisteredFeed(*row) for row in rows]

    def get(self, location: str) -> RegisteredFeed | None:
        return next((feed for feed in self.feeds() if feed.location == location), None)

    def seen(self, location: str) -> set[str]:
        """The links of the feed's entries already dealt with."""
        with self._db(write=False) as db:
            if db is None:
                return set()
            return {row[0] for row in db.execute("SELECT source FROM seen WHERE feed = ?", (location,))}

    def succeeded(self, location: str, title: str, *, entries: int, added: int, seen: Iterable[str] = ()) -> None:
        """Record a read of the feed that worked (and register it, the first time), with the
        links of the entries it dealt with."""
        stamp = now()
        with self._db(write=True) as db:
            db.executemany(
                "INSERT OR IGNORE INTO seen (feed, source) VALUES (?, ?)", [(location, source) for source in seen]
            )
            db.execute(
                "INSERT INTO feeds (location, title, added_at, refreshed_at, entries, added) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (location) DO UPDATE SET title = excluded.title, refreshed_at = excluded.refreshed_at,"
                " entries = excluded.entries, added = excluded.added, error = NULL, failed_at = NULL",
                (location, title, stamp, stamp, entries, added),
            )

    def failed(self, location: str, error: str) -> None:
        """Record that a registered feed could not be read; a feed not registered stays so."""
        with self._db(write=True) as db:
            db.execute("UPDATE feeds SET error = ?, failed_at = ? WHERE location = ?", (error, now(), location))

    def forget(self, location: str) -> bool:
        """Unregister a feed (its documents stay in the index); whether it was registered."""
        with self._db(write=True) as db:
            db.execute("DELETE FROM seen WHERE feed = ?", (location,))
            return db.execute("DELETE FROM feeds WHERE location = ?", (location,)).rowcount > 0
