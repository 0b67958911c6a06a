"""``python -m rag ask "question"``: a streamed, cited answer in the terminal."""

from __future__ import annotations

import argparse
import sys

from rag.cli import run
from rag.config import RETRIEVAL_MODES, Settings
from rag.pipeline import Answer, clean_question
from rag.store import Passage


def format_source(number: int, passage: Passage, *, preview_chars: int = 90) -> str:
    """``[1] Titre — 2025-03-27 — fichier.txt, caractère 812 : « Début du passage… »``."""
    name = passage.source.rsplit("/", 1)[-1]
    preview = " ".join(passage.text.split())
    if len(preview) > preview_chars:
        preview = preview[:preview_chars].rsplit(" ", 1)[0] + "…"
    date = passage.date or "date inconnue"
    return f"[{number}] {passage.title} — {date} — {name}, caractère {passage.start} : « {preview} »"


def print_sources(answer: Answer) -> None:
    print("\nSources :")
    for number, passage in enumerate(answer.passages, start=1):
        print(format_source(number, passage))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m rag", description="Interroger le corpus.")
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="poser une question")
    ask.add_argument("question", nargs="+", help="la question, en français")
    ask.add_argument("--top-k", type=int, default=None, help="passages montrés au modèle")
    ask.add_argument("--mode", choices=RETRIEVAL_MODES, default=None, help="recherche (défaut : hybrid)")
    args = parser.parse_args()

    question = clean_question(" ".join(args.question))  # before loading any model
    settings = Settings.from_env()
    if args.top_k:
        settings = settings.with_(top_k=args.top_k)
    if args.mode:
        settings = settings.with_(retrieval_mode=args.mode)
    from rag.components import build_pipeline

    pipeline = build_pipeline(settings)
    stream = pipeline.ask(question)
    for piece in stream:
        print(piece, end="", flush=True)
    print()
    answer = stream.answer
    print_sources(answer)
    if answer.first_token_s is not None:
        print(f"\n({answer.first_token_s:.2f} s au premier mot, {answer.total_s:.2f} s en tout)", file=sys.stderr)
    return 0


def entry() -> None:
    run(main)


if __name__ == "__main__":
    entry()
