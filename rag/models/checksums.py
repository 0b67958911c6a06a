"""The sha256 of a file, read in blocks: what every pinned model part, trained weight and
upload is checked against."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1 << 20


def file_sha256(path: Path) -> str:
    """The hex sha256 of the file at ``path``.

    >>> import tempfile; folder = Path(tempfile.mkdtemp()); (folder / "a").write_bytes(b"abc")
    3
    >>> file_sha256(folder / "a")[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
