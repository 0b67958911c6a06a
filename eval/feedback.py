"""The readers' 👍/👎 (:mod:`rag.store.feedback`), counted or exported to grow the gold set.

- ``python -m eval feedback``: how many ratings, and where the database is;
- ``python -m eval feedback --export FILE.jsonl``: every rating as a gold-set candidate, one
  JSON object a line (the format is described in :mod:`rag.store.feedback`); 👎 lines need a
  person to write the right answer before they can join a gold set.

The database is ``feedback.sqlite`` in ``DEPECHE_HOME`` (:attr:`rag.config.Settings.feedback_db`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.config import Settings
from rag.store.feedback import FeedbackStore


def counts_line(up: int, down: int) -> str:
    return f"{up + down} avis : {up} 👍, {down} 👎"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval feedback", description="Compter ou exporter les avis 👍/👎 donnés dans la discussion."
    )
    parser.add_argument("--export", type=Path, metavar="FILE.jsonl", help="écrire les avis en JSON Lines")
    args = parser.parse_args(argv)

    path = Settings.from_env().feedback_db
    if not path.is_file():  # never create it here: only the chat records ratings
        if args.export:
            print(f"Aucun avis enregistré dans {path} : rien à exporter.", file=sys.stderr)
            return 1
        print(f"Aucun avis enregistré dans {path}.")
        return 0
    with FeedbackStore.open(path) as store:
        up, down = store.count()
        print(f"{counts_line(up, down)} ({path})")
        if args.export:
            written = store.export(args.export)
            print(f"{written} avis exportés dans {args.export} ({down} 👎 à relire).")
    return 0
