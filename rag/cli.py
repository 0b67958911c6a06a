"""Shared by the command-line entry points: logging set-up and user-error handling."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from rag.errors import DepecheError


def run(main: Callable[[], int | None]) -> None:
    """Run ``main``; a :class:`DepecheError` becomes one line on stderr and exit code 1."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = main()
    except DepecheError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
