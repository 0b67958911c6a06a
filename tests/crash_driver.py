"""Runs one index command in its own process so a test can kill it (``kill -9``) anywhere.

``python -m tests.crash_driver HOME add PATH...`` / ``remove DOC_ID...`` / ``rebuild``: the
command of :mod:`index.update` on the index in HOME, with the fake embedder; ``upload PATH...``:
the Corpus tab's upload (:meth:`ui.corpus.CorpusActions.upload`: copy in, then index). It prints
``ready`` once its imports are done, so the killer's random delay falls in the command itself.
With ``DEPECHE_MILVUS_URI`` set, the index is in that Milvus store; with
``DEPECHE_TEST_SEGMENTED=1``, the embedded store writes segments at any size (as past
``SEGMENTS_FROM`` passages), merging deltas past two. With ``DEPECHE_TEST_DIE_AFTER_FLUSH=1``
the process dies (exit 137, no cleanup) at Milvus Lite's first flush of a passages collection,
after its manifest is committed and before its write-ahead log is deleted: the one window a
random kill rarely hits (rag/store/milvus_repair.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from index.update import add_documents, rebuild_index, remove_documents
from rag.config import Settings
from tests.fakes import FakeEmbedder


def main(argv: list[str]) -> int:
    home, command, *arguments = argv
    if os.environ.get("DEPECHE_TEST_SEGMENTED") == "1":
        from rag.store import embedded

        embedded.SEGMENTS_FROM, embedded.MERGE_SHARE, embedded.MAX_DELTAS = 0, 0, 2
    if os.environ.get("DEPECHE_TEST_DIE_AFTER_FLUSH") == "1":
        from milvus_lite.storage.wal import WAL

        delete = WAL.close_and_delete

        def dying(wal):
            if wal.wal_dir.endswith(os.path.join("_chunks", "wal")):
                os._exit(137)
            delete(wal)

        WAL.close_and_delete = dying
    settings = Settings(home=Path(home), lock_wait=60, milvus_uri=os.environ.get("DEPECHE_MILVUS_URI", ""))
    print("ready", flush=True)
    if command == "add":
        add_documents(settings, [Path(a) for a in arguments], FakeEmbedder(), progress=False, on_wait=None)
    elif command == "remove":
        remove_documents(settings, arguments, on_wait=None)
    elif command == "upload":
        from types import SimpleNamespace

        from ui.corpus import CorpusActions

        context = SimpleNamespace(settings=settings, embedder=FakeEmbedder(), store=None)
        print(CorpusActions(context).add(arguments, progress=False).summary, file=sys.stderr)
    elif command == "rebuild":
        rebuild_index(settings, FakeEmbedder(), progress=False, on_wait=None)
    else:
        raise SystemExit(f"unknown command {command}")
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
