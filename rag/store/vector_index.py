"""A segment's vectors in FAISS: read (mapped or not), listed, and turned into an inverted file.

A segment keeps its vectors in an ``IndexIDMap2`` over a flat inner-product index; from
``APPROXIMATE_FROM`` passages on, in an inverted file (``IndexIVFFlat``, ids and removal built
in) of which a search scans a share of the lists instead of every vector (:func:`approximate`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

# The flat index scans every vector: 258 ms a query at a million 768-d passages
# (docs/scaling.md). Past this size the vectors go into an inverted file of about 2·√n lists, a
# quarter of which a search scans: on real EmbeddingGemma vectors (SPF-QR) recall@10 is 0.992
# at a quarter, 0.978 at an eighth, 0.81 at 1/64 (docs/scaling.md).
APPROXIMATE_FROM = 200_000
PROBE_SHARE = 4  # a search scans 1/PROBE_SHARE of the lists
TRAIN_PER_LIST = 32  # training vectors per list: faiss would like 39, 32 keeps the training short


def read_ahead(path: Path) -> None:
    """Ask the kernel to read ``path`` into its cache in the background (``POSIX_FADV_WILLNEED``):
    a mapped file's first searches then find their pages in memory instead of on disk."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_WILLNEED)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def read(path: Path, *, mapped: bool) -> faiss.Index | None:
    """The FAISS index in ``path`` (``None`` if unreadable), an inverted file set to scan
    ``1/PROBE_SHARE`` of its lists. ``mapped``: its vectors stay in the
    file, mapped into memory, for a segment that is only read (it cannot change: faiss aborts on
    a change to a mapped index). Opening a version is then instant at any size, and versions that
    share a segment by hard link share its pages in memory. A flat index maps through
    ``IO_FLAG_MMAP_IFC``, an inverted file's lists through ``IO_FLAG_MMAP``."""
    attempts = (faiss.IO_FLAG_MMAP_IFC, faiss.IO_FLAG_MMAP) if mapped else (0,)
    for flags in attempts:
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError as error:
            log.debug("faiss.read_index(%s, %d): %s", path, flags, error)
            continue
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = max(1, index.nlist // PROBE_SHARE)
        return index
    return None


def vector_ids(index: faiss.Index) -> np.ndarray:
    """The chunk ids a vector index holds, flat or inverted file."""
    if isinstance(index, faiss.IndexIVF):
        lists = index.invlists
        found = [
            faiss.rev_swig_ptr(lists.get_ids(n), lists.list_size(n)).copy()
            for n in range(index.nlist)
            if lists.list_size(n)
        ]
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    return faiss.vector_to_array(index.id_map)


def approximate(flat: faiss.IndexIDMap2) -> faiss.IndexIVFFlat:
    """The same vectors under the same ids in an inverted file: about 2·√n lists (a power of
    two), centroids trained on a fixed sample, a hash table from id to place so that removal
    and reconstruction by id still work."""
    count, dimension = flat.ntotal, flat.d
    lists = min(1 << round(np.log2(2 * np.sqrt(count))), max(1, count // TRAIN_PER_LIST))
    ids = faiss.vector_to_array(flat.id_map)
    vectors = flat.index.reconstruct_n(0, count)
    sample = np.random.default_rng(0).choice(count, size=min(count, lists * TRAIN_PER_LIST), replace=False)
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFFlat(quantizer, dimension, lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = 10
    index.cp.min_points_per_centroid = 1  # a sample of TRAIN_PER_LIST a list is enough here
    index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.add_with_ids(vectors, ids)
    index.nprobe = max(1, lists // PROBE_SHARE)
    log.info("vectors: %d in an inverted file of %d lists", count, lists)
    return index
