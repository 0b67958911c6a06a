"""``python -m ui [--host 127.0.0.1] [--port 7860]``: serve the chat window."""

from __future__ import annotations

import argparse

from rag.cli import run
from rag.config import Settings


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m ui", description="Lancer la fenêtre de discussion.")
    parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (défaut : 7860)")
    args = parser.parse_args()

    settings = Settings.from_env()
    from rag.components import build_pipeline
    from ui.app import build_app

    pipeline = build_pipeline(settings)
    documents, chunks = pipeline.retriever.store.counts()
    app = build_app(
        pipeline,
        description=f"{documents} documents, {chunks} passages · modèle {pipeline.generator.name}. "
        "Chaque réponse cite ses passages [n].",
    )
    print(f"Dépêche : http://{args.host}:{args.port}")
    app.queue().launch(server_name=args.host, server_port=args.port, share=False, show_error=False, quiet=True)
    return 0


def entry() -> None:
    run(main)


if __name__ == "__main__":
    entry()
