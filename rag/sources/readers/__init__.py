"""One reader per source format, each turning a :class:`SourceFile` into a :class:`~rag.sources.documents.Document`.

=========  ==========================  ==============================================
kind       module                      reads
=========  ==========================  ==============================================
text       :mod:`rag.sources.readers.text`     plain text laid out as the seeds are
markdown   :mod:`rag.sources.readers.markdown` the same, with ``# Titre`` headings and front matter
html       :mod:`rag.sources.readers.web`      a news page: main text and metadata (trafilatura)
pdf        :mod:`rag.sources.readers.pdf`      the text layer, page by page (pypdf)
docx       :mod:`rag.sources.readers.word`     paragraphs and tables of a Word file (python-docx)
=========  ==========================  ==============================================

Reader modules are imported on first use, so reading text files never loads the
HTML, PDF or Word libraries.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from rag.sources.readers.source import SourceFile

if TYPE_CHECKING:
    from rag.sources.documents import Document

Reader = Callable[[SourceFile], "Document"]

_READERS = {
    "text": ("rag.sources.readers.text", "read_text"),
    "markdown": ("rag.sources.readers.markdown", "read_markdown"),
    "html": ("rag.sources.readers.web", "read_html"),
    "pdf": ("rag.sources.readers.pdf", "read_pdf"),
    "docx": ("rag.sources.readers.word", "read_docx"),
}

__all__ = ["Reader", "SourceFile", "reader_for"]


def reader_for(kind: str) -> Reader:
    """The reader of a format named as in ``Document.kind`` (``"pdf"``...)."""
    module_name, function_name = _READERS[kind]
    return getattr(importlib.import_module(module_name), function_name)
