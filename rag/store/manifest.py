"""A version folder's layout, read without opening the store: which segments it holds
(``segments.json``: the delta segments, oldest first, and the documents each one hides), where
each segment's files are, and what an index holds when it cannot be opened whole (an older
format, damaged vectors): its documents and their sources.

The embedded store (:mod:`rag.store.embedded`) writes and reads versions through these.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from rag.errors import IndexCorruptedError
from rag.sources.documents import Document
from rag.store.segment_files import DB_NAME, document_from_row
from rag.store.versions import current_version

MANIFEST = "segments.json"
DELTAS = "segments"


def stored_documents(directory: Path) -> list[Document]:
    """The documents of the index in ``directory`` (its folder or one version), read without
    opening it fully: it may be of an older format, or its vectors damaged. An unreadable
    database gives an empty list."""
    version = current_version(directory) or directory
    base = "doc_id, title, date, source, body, sha256, rubric"
    manifest = read_manifest(version, strict=False)
    found: dict[str, Document] = {}
    for name in ["", *manifest["deltas"]]:
        hidden = set(manifest["hidden"].get(name, ()))
        try:
            db = sqlite3.connect(f"file:{quote(str(segment_dir(version, name) / DB_NAME))}?mode=ro", uri=True)
            try:
                try:
                    rows = db.execute(f"SELECT {base}, author, site, pages, kind FROM documents").fetchall()
                except sqlite3.OperationalError:  # an index of format 2: no formats or pages yet
                    rows = [(*row, None, None, None, "text") for row in db.execute(f"SELECT {base} FROM documents")]
            finally:
                db.close()
        except sqlite3.Error:
            if not name:
                return []
            continue
        found.update((row[0], document_from_row(row)) for row in rows if row[0] not in hidden)
    return [found[doc_id] for doc_id in sorted(found)]


def recorded_sources(directory: Path) -> list[Path]:
    """The source files of the documents in an index (see :func:`stored_documents`)."""
    return sorted({Path(document.source) for document in stored_documents(directory)})


def index_exists(directory: Path) -> bool:
    version = current_version(directory)
    return version is not None and (version / DB_NAME).is_file()


def segment_dir(version: Path, name: str) -> Path:
    return version / DELTAS / name if name else version


def passage_count(version: Path) -> int:
    db = sqlite3.connect(f"file:{quote(str(version / DB_NAME))}?mode=ro&immutable=1", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise IndexCorruptedError(version, f"base SQLite illisible : {error}") from None
    finally:
        db.close()


def read_manifest(version: Path, *, strict: bool = True) -> dict:
    """The deltas and hidden documents of a version; none for a version that has no manifest."""
    path = version / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        deltas, hidden = manifest["deltas"], manifest["hidden"]
        if not all(isinstance(name, str) and name.startswith("d-") for name in deltas):
            raise ValueError("delta names")
        if not all(isinstance(ids, list) for ids in hidden.values()):
            raise ValueError("hidden documents")
    except FileNotFoundError:
        return {"deltas": [], "hidden": {}}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        if not strict:
            return {"deltas": [], "hidden": {}}
        raise IndexCorruptedError(version, f"{MANIFEST} illisible : {error}") from None
    return {"deltas": list(deltas), "hidden": dict(hidden)}


def write_manifest(version: Path, manifest: dict) -> None:
    path = version / MANIFEST
    if not manifest["deltas"] and not manifest["hidden"]:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)
