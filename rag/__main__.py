"""The terminal: ``python -m rag ask "question"`` for one answer, ``python -m rag chat`` for
a conversation (follow-up questions understood). The model's draft streams as it is
written; when the check changes it, the checked answer is printed after it."""

from __future__ import annotations

import argparse
import sys

from rag.cli import run
from rag.config import RETRIEVAL_MODES, Settings
from rag.pipeline import Answer, clean_question
from rag.store.records import Passage


def format_source(number: int, passage: Passage, *, preview_chars: int = 90) -> str:
    """``[1] Titre — 2025-03-27 — fichier.txt, caractère 812 : « Début du passage… »``."""
    name = passage.source if "://" in passage.source else passage.source.rsplit("/", 1)[-1]
    preview = " ".join(passage.text.split())
    if len(preview) > preview_chars:
        preview = preview[:preview_chars].rsplit(" ", 1)[0] + "…"
    date = passage.date or "date inconnue"
    return f"[{number}] {passage.title} — {date} — {name}, {passage.location} : « {preview} »"


def print_sources(answer: Answer) -> None:
    print("\nPassages les plus proches, à vérifier :" if answer.refused else "\nSources :")
    for number, passage in enumerate(answer.passages, start=1):
        print(format_source(number, passage))


def print_answer(pipeline, question: str, history: list[str]) -> Answer:
    """Stream the draft, then the checked answer if the check changed it, then the sources."""
    stream = pipeline.ask(question, history)
    for piece in stream:
        print(piece, end="", flush=True)
    print()
    answer = stream.answer
    if answer.revised:
        for sentence in answer.dropped:
            print(f"  ✗ non étayé par les passages : {sentence}")
        print(f"Réponse vérifiée : {answer.text}")
    if answer.source_dates:  # «Selon l'article du 27 mars 2025 [1].»
        print(answer.source_dates)
    if answer.scope:  # the dates the question was scoped to
        print(f"(recherche limitée aux {answer.scope})")
    if answer.search_question != answer.question:
        print(f"(question comprise comme : {answer.search_question})", file=sys.stderr)
    print_sources(answer)
    if answer.first_token_s is not None:
        print(f"\n({answer.first_token_s:.2f} s au premier mot, {answer.total_s:.2f} s en tout)", file=sys.stderr)
    return answer


def chat(pipeline) -> None:
    from rag.errors import DepecheError

    history: list[str] = []
    print("Posez vos questions (ligne vide ou Ctrl-D pour quitter).")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            break
        if not question:
            break
        try:
            print_answer(pipeline, question, history)
        except DepecheError as error:
            print(error, file=sys.stderr)
            continue
        history.append(question)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m rag", description="Interroger le corpus.")
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="poser une question")
    ask.add_argument("question", nargs="+", help="la question, en français")
    ask.add_argument("--top-k", type=int, default=None, help="passages montrés au modèle")
    ask.add_argument("--mode", choices=RETRIEVAL_MODES, default=None, help="recherche (défaut : hybrid)")
    talk = commands.add_parser("chat", help="une conversation dans le terminal")
    talk.add_argument("--top-k", type=int, default=None, help="passages montrés au modèle")
    talk.add_argument("--mode", choices=RETRIEVAL_MODES, default=None, help="recherche (défaut : hybrid)")
    args = parser.parse_args()

    question = clean_question(" ".join(args.question)) if args.command == "ask" else ""  # before loading any model
    settings = Settings.from_env()
    if args.top_k:
        settings = settings.with_(top_k=args.top_k)
    if args.mode:
        settings = settings.with_(retrieval_mode=args.mode)
    from rag.components import build_pipeline

    pipeline = build_pipeline(settings, wait_for_model=args.command == "chat")
    if args.command == "chat":
        chat(pipeline)
    else:
        print_answer(pipeline, question, [])
    return 0


def entry() -> None:
    run(main)


if __name__ == "__main__":
    entry()
