"""The login set with ``DEPECHE_AUTH``: checked in constant time, never logged nor echoed,
and slowed down for a client that keeps getting it wrong.

Gradio asks for the login on every entry point of the app (the page, its API, uploads,
downloads) once ``launch(auth=…)`` is given; this module gives it
:class:`CredentialCheck` (both the user name and the password compared with
:func:`hmac.compare_digest`, with no early exit) and :class:`LoginThrottle`, an ASGI
middleware in front of ``POST /login``: after ``free_attempts`` failures a client
(its address) is refused with 429 and ``Retry-After`` for 1 s, then 2, 4… up to
``max_lockout_s``, without its attempt being checked; a success clears its record.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

LOGIN_PATHS = frozenset({"/login", "/login/"})
FREE_ATTEMPTS = 5
MAX_LOCKOUT_S = 300.0
FORGET_AFTER_S = 3600.0  # a client's failures are forgotten after an hour without one


class CredentialCheck:
    """Gradio's ``auth`` callable for one user name and password."""

    def __init__(self, user: str, password: str) -> None:
        self._user = user.encode("utf-8")
        self._password = password.encode("utf-8")

    def __call__(self, user: str, password: str) -> bool:
        user_ok = hmac.compare_digest(user.encode("utf-8"), self._user)
        password_ok = hmac.compare_digest(password.encode("utf-8"), self._password)
        return user_ok & password_ok  # both compared, whatever the first gives

    def __repr__(self) -> str:  # never shows the password
        return "CredentialCheck(<masqué>)"


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class FailureThrottle:
    """Failed attempts per client: after ``free_attempts`` failures a client waits 1 s, then
    2, 4… up to ``max_lockout_s``; a success clears its record. Shared by the login page
    (:class:`LoginThrottle`) and the API's Bearer check (:mod:`ui.openai_api`). ``clock`` is for tests."""

    def __init__(
        self, *, free_attempts: int = FREE_ATTEMPTS, max_lockout_s: float = MAX_LOCKOUT_S, clock=time.monotonic
    ) -> None:
        self.free_attempts = free_attempts
        self.max_lockout_s = max_lockout_s
        self.clock = clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def lockout(self, client: str) -> float:
        """Seconds ``client`` must still wait before trying again (0: it may try)."""
        with self._lock:
            record = self._records.get(client)
            return max(0.0, record.locked_until - self.clock()) if record else 0.0

    def record(self, client: str, *, success: bool) -> None:
        now = self.clock()
        with self._lock:
            for stale in [c for c, r in self._records.items() if now - r.last > FORGET_AFTER_S]:
                del self._records[stale]
            if success:
                self._records.pop(client, None)
                return
            record = self._records.setdefault(client, _Record())
            record.failures += 1
            record.last = now
            extra = record.failures - self.free_attempts
            if extra >= 0:
                record.locked_until = now + min(self.max_lockout_s, 2.0**extra)
                log.warning("login: %d failed attempts from %s, locked for %.0f s", record.failures, client,
                            record.locked_until - now)  # fmt: skip


class LoginThrottle:
    """ASGI middleware in front of ``POST /login``: see the module doc. ``clock`` is for tests."""

    def __init__(
        self,
        app: Any,
        *,
        free_attempts: int = FREE_ATTEMPTS,
        max_lockout_s: float = MAX_LOCKOUT_S,
        clock=time.monotonic,
    ) -> None:
        self.app = app
        self.throttle = FailureThrottle(free_attempts=free_attempts, max_lockout_s=max_lockout_s, clock=clock)
        self.lockout = self.throttle.lockout
        self.record = self.throttle.record

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in LOGIN_PATHS:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.lockout(client)
        if wait > 0:
            await _refuse(send, wait)
            return
        status: list[int] = []

        async def watch(message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        self.record(client, success=bool(status) and status[0] < 400)


def retry_after(wait: float) -> int:
    """Whole seconds to announce in ``Retry-After`` for a wait of ``wait`` s (at least 1)."""
    return max(1, round(wait + 0.49))


async def _refuse(send, wait: float) -> None:
    seconds = retry_after(wait)
    body = json.dumps({"detail": f"Trop de tentatives de connexion : réessayez dans {seconds} s."}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(seconds).encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def secured_launch(auth: tuple[str, str] | None) -> dict[str, Any]:
    """The ``launch()`` arguments that ask for ``auth`` (user, password) everywhere; {} if None."""
    if auth is None:
        return {}
    from starlette.middleware import Middleware

    return {
        "auth": CredentialCheck(*auth),
        "auth_message": "Dépêche : identifiez-vous.",
        "app_kwargs": {"middleware": [Middleware(LoginThrottle)]},
    }
