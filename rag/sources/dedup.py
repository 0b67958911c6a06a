"""Duplicate detection for documents added to the index: exact and near duplicates.

Two levels, both computed from :func:`normalized_text`, which erases what a re-encoding,
re-wrapping or re-punctuation changes (Unicode form, case, accents, quotes, dashes,
punctuation, whitespace):

- **Exact duplicates** share :func:`text_hash`, the sha256 of the normalized text. The same
  article saved twice, from a PDF and from a web page, or with other line breaks and quotes,
  is indexed once.
- **Near duplicates** (the same dispatch run by two outlets: a new headline, a byline, a
  sentence reworded, the last paragraph cut) share most of their word shingles. A MinHash
  :func:`signature` estimates the Jaccard similarity of two shingle sets in O(NUM_PERM);
  :func:`similarities` compares one signature to every stored one in a single numpy
  operation, and :func:`find_near_duplicate` keeps the best match at or above
  :data:`NEAR_DUPLICATE_THRESHOLD`.

The parameters were chosen on the dedup test set ``eval/gold/dedup.jsonl`` (built by
``eval/studies/dedup_set.py``, measured by ``python -m eval.dedup --sweep``; figures in
``eval/datasets/README.md``):

- :data:`SHINGLE_SIZE` = 3 words: every size from 1 to 7 separates copies from distinct
  texts about as well (ROC AUC 0.94-0.96), but with 3 words different articles on the same
  story share almost nothing (exact Jaccard at most 0.02, against 0.07 for 2 words and 0.21
  for single words) while copies keep their similarity (medium edits at least 0.67, against
  0.58 for 5 words).
- :data:`NUM_PERM` = 128: mean absolute error of the estimate 0.019 (64: 0.030; 256: 0.015
  for twice the storage and comparison time); 1 KiB per document, and one signature against
  5,000 stored ones takes well under a millisecond.
- :data:`NEAR_DUPLICATE_THRESHOLD` = 0.5: on the plateau of best F1 (0.905; 0.917 at 0.43),
  at its high end because a false positive costs more than a miss when the user chooses to
  skip near duplicates. Every light and medium copy is found (their exact Jaccard is at
  least 0.67, the estimate's 95th-percentile error 0.06), 82 % of the heavy ones; the
  distinct texts above it are templated service-public.fr pages (or copies of them) that
  share most of their text with another page (22 of the 532 pages have such a twin).

Signatures use datasketch's ``affine64`` permutation scheme (64-bit hash values, a
collision-free permutation step) and a fixed seed, so they are stable across processes and
can be stored as bytes (:func:`signature_to_bytes`, :func:`signature_from_bytes`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.text import fold_accents

SHINGLE_SIZE = 3
"""Words per shingle (a shingle is a run of consecutive words of the normalized text)."""

NUM_PERM = 128
"""Hash functions per signature: the estimate's standard error is about sqrt(J(1-J)/NUM_PERM)."""

NEAR_DUPLICATE_THRESHOLD = 0.5
"""Estimated Jaccard similarity from which two documents are reported as near duplicates."""

SEED = 20_240
"""MinHash permutation seed. Changing it (or NUM_PERM, SHINGLE_SIZE, SCHEME) invalidates stored signatures."""

SCHEME = "affine64"
"""datasketch's permutation scheme: 64-bit hash values, stored as uint64."""

_BYTE_ORDER = np.dtype("<u8")  # signatures are stored little-endian, whatever the machine
_EMPTY = np.uint64(2**64 - 1)  # datasketch's initial value: a signature of no shingle at all

# Invisible characters that break a word in two without being whitespace.
_FORMAT_CHARS = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
# Everything that is neither a letter nor a digit separates words: punctuation, quotes of any
# kind (« » “ ” ' ’), dashes (- – —), symbols and whitespace, so typographic variants vanish.
_SEPARATORS = re.compile(r"[\W_]+")


def normalized_text(text: str) -> str:
    """The text reduced to lowercase, unaccented words separated by single spaces.

    NFKC (ligatures, non-breaking and narrow spaces, full-width forms), casefold, accents
    folded, invisible format characters (soft hyphens, zero-width spaces) removed, then every
    run of non-alphanumeric characters (punctuation, quotes, apostrophes, dashes, whitespace)
    becomes one space.

    >>> normalized_text("« L’État », dit-il : c'est   l'ÉTÉ…")
    'l etat dit il c est l ete'
    >>> normalized_text('"L’Etat", dit-il: c’est l’été.')
    'l etat dit il c est l ete'
    >>> normalized_text("10\u202f000 € — soit 1,5 %")
    '10 000 soit 1 5'
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _FORMAT_CHARS.sub("", fold_accents(text))
    return _SEPARATORS.sub(" ", text).strip()


def text_hash(text: str) -> str:
    """The exact-duplicate key: sha256 (hex) of :func:`normalized_text`.

    >>> text_hash("Bonjour,  le MONDE !") == text_hash("bonjour le monde")
    True
    """
    return hashlib.sha256(normalized_text(text).encode("utf-8")).hexdigest()


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[str]:
    """The set of runs of ``size`` consecutive words of the normalized text.

    A text shorter than ``size`` words gives one shingle, the whole text, so that it matches
    only the same short text; a text without any word gives the empty set.

    >>> sorted(shingles("Le chat dort sur le tapis", size=4))
    ['chat dort sur le', 'dort sur le tapis', 'le chat dort sur']
    >>> shingles("Le chat", size=4), shingles(" !? ", size=4)
    ({'le chat'}, set())
    """
    if size < 1:
        raise ValueError(f"shingle size must be positive, got {size}")
    words = normalized_text(text).split()
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """The exact Jaccard similarity of two sets (0.0 when both are empty).

    >>> jaccard({"a", "b", "c"}, {"b", "c", "d"})
    0.5
    """
    union = len(a | b)
    return len(a & b) / union if union else 0.0


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> np.ndarray:
    """The permutation parameters for ``num_perm``, drawn once per process (from :data:`SEED`)."""
    from datasketch import MinHash  # imported when first needed: it pulls in scipy (0.6 s)

    return MinHash(num_perm=num_perm, seed=SEED, scheme=SCHEME).permutations


def signature(text: str, *, shingle_size: int = SHINGLE_SIZE, num_perm: int = NUM_PERM) -> np.ndarray:
    """The MinHash signature of the text's shingles: uint64 values, shape ``(num_perm,)``.

    The same text gives the same signature in every process (fixed seed and hash function).
    A text without any word gives the *empty* signature (see :func:`is_empty`), which
    matches nothing.
    """
    from datasketch import MinHash

    minhash = MinHash(num_perm=num_perm, seed=SEED, scheme=SCHEME, permutations=_permutations(num_perm))
    minhash.update_batch([shingle.encode("utf-8") for shingle in shingles(text, shingle_size)])
    return minhash.hashvalues.astype(np.uint64, copy=False)


def is_empty(sig: np.ndarray) -> bool:
    """Whether the signature is that of a text without any word."""
    return bool(np.all(sig == _EMPTY))


def signature_to_bytes(sig: np.ndarray) -> bytes:
    """The signature as bytes (8 per value, little-endian), e.g. for a database BLOB."""
    return np.asarray(sig, dtype=np.uint64).astype(_BYTE_ORDER, copy=False).tobytes()


def signatures_from_bytes(blobs: Sequence[bytes]) -> np.ndarray:
    """Stored signatures (:func:`signature_to_bytes`) as the rows of one uint64 matrix."""
    if not blobs:
        return np.zeros((0, NUM_PERM), dtype=np.uint64)
    width = len(blobs[0])
    if not width or width % _BYTE_ORDER.itemsize or any(len(blob) != width for blob in blobs):
        raise ValueError("stored signatures are non-empty multiples of 8 bytes, all of one length")
    return np.frombuffer(b"".join(blobs), dtype=_BYTE_ORDER).astype(np.uint64).reshape(len(blobs), -1)


def signature_from_bytes(data: bytes) -> np.ndarray:
    """The signature stored by :func:`signature_to_bytes` (a new, writable uint64 array)."""
    if not data or len(data) % _BYTE_ORDER.itemsize:
        raise ValueError(f"a signature is a non-empty multiple of 8 bytes, got {len(data)} bytes")
    return np.frombuffer(data, dtype=_BYTE_ORDER).astype(np.uint64)


def similarities(sig: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The estimated Jaccard similarity of ``sig`` to each row of ``matrix`` (shape ``(N, P)``).

    The estimate is the fraction of the P hash values two signatures share. Returns a float64
    array of shape ``(N,)``; all zeros when ``sig`` is empty (a text without words is nobody's
    duplicate).
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[1] != sig.shape[0]:
        raise ValueError(f"expected a matrix of shape (N, {sig.shape[0]}), got {matrix.shape}")
    if is_empty(sig):
        return np.zeros(matrix.shape[0])
    return np.count_nonzero(matrix == sig, axis=1) / sig.shape[0]


@dataclass(frozen=True)
class Match:
    """An indexed document that a new one nearly duplicates, with their estimated Jaccard similarity."""

    doc_id: str
    similarity: float


def find_near_duplicate(
    sig: np.ndarray,
    doc_ids: list[str],
    matrix: np.ndarray,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> Match | None:
    """The document of ``doc_ids`` (row i of ``matrix`` is its signature) most similar to ``sig``,
    if its similarity is at least ``threshold``; None otherwise, when there is no document, or
    when ``sig`` is empty (a text without words).
    """
    if len(doc_ids) != len(matrix):
        raise ValueError(f"{len(doc_ids)} document ids for {len(matrix)} signatures")
    if not doc_ids or is_empty(sig):
        return None
    scores = similarities(sig, matrix)
    best = int(np.argmax(scores))
    if scores[best] < threshold:
        return None
    return Match(doc_ids[best], float(scores[best]))
