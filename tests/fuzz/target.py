"""One reader under atheris: ``python -m tests.fuzz.target KIND CORPUS… [libFuzzer flags]``.

Each input is given to the reader of ``KIND`` as the bytes of a file (unfenced:
:func:`rag.sources.readers.fence.parse_here`). A :class:`~rag.errors.DocumentError` is the reader
saying no, as it should for most inputs; any other exception is a crash: libFuzzer stops and
writes the input under its ``-artifact_prefix``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

SUFFIXES = {"text": ".txt", "markdown": ".md", "html": ".html", "pdf": ".pdf", "docx": ".docx"}
# The libraries each reader leans on: instrumented, so that coverage guides the fuzzer there.
LIBRARIES = {
    "text": ["rag.sources.readers.text", "rag.sources.readers.encoding", "rag.sources.documents", "rag.sources.dates"],
    "markdown": ["rag.sources.readers.markdown", "rag.sources.readers.encoding", "rag.sources.documents"],
    "html": ["rag.sources.readers.web", "trafilatura", "htmldate", "courlan"],
    "pdf": ["rag.sources.readers.pdf", "pypdf"],
    "docx": ["rag.sources.readers.word", "docx"],
}


def main(argv: list[str]) -> None:
    kind = argv[1]
    with atheris.instrument_imports(include=[name.split(".")[0] for name in LIBRARIES[kind]]):
        from rag.errors import DocumentError
        from rag.sources.readers import SourceFile
        from rag.sources.readers.fence import parse_here

        for name in LIBRARIES[kind]:
            __import__(name)
    path = Path("fuzz" + SUFFIXES[kind])

    def test_one_input(data: bytes) -> None:
        if not data.strip():
            return  # read_document stops empty files before any reader
        try:
            parse_here(kind, SourceFile(path=path, raw=data, doc_id="fuzz"))
        except DocumentError:
            pass

    atheris.Setup([argv[0], *argv[2:]], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
