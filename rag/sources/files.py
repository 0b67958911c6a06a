"""Files and folders become documents: each file read by the reader of its format, the others
skipped with a one-line French message saying why.

:func:`load_documents` takes files and folders; each file is read by the reader of its format
(:mod:`rag.sources.readers`: plain text, Markdown, HTML, PDF, DOCX), by default in a child
process under a time and memory limit (:mod:`rag.sources.readers.fence`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from rag.errors import DocumentError, printable
from rag.sources.documents import Document, slugify
from rag.sources.readers.source import SourceFile

log = logging.getLogger(__name__)

# The formats read, by file suffix (compared in lower case).
SUFFIX_KINDS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SUPPORTED_SUFFIXES = tuple(SUFFIX_KINDS)
# Documents a word processor saves as .docx or PDF in two clicks: the skip message says so.
CONVERTIBLE_SUFFIXES = (".doc", ".odt", ".rtf", ".pages", ".wpd")
CONVERT_HINT = "enregistrez-le en .docx ou en PDF"
MAX_FILE_BYTES = 200 * 1024 * 1024  # larger is not an article: skipped rather than read into memory


def kind_of(path: Path) -> str | None:
    """The format of ``path`` by its suffix (``"pdf"``...), or None if it is not one that is read."""
    return SUFFIX_KINDS.get(path.suffix.lower())


def _unsupported(label: str, path: Path) -> str:
    suffix = path.suffix.lower() or "sans extension"
    hint = f" ; {CONVERT_HINT}" if suffix in CONVERTIBLE_SUFFIXES else ""
    return f"{label} : format non pris en charge ({suffix}{hint}), ignoré."


def _read_bytes(path: Path) -> bytes:
    name = path.name
    try:
        if not path.is_file():
            raise DocumentError(f"{name} : n'est pas un fichier ordinaire, ignoré.")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DocumentError(f"{name} : trop volumineux ({size // (1024 * 1024)} Mo), fichier ignoré.")
        return path.read_bytes()
    except OSError as error:
        raise DocumentError(f"{name} : lecture impossible ({error.strerror or error}), fichier ignoré.") from None


Parser = Callable[[str, SourceFile], "Document"]  # (kind, source) -> document


def read_document(path: Path, *, doc_id: str | None = None, parse: Parser | None = None) -> Document:
    """Read one source file with the reader of its format; raise :class:`DocumentError` naming it if unusable.

    The bytes are read here; ``parse`` turns them into a document: by default in a child
    process under a time and memory limit (:mod:`rag.sources.readers.fence`)."""
    kind = kind_of(path)
    if kind is None:
        raise DocumentError(_unsupported(path.name, path))
    raw = _read_bytes(path)
    if not raw.strip():
        raise DocumentError(f"{path.name} : fichier vide, ignoré.")
    source = SourceFile(path=path, raw=raw, doc_id=doc_id or slugify(path.stem))
    if parse is None:
        from rag.sources.readers.fence import shared_parser  # the child process, started on first use

        parse = shared_parser()
    return parse(kind, source)


def _is_ignored(name: str) -> bool:
    """Hidden files and folders, and Office lock files (``~$rapport.docx``): never sources."""
    return name.startswith((".", "~$"))


def _walk(folder: Path, skipped: list[str]) -> list[Path]:
    """The files of a supported format under ``folder``, recursively; the others are reported."""
    found: list[Path] = []
    errors: list[OSError] = []
    for root, dirs, files in os.walk(folder, onerror=errors.append):
        dirs[:] = sorted(d for d in dirs if not _is_ignored(d))
        for name in sorted(files):
            if _is_ignored(name):
                continue
            path = Path(root, name)
            if path.is_symlink() and not _points_inside(path, folder):
                skipped.append(f"{path.relative_to(folder).as_posix()} : lien vers un fichier hors du dossier, ignoré.")
            elif kind_of(path) is None:
                skipped.append(_unsupported(path.relative_to(folder).as_posix(), path))
            else:
                found.append(path)
    skipped.extend(f"{error.filename} : dossier illisible ({error.strerror}), ignoré." for error in errors)
    skipped[:] = [printable(line) for line in skipped]
    return sorted(found)


def _points_inside(link: Path, folder: Path) -> bool:
    """Whether a symbolic link found in ``folder`` leads to a file inside it (a broken link
    counts as inside: it is reported as broken when read)."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # broken, or a loop of links
        return True
    return target.is_relative_to(folder.resolve())


def find_sources(paths: Iterable[Path], skipped: list[str] | None = None) -> Iterator[Path]:
    """Files to index: the files given, and those of a supported format under the folders given.

    Folders are walked recursively, in sorted order, hidden files and folders left
    out; a file of another format found there is reported in ``skipped`` (when given)
    with the reason. Each file comes once, however many times it is named.
    """
    skipped = [] if skipped is None else skipped
    seen: set[Path] = set()
    for path in paths:
        candidates = _walk(path, skipped) if path.is_dir() else [path]
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                yield candidate


def _missing(path: Path) -> str:
    if path.is_symlink():
        return printable(f"{path.name} : lien symbolique cassé, ignoré.")
    return printable(f"{path} : introuvable, ignoré.")


def load_documents(paths: Iterable[Path], *, parse: Parser | None = None) -> tuple[list[Document], list[str]]:
    """Read every source; return the documents and one message per file skipped."""
    documents: list[Document] = []
    skipped: list[str] = []
    seen_ids: set[str] = set()
    for path in find_sources(paths, skipped):
        if not path.exists():
            skipped.append(_missing(path))
            continue
        base_id = slugify(path.stem)
        doc_id, n = base_id, 2
        while doc_id in seen_ids:
            doc_id, n = f"{base_id}-{n}", n + 1
        try:
            document = read_document(path, doc_id=doc_id, parse=parse)
        except DocumentError as error:
            log.warning("%s", error)
            skipped.append(str(error))
            continue
        seen_ids.add(doc_id)
        documents.append(document)
    return documents, skipped
