"""A segment's files (:mod:`rag.store.segment`): their names, the SQLite schema and
connection, how a segment is copied or linked into another folder, and its rows read back as
records.

``<dir>/store.sqlite`` holds documents (metadata, body, duplicate fingerprints), chunks
(text and character offsets in the body) and the settings that built the index;
``<dir>/vectors.faiss`` holds one normalized vector per chunk under the chunk's SQLite id, in
an ``IndexIDMap2`` over a flat inner-product index, so chunks can be removed by id, or past a
size an inverted file (:mod:`rag.store.vector_index`);
``<dir>/bm25/`` holds the French keyword index over the same chunks (:mod:`rag.search.keyword`),
rebuilt from the database whenever the segment's chunks change.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import quote

from rag.sources.documents import Document, page_at
from rag.store.records import Passage

DB_NAME = "store.sqlite"
VECTORS_NAME = "vectors.faiss"
KEYWORDS_NAME = "bm25"
# Every document's MinHash signature as one matrix, and their ids: what the near-duplicate
# check of an ``add`` compares with, read in one go (rows of the database: 1 s at 166,000).
FINGERPRINTS_NAME = "fingerprints.npy"
FINGERPRINT_IDS_NAME = "fingerprints.json"
SEGMENT_FILES = (DB_NAME, VECTORS_NAME, FINGERPRINTS_NAME, FINGERPRINT_IDS_NAME)  # beside KEYWORDS_NAME/

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    source TEXT NOT NULL,
    rubric TEXT,
    sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    added_at TEXT NOT NULL,
    author TEXT,
    site TEXT,
    kind TEXT NOT NULL,
    pages TEXT,  -- JSON list of the body offsets where pages start (PDF)
    text_hash TEXT NOT NULL,  -- of the normalized text: exact duplicates share it
    minhash BLOB  -- MinHash signature: near duplicates have close ones
);
CREATE INDEX documents_by_text_hash ON documents(text_hash);
CREATE INDEX documents_by_source ON documents(source, doc_id, sha256);  -- sources() reads it alone
CREATE TABLE chunks (
    chunk_id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    terms TEXT NOT NULL  -- the BM25 terms of title and text, space-separated (rag.search.keyword)
);
CREATE INDEX chunks_by_doc ON chunks(doc_id);
"""


def copy_segment(source: Path, target: Path) -> None:
    """Copy the segment in ``source`` into the folder ``target`` (its files only, not its deltas)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in SEGMENT_FILES:
        if (source / name).exists() or name in (DB_NAME, VECTORS_NAME):
            shutil.copyfile(source / name, target / name)
    shutil.copytree(source / KEYWORDS_NAME, target / KEYWORDS_NAME, dirs_exist_ok=True)


def link_segment(source: Path, target: Path) -> None:
    """Make ``target`` hold the segment in ``source`` by hard links: no byte is copied, and the
    segment stays as it is for as long as one version names it. Copies where links fail."""
    target.mkdir(parents=True, exist_ok=True)
    for name in (*SEGMENT_FILES, KEYWORDS_NAME):
        if not (source / name).exists() and name not in (DB_NAME, VECTORS_NAME, KEYWORDS_NAME):
            continue  # a segment from before fingerprint files
        for path in [source / name] if name != KEYWORDS_NAME else sorted((source / name).rglob("*")):
            destination = target / path.relative_to(source)
            if path.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, destination)
            except OSError:  # a file system without hard links
                shutil.copyfile(path, destination)


def document_from_row(row: tuple) -> Document:
    """A Document from ``doc_id, title, date, source, body, sha256, rubric, author, site, pages, kind``."""
    *head, pages, kind = row
    return Document(*head, pages=tuple(json.loads(pages)) if pages else (), kind=kind)


def passage_from_row(row: tuple, score: float) -> Passage:
    *fields, pages = row
    start = fields[5]
    return Passage(*fields, score=score, page=page_at(json.loads(pages), start) if pages else None)


def connect(path: Path, *, writable: bool = False, immutable: bool = False) -> sqlite3.Connection:
    """A connection for the chat's threads. A published version is read ``immutable``: SQLite
    then takes no lock and writes nothing. A writer's private copy needs no crash journal
    (an interrupted copy is thrown away): its journal stays in memory."""
    if immutable:
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    else:  # a URI too, so that a merge can attach another segment read-only
        db = sqlite3.connect(f"file:{quote(str(path))}", uri=True, check_same_thread=False)
    db.execute("PRAGMA foreign_keys = ON")
    if writable:
        db.execute("PRAGMA journal_mode = MEMORY")
        db.execute("PRAGMA synchronous = OFF")
    return db


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
