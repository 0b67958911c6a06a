"""The index folder holds immutable versions of the index; a pointer file names the current one.

::

    data/index/
        CURRENT         "v-…-b\\nv-…-a": the current version, then the one before it
        v-…-a/          a complete index (store.sqlite, vectors.faiss, bm25/, and past
        v-…-b/          a size delta segments: rag.store.embedded), never changed once published
        .lock           held by the one process that writes

A writer (``python -m index add``, ``remove``, ``build``, ``rebuild``, ``optimize``) takes the
lock, writes a new version beside the current one (a copy it changes, the current segments by
hard link plus a new one, or a fresh build), makes it durable
(fsync), then replaces ``CURRENT`` by ``os.replace`` — the one atomic step. A crash (kill -9)
before that step leaves ``CURRENT`` naming the old version, untouched; after it, the new one.
Either way the next writer deletes the half-written leftovers.

Readers (the chat, ``python -m rag ask``) open the version ``CURRENT`` names and keep it while
they answer; they see a new version by reopening (:class:`rag.store.live.LiveIndex`). The previous
version is kept until the next publication, so a reader that has just read ``CURRENT`` can
still open it.

An index folder from before versions (``store.sqlite`` directly in it) is read as it is and
moved into a version by the first writer.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import IndexBusyError

log = logging.getLogger(__name__)

POINTER = "CURRENT"
LOCK = ".lock"
PREFIX = "v-"
DB_NAME = "store.sqlite"  # the file that makes a folder an index (see rag.store)
LEGACY_ENTRIES = ("store.sqlite", "store.sqlite-wal", "store.sqlite-shm", "vectors.faiss", "bm25")


def current_version(root: Path) -> Path | None:
    """The folder of the current index under ``root``; ``None`` when there is none.

    ``root`` itself is returned for an index folder from before versions.
    """
    try:
        name = (root / POINTER).read_text(encoding="utf-8").split("\n", 1)[0].strip()
    except FileNotFoundError:
        return root if (root / DB_NAME).is_file() else None
    except NotADirectoryError:
        return None
    return root / name if name else None


def previous_version(root: Path) -> Path | None:
    """The version published before the current one, if it is still there."""
    names = _versions_named(root)
    return root / names[1] if len(names) > 1 and (root / names[1] / DB_NAME).is_file() else None


def _versions_named(root: Path) -> list[str]:
    try:
        return (root / POINTER).read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return []


def new_version_dir(root: Path) -> Path:
    """An empty folder for the next version; it counts only once :func:`publish` names it."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{PREFIX}{time.time_ns():x}-{os.getpid()}"
    path.mkdir()
    return path


def publish(root: Path, version: Path) -> None:
    """Make ``version`` (a complete index under ``root``) the current one, atomically and durably."""
    _fsync_tree(version)
    previous = current_version(root)
    names = [version.name] + ([previous.name] if previous is not None and previous != root else [])
    temporary = root / f"{POINTER}.tmp"
    with open(temporary, "w", encoding="utf-8") as pointer:
        pointer.write("\n".join(names) + "\n")
        pointer.flush()
        os.fsync(pointer.fileno())
    os.replace(temporary, root / POINTER)
    _fsync_dir(root)
    if previous == root:  # the pre-version layout has been copied into ``version``: tidy it
        for entry in LEGACY_ENTRIES:
            _remove(root / entry)


def collect_garbage(root: Path) -> list[str]:
    """Delete what no reader can need: versions that are neither current nor previous,
    and what an interrupted writer left. Call with the write lock held."""
    keep = set(_versions_named(root)) | {POINTER, LOCK}
    removed = []
    if not root.is_dir():
        return removed
    for entry in root.iterdir():
        if entry.name in keep or not (entry.name.startswith(PREFIX) or entry.name == f"{POINTER}.tmp"):
            continue
        _remove(entry)
        removed.append(entry.name)
    if removed:
        log.info("removed old or unfinished index versions: %s", ", ".join(sorted(removed)))
    return removed


@contextmanager
def write_lock(root: Path, *, timeout: float = 0.0, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the index's write lock; wait up to ``timeout`` seconds for another writer to finish,
    then raise :class:`IndexBusyError`. The lock dies with its process (``flock``), so a crashed
    writer never leaves the index locked."""
    root.mkdir(parents=True, exist_ok=True)
    handle = open(root / LOCK, "a+", encoding="utf-8")  # noqa: SIM115 - held for the block
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            holder = _holder(handle)
            if time.monotonic() >= deadline:
                raise IndexBusyError(root, holder)
            if not waited and on_wait is not None:
                on_wait(f"Une autre mise à jour de l'index est en cours ({holder}) : attente…")
            waited = True
            time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


def _holder(handle) -> str:
    handle.seek(0)
    return handle.read().strip() or "un autre processus"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        else:
            _fsync_dir(path)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
