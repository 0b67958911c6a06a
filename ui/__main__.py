"""``python -m ui [--host 127.0.0.1] [--port 7860] [--share]``: serve the chat window.

Safe by default: it listens on this machine only, and makes no public link unless asked
(``--share``). ``DEPECHE_AUTH=utilisateur:mot-de-passe`` asks for a login. The same port serves
an OpenAI-compatible API under ``/v1`` (:mod:`ui.openai_api`), whose key is that password.
"""

from __future__ import annotations

import argparse
import os

from rag.cli import run
from rag.config import Settings
from rag.errors import ConfigError

QUEUE_CONCURRENCY = 4  # events run at once; the generator answers one at a time behind its lock
MAX_UPLOAD = "50mb"  # Gradio's cap on an uploaded file (the Corpus tab has its own, lower)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:password"`` -> ``("user", "password")``; unset or empty -> None (no login)."""
    if value is None or not value.strip():
        return None
    user, colon, password = value.strip().partition(":")
    if not colon or not user or not password:
        raise ConfigError("DEPECHE_AUTH doit être de la forme utilisateur:mot-de-passe (les deux non vides).")
    return user, password


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m ui", description="Lancer la fenêtre de discussion.")
    parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1, cette machine)")
    parser.add_argument("--port", type=int, default=7860, help="port (défaut : 7860)")
    parser.add_argument("--share", action="store_true", help="créer aussi un lien public Gradio (désactivé par défaut)")
    args = parser.parse_args()

    settings = Settings.from_env()
    auth = parse_auth(os.environ.get("DEPECHE_AUTH"))
    from rag.components import build_pipeline
    from ui.admission import server_threads
    from ui.app import build_app, launch_options
    from ui.session import AppContext

    pipeline = build_pipeline(settings)
    context = AppContext.of(pipeline, settings)  # the chat and the API share the pipeline and the gate
    app = build_app(pipeline, settings=settings, context=context)  # its header shows the index's counts
    print(f"Dépêche : http://{args.host}:{args.port}" + (" (connexion requise)" if auth else ""))
    print(f"API compatible OpenAI : http://{args.host}:{args.port}/v1 (modèle « depeche »)")
    app.queue(default_concurrency_limit=QUEUE_CONCURRENCY).launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        **launch_options(context, auth),
        max_file_size=MAX_UPLOAD,
        max_threads=server_threads(settings),
        show_error=False,
        quiet=True,
    )
    return 0


def entry() -> None:
    run(main)


if __name__ == "__main__":
    entry()
