"""HTTP downloads under limits: a time limit on the whole download, a size cap, http(s) only.

What :mod:`rag.sources.feeds` fetches (feeds, and the pages their entries link to) comes from
anywhere: a server may stall, send without end, or redirect to ``file:`` or ``ftp:``. Every
failure becomes :class:`Unreachable`, whose ``reason`` is a short French phrase
(«connexion refusée», «réponse HTTP 404») for the caller's one-line message.
"""

from __future__ import annotations

import socket
import ssl
import time
import urllib.error
import urllib.request
from http.client import HTTPException

USER_AGENT = "Depeche/0.1 (Dépêche, assistant de presse hors ligne ; lecteur de flux RSS/Atom)"
FETCH_TIMEOUT_S = 20.0  # the whole download, not each read
_MB = 1024 * 1024


class Unreachable(Exception):
    """A download failed; ``reason`` says why in French («connexion refusée»)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _opener() -> urllib.request.OpenerDirector:
    """http and https only (no ftp, no file), redirects between them followed."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.HTTPDefaultErrorHandler(),
    ):
        opener.add_handler(handler)
    return opener


def http_get(url: str, *, max_bytes: int, timeout_s: float = FETCH_TIMEOUT_S, accept: str = "*/*") -> tuple[bytes, str]:
    """The body and the Content-Type of ``url``; :class:`Unreachable` when it cannot be had
    whole within ``timeout_s`` and ``max_bytes``."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": accept})
    deadline = time.monotonic() + timeout_s
    try:
        with _opener().open(request, timeout=timeout_s) as response:
            content_type = response.headers.get("Content-Type", "")
            chunks, size = [], 0
            while chunk := response.read(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise Unreachable(f"plus de {max_bytes // _MB} Mo")
                if time.monotonic() > deadline:
                    raise TimeoutError
                chunks.append(chunk)
            return b"".join(chunks), content_type
    except urllib.error.HTTPError as error:
        raise Unreachable(f"réponse HTTP {error.code}") from None
    except urllib.error.URLError as error:
        raise Unreachable(_network_reason(error.reason, timeout_s)) from None
    except (OSError, HTTPException) as error:
        raise Unreachable(_network_reason(error, timeout_s)) from None


def _network_reason(reason: object, timeout_s: float) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"pas de réponse complète en {timeout_s:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(reason, socket.gaierror):
        return "nom de domaine inconnu ou réseau absent"
    if isinstance(reason, ssl.SSLError):
        return "connexion sécurisée refusée (certificat ?)"
    if isinstance(reason, ConnectionError):
        return "connexion interrompue"
    if isinstance(reason, HTTPException):
        return "réponse HTTP invalide"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__
