"""What a process killed inside Milvus Lite (3.2.2) leaves that Milvus Lite does not recover.

A collection's folder holds data files, a manifest naming them (replaced atomically), a
write-ahead log (``wal/wal_data_<n>.arrow``, ``wal_delta_<n>.arrow``) of what is not flushed
yet, and beside each data file the indexes built on it (``partitions/<p>/indexes/…idx`` for
vectors, ``….sidx`` for scalar fields). Two windows are not crash-safe:

- **A log already flushed.** A flush writes the data files, commits the manifest (which then
  names the next log as the active one), and only then deletes the log. Killed in between,
  the log stays, Milvus Lite replays it at the next opening onto rows the data files already
  hold, with the same sequence numbers, and its reads keep both: each row of that flush is
  seen twice from then on. :func:`remove_flushed_logs` deletes, before Milvus Lite opens the
  folder, the logs numbered below the manifest's active one, as the flush would have.
- **An index file cut short.** The indexes are written in place after the data is committed;
  killed in the middle, one is left short and Milvus Lite refuses to load the collection («Not
  an Arrow file», «read error», «EOF»). They are derived from the data: when a load fails,
  :func:`remove_unreadable_index_files` removes the ones Milvus Lite's own readers cannot read,
  and Milvus Lite builds them again as it loads (:func:`rag.store.milvus_layout.load_collection`).
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

NUMPY_TYPES = ("flat", "brute_force")  # index types Milvus Lite saves as a NumPy array (index/brute_force.py)


def remove_flushed_logs(folder: Path) -> list[Path]:
    """Delete the write-ahead logs that a flush already committed, in every collection of the
    Milvus Lite database ``folder``; call it while holding the database's lock, before opening it."""
    from milvus_lite.constants import SEQ_FORMAT_WIDTH, WAL_DATA_TEMPLATE, WAL_DELTA_TEMPLATE
    from milvus_lite.storage.manifest import Manifest
    from milvus_lite.storage.wal import WAL

    removed = []
    collections = [*folder.glob("collections/*"), *folder.glob("databases/*/collections/*")]
    for collection in sorted(c for c in collections if (c / "wal").is_dir()):
        try:
            active = Manifest.load(str(collection)).active_wal_number
        except Exception:  # an unreadable manifest is Milvus Lite's to report as it opens
            continue
        if active is None:
            continue
        for number in WAL.find_wal_files(str(collection / "wal")):
            if number >= active:
                continue
            for template in (WAL_DATA_TEMPLATE, WAL_DELTA_TEMPLATE):
                path = collection / "wal" / template.format(n=number, w=SEQ_FORMAT_WIDTH)
                if path.exists():
                    path.unlink()
                    removed.append(path)
                    log.warning(
                        "Milvus Lite write-ahead log already flushed (a kill before its deletion), removed: %s", path
                    )
    return removed


def unreadable_index_files(collection: Path) -> list[Path]:
    """The index files of a Milvus Lite collection's folder that its own readers cannot read."""
    from milvus_lite.index.files import SCALAR_INDEX_FILE_EXT, parse_index_sidecar_name

    found = []
    for path in sorted(collection.glob("partitions/*/indexes/*")):
        sidecar = parse_index_sidecar_name(path.name)
        if sidecar is None or not path.is_file():
            continue
        if sidecar.extension == SCALAR_INDEX_FILE_EXT:
            readable = _reads(_load_scalar, path)
        elif sidecar.index_type in NUMPY_TYPES:
            readable = _reads(_load_numpy, path)
        else:  # HNSW, IVF…; AUTOINDEX is FAISS's when FAISS is there, else NumPy's
            readable = _reads(_load_faiss, path) or (sidecar.index_type == "autoindex" and _reads(_load_numpy, path))
        if not readable:
            found.append(path)
    return found


def remove_unreadable_index_files(collection: Path) -> list[Path]:
    """Remove what :func:`unreadable_index_files` finds; Milvus Lite rebuilds them at the next load."""
    removed = unreadable_index_files(collection)
    for path in removed:
        path.unlink()
        log.warning("Milvus Lite index file unreadable (a write cut short), removed to be rebuilt: %s", path)
    return removed


def _reads(load, path: Path) -> bool:
    """Whether ``load(path)`` reads the file whole. Each reader raises its own errors on a cut
    file (pyarrow's ArrowInvalid, faiss's RuntimeError, numpy's ValueError or EOFError, OSError):
    any of them means it does not."""
    try:
        load(path)
    except Exception:
        return False
    return True


def _load_scalar(path: Path) -> None:
    from milvus_lite.index.scalar.inverted import ScalarInvertedIndex

    ScalarInvertedIndex.load(str(path))


def _load_faiss(path: Path) -> None:
    import faiss

    faiss.read_index(str(path))


def _load_numpy(path: Path) -> None:
    import numpy as np

    with open(path, "rb") as handle:
        np.load(handle, allow_pickle=False)
