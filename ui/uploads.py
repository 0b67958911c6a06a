"""Files uploaded in the Corpus tab, copied into ``<home>/uploads`` under a safe name.

Gradio hands over temporary files whose basename is the name the browser sent, which
anyone can choose: ``../../etc/passwd.txt``, ``..\\..\\x.txt``, a NUL, a newline, a name
of 10,000 characters. :func:`safe_name` keeps only the basename, slugifies its stem
(:func:`rag.sources.documents.slugify`: ASCII letters, digits and ``-``, so no separator, no dot,
no control character is left) and keeps a known suffix, lower-cased; every file is written
by :func:`save_uploads` straight into the upload folder, and nowhere else.

The copies stay there: the index records their path, and ``python -m index rebuild``
re-reads them. A file already there under the same name with the same content is reused
(re-uploading an unchanged article leaves the index unchanged); with other content the
new one gets ``-2``, ``-3``…

Limits, each with one French line per refusal: at most :data:`MAX_FILES` files per upload,
:data:`MAX_FILE_MB` Mo per file, and only the formats the indexer reads.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

from rag.models.checksums import file_sha256
from rag.sources.documents import slugify
from rag.sources.files import CONVERT_HINT, CONVERTIBLE_SUFFIXES, SUPPORTED_SUFFIXES

UPLOADS = "uploads"  # the folder under the data folder (Settings.home)
MAX_FILES = 20  # files per upload
MAX_FILE_MB = 20
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024  # per file; Gradio's own cap (launch max_file_size) is higher
MAX_STEM_CHARS = 80  # a slug longer than this is cut (file systems allow 255 bytes a name)
MAX_SHOWN_CHARS = 60  # an uploaded name quoted in a message is cut to this
MAX_VARIANTS = 1000  # name-2 … name-999: past that, refuse rather than loop
_CHUNK = 1024 * 1024
STALE_PART_S = 3600  # a partial copy older than this was left by an upload that died
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def upload_folder(home: Path) -> Path:
    return home / UPLOADS


def original_name(path: Path | str) -> str:
    """The name the browser sent: the basename of Gradio's temporary file, whatever its separators."""
    return re.split(r"[/\\]", str(path))[-1]


def shown_name(name: str) -> str:
    """An uploaded name fit to quote in a one-line message: no control characters, not too long."""
    name = _CONTROL.sub(" ", original_name(name)).strip() or "(sans nom)"
    return name if len(name) <= MAX_SHOWN_CHARS else name[: MAX_SHOWN_CHARS - 1] + "…"


def safe_name(name: str) -> str | None:
    """``"../../Été 2025: OpenAI.PDF"`` -> ``"ete-2025-openai.pdf"``; ``None`` for a format the indexer does not read.

    The result is a bare file name: ASCII letters, digits and ``-``, then one known suffix.
    """
    base = _CONTROL.sub("", original_name(name)).strip().rstrip(". ")
    stem, dot, suffix = base.rpartition(".")
    suffix = f".{suffix.lower()}"
    if not dot or not stem.strip(".") or suffix not in SUPPORTED_SUFFIXES:
        return None
    slug = slugify(stem)[:MAX_STEM_CHARS].strip("-") or "document"
    return slug + suffix


def megabytes(size: int) -> str:
    """``35 * 2**20`` -> ``"35 Mo"``; ``int(20.3 * 2**20)`` -> ``"20,3 Mo"`` (French decimal comma)."""
    value = f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0")
    return f"{value} Mo"


def _unsupported(shown: str) -> str:
    suffix = os.path.splitext(shown)[1].lower()
    formats = ", ".join(sorted({s for s in SUPPORTED_SUFFIXES if s != ".markdown"}))
    hint = f" ({CONVERT_HINT})" if suffix in CONVERTIBLE_SUFFIXES else ""
    return f"{shown} : format non pris en charge{hint} ; formats lus : {formats}."


def _place(temporary: Path, folder: Path, name: str, digest: str) -> Path | None:
    """Give ``temporary`` (a complete copy inside ``folder``) its final name: ``name``, or the first
    ``-n`` variant that is free, or the existing file that holds the same content (then
    ``temporary`` is dropped). Never replaces a file: ``os.link`` fails if the name is taken,
    so two uploads at once cannot overwrite each other."""
    stem, suffix = os.path.splitext(name)
    for n in range(1, MAX_VARIANTS):
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        try:
            os.link(temporary, target)
        except FileExistsError:
            if target.is_file() and not target.is_symlink() and file_sha256(target) == digest:
                return target
            continue
        return target
    return None


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().parent == folder.resolve()


def save_uploads(
    files: Sequence[Path | str],
    folder: Path,
    *,
    max_files: int = MAX_FILES,
    max_bytes: int = MAX_FILE_BYTES,
) -> tuple[list[Path], list[str]]:
    """Copy uploaded files into ``folder`` under safe names; return the copies and one line per refusal.

    Past ``max_files`` the whole upload is refused (one line); a file over ``max_bytes``, of an
    unsupported format, empty or unreadable is refused with its reason, and the others are kept.
    """
    files = [f for f in files if f is not None and str(f)]
    _sweep_partial_copies(folder)
    if len(files) > max_files:
        return [], [f"{len(files)} fichiers : {max_files} au plus par envoi."]
    saved: list[Path] = []
    rejected: list[str] = []
    for upload in files:
        source = Path(upload)
        shown = shown_name(str(upload))
        name = safe_name(str(upload))
        if name is None:
            rejected.append(_unsupported(shown))
            continue
        try:
            size = source.stat().st_size
        except (OSError, ValueError):  # ValueError: a NUL in the path
            rejected.append(f"{shown} : fichier reçu introuvable, renvoyez-le.")
            continue
        if size > max_bytes:
            rejected.append(f"{shown} : {megabytes(size)}, {megabytes(max_bytes)} au plus.")
            continue
        if size == 0:
            rejected.append(f"{shown} : fichier vide.")
            continue
        try:
            target = _copy_in(source, folder, name)
        except OSError as error:
            rejected.append(f"{shown} : copie impossible ({error.strerror or error}).")
            continue
        if target is None:
            rejected.append(f"{shown} : trop de fichiers du même nom déjà envoyés ; renommez-le.")
            continue
        if target not in saved:
            saved.append(target)
    return saved, rejected


def _sweep_partial_copies(folder: Path) -> None:
    """Delete the partial copies (``.envoi-*.part``) an upload killed mid-copy left behind; only
    old ones, since another upload may be copying right now."""
    cutoff = time.time() - STALE_PART_S
    for partial in folder.glob(".envoi-*.part") if folder.is_dir() else ():
        try:
            if partial.stat().st_mtime < cutoff:
                partial.unlink()
        except OSError:
            pass


def _copy_in(source: Path, folder: Path, name: str) -> Path | None:
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".envoi-{secrets.token_hex(8)}.part"  # hidden: never indexed
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as reader, open(temporary, "xb") as writer:
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        target = _place(temporary, folder, name, digest.hexdigest())
    finally:
        temporary.unlink(missing_ok=True)
    if target is not None and not _inside(target, folder):  # cannot happen: safe_name has no separator
        raise OSError(f"{target} hors du dossier d'envoi")
    return target
