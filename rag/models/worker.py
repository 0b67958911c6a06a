"""A supervised child process that serves one request at a time: native code kept apart.

A crash in native code (llama.cpp, a PDF or zip decoder), an allocation without end or a
loop kills only the child. The parent gives each request a time limit: past it, or when the
child dies, the child is killed, the caller gets one French line (:class:`WorkerFailure`)
and the next request runs in a fresh child. Usage::

    worker = Worker(Spec("rag.answer.generation:LlamaGenerator", (path,), {"threads": 2}), what="Le modèle")
    worker.call("fits", prompt, timeout_s=10)
    for piece in worker.stream("stream", prompt, timeout_s=120): ...

The child is ``python -m rag.models.worker IN OUT``: two inherited pipe ends that carry pickled
messages (:mod:`multiprocessing.connection`). It builds the served object from the
:class:`Spec` (``module:callable`` and its arguments), under an optional address-space limit,
and answers:

- parent to child: ``("call", method, args)``, ``("cancel",)`` (stop the current stream);
- child to parent: ``("ready", info)`` once, then per request ``("piece", value)``… and
  ``("done", value, seconds)`` or ``("error", "module:Class", message, seconds)``.

The seconds the child spent on a request are sent back, so the parent knows what the
process boundary itself costs (:attr:`Worker.overheads`).
"""

from __future__ import annotations

import atexit
import importlib
import inspect
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from rag.config import PROJECT_ROOT
from rag.errors import DepecheError

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0  # what a child gets to finish a cancelled stream before it is killed


@dataclass(frozen=True)
class Spec:
    """What the child serves: ``factory`` ("module:callable") called with ``args``/``kwargs``."""

    factory: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    memory_mb: int | None = None  # the child's address-space limit (RLIMIT_AS); None: no limit


class WorkerFailure(DepecheError):
    """The child died or passed its time limit; it has been killed and will be restarted."""

    def __init__(self, message: str, *, reason: str, how: str) -> None:
        super().__init__(message)
        self.reason = reason  # "died" or "timeout"
        self.how = how  # the signal or exit code; the time limit


class RemoteError(DepecheError):
    """The served object raised an exception that is not a :class:`DepecheError`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind.rsplit(':', 1)[-1]}: {message}")
        self.kind = kind  # "module:Class" of the exception raised in the child


def _rebuild_error(kind: str, message: str) -> DepecheError:
    """The child's exception as the parent raises it: a :class:`DepecheError` keeps its class."""
    module, _, name = kind.partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        cls = None
    if isinstance(cls, type) and issubclass(cls, DepecheError):
        error = cls.__new__(cls)
        Exception.__init__(error, message)
        return error
    return RemoteError(kind, message)


def _signal_name(returncode: int | None) -> str:
    if returncode is None:
        return "état inconnu"
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"code de sortie {returncode}"


class Worker:
    """The parent's side: starts, supervises and restarts one child (see the module doc).

    ``what`` names the child in the messages («Le modèle de langue»). Requests are
    serialized (a lock): the child serves one at a time.
    """

    def __init__(self, spec: Spec, *, what: str, start_timeout_s: float = 300.0) -> None:
        self.spec = spec
        self.what = what
        self.start_timeout_s = start_timeout_s
        self.info: Any = None  # what the served object's ``worker_info()`` returned, once ready
        self.starts = 0
        self.overheads: deque[float] = deque(maxlen=1000)  # seconds per request outside the child, latest
        self.overhead_total = 0.0  # the same, summed over every request
        self._lock = threading.Lock()  # held through a request; a plain Lock: a stream may be
        # iterated from several threads in turn (Gradio), and only the request's own code nests
        self._process: subprocess.Popen | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None
        self._ready = False
        _LIVE.add(self)

    # -- life cycle ---------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the child if none runs; returns at once (:meth:`wait_ready` waits for it)."""
        if self._process is not None:
            return
        child_in, parent_out = os.pipe()
        parent_in, child_out = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "rag.models.worker", str(child_in), str(child_out)],
                pass_fds=(child_in, child_out),
                stdin=subprocess.DEVNULL,
                env=_child_environment(),
            )
        finally:
            os.close(child_in)
            os.close(child_out)
        self._send = Connection(parent_out, readable=False)
        self._recv = Connection(parent_in, writable=False)
        self._ready = False
        self.starts += 1
        self._send.send(self.spec)

    def wait_ready(self) -> None:
        """Start the child if needed and wait until its object is built; a failure to build
        (a :class:`DepecheError` such as a model that does not load) is raised here."""
        with self._lock:
            self._wait_ready()

    def _wait_ready(self) -> None:
        self.start()
        if self._ready:
            return
        message = self._receive(time.monotonic() + self.start_timeout_s, self.start_timeout_s)
        if message[0] == "error":
            self.stop()
            raise _rebuild_error(message[1], message[2])
        self.info = message[1]
        self._ready = True

    def stop(self) -> None:
        """Kill the child (if any) and forget it; the next request starts another."""
        process, self._process = self._process, None
        for connection in (self._send, self._recv):
            if connection is not None:
                connection.close()
        self._send = self._recv = None
        self._ready = False
        if process is not None and process.poll() is None:
            process.kill()
        if process is not None:
            process.wait()

    def restart(self) -> None:
        """Kill the child and start a fresh one now (it builds its object in the background)."""
        self.stop()
        self.start()

    # -- requests -----------------------------------------------------------------------

    def call(self, method: str, *args: Any, timeout_s: float) -> Any:
        """``method(*args)`` on the served object, in the child; its return value."""
        result = None
        with closing(self._request(method, args, timeout_s)) as replies:
            for kind, value in replies:
                if kind == "done":
                    result = value
        return result

    def stream(self, method: str, *args: Any, timeout_s: float) -> Iterator[Any]:
        """Iterate over what ``method(*args)`` yields in the child. Closing the iterator early
        cancels the request (the child stops between two pieces)."""
        with closing(self._request(method, args, timeout_s)) as replies:
            for kind, value in replies:
                if kind == "piece":
                    yield value

    def _request(self, method: str, args: tuple, timeout_s: float) -> Iterator[tuple[str, Any]]:
        with self._lock:
            self._wait_ready()
            assert self._send is not None
            sent = time.monotonic()
            deadline = sent + timeout_s
            finished, child = False, self.starts
            try:
                self._send.send(("call", method, args))
                while True:
                    message = self._receive(deadline, timeout_s)
                    if message[0] == "piece":
                        yield "piece", message[1]
                        continue
                    finished = True
                    overhead = max(0.0, time.monotonic() - sent - message[-1])
                    self.overheads.append(overhead)
                    self.overhead_total += overhead
                    if message[0] == "error":
                        raise _rebuild_error(message[1], message[2])
                    yield "done", message[1]
                    return
            finally:
                if not finished and self.starts == child:  # closed early, by the caller
                    self._cancel(min(deadline, time.monotonic() + STOP_GRACE_S), timeout_s)

    def _cancel(self, deadline: float, timeout_s: float) -> None:
        """Tell the child to stop the current stream and wait for its end; kill it if it does not."""
        try:
            assert self._send is not None
            self._send.send(("cancel",))
            while self._receive(deadline, timeout_s)[0] == "piece":
                pass
        except WorkerFailure:
            pass  # already killed and restarted by _receive
        except (OSError, DepecheError):
            self.restart()

    def _receive(self, deadline: float, timeout_s: float) -> tuple:
        """The child's next message; past ``deadline`` or if the child dies, kill it, start a
        fresh one and raise :class:`WorkerFailure`."""
        assert self._recv is not None
        try:
            if self._recv.poll(max(0.0, deadline - time.monotonic())):
                return self._recv.recv()
        except (EOFError, OSError):
            process = self._process
            if process is not None:
                try:
                    process.wait(timeout=STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    pass
            how = _signal_name(process.returncode if process is not None else None)
            log.error("%s: worker process died (%s)", self.what, how)
            self.restart()
            raise WorkerFailure(f"{self.what} s'est arrêté ({how})", reason="died", how=how) from None
        log.error("%s: no answer from the worker process in %.0f s; killed", self.what, timeout_s)
        self.restart()
        raise WorkerFailure(f"{self.what} n'a pas fini en {timeout_s:g} s", reason="timeout", how=f"{timeout_s:g} s")


_PROJECT_ROOT = str(PROJECT_ROOT)


def _child_environment() -> dict[str, str]:
    """This environment, with the project importable whatever the current folder."""
    environment = dict(os.environ)
    paths = [_PROJECT_ROOT, *filter(None, environment.get("PYTHONPATH", "").split(os.pathsep))]
    environment["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return environment


_LIVE: weakref.WeakSet[Worker] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for worker in list(_LIVE):
        worker.stop()


# -- the child ------------------------------------------------------------------------------


def _limit_memory(memory_mb: int | None) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind
    if memory_mb is not None:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _build(spec: Spec) -> Any:
    module, _, name = spec.factory.partition(":")
    return getattr(importlib.import_module(module), name)(*spec.args, **spec.kwargs)


def _error(error: BaseException, started: float) -> tuple:
    kind = f"{type(error).__module__}:{type(error).__qualname__}"
    return ("error", kind, str(error) or type(error).__name__, time.monotonic() - started)


def _serve(receive: Connection, send: Connection) -> None:
    spec: Spec = receive.recv()
    started = time.monotonic()
    try:
        _limit_memory(spec.memory_mb)
        served = _build(spec)
    except Exception as error:
        send.send(_error(error, started))
        return
    describe = getattr(served, "worker_info", None)
    send.send(("ready", describe() if describe else None))
    while True:
        try:
            message = receive.recv()
        except EOFError:  # the parent is gone
            return
        if message[0] != "call":
            continue  # a cancel that came after its stream ended
        _, method, args = message
        started = time.monotonic()
        try:
            result = getattr(served, method)(*args)
            if inspect.isgenerator(result):
                for piece in result:
                    send.send(("piece", piece))
                    if receive.poll() and receive.recv()[0] == "cancel":
                        result.close()
                        break
                result = None
            send.send(("done", result, time.monotonic() - started))
        except Exception as error:  # MemoryError included: the request fails, the child lives on
            send.send(_error(error, started))


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s (worker): %(message)s")
    receive = Connection(int(argv[0]), writable=False)
    send = Connection(int(argv[1]), readable=False)
    try:
        _serve(receive, send)
    except (BrokenPipeError, EOFError):
        pass  # the parent is gone


if __name__ == "__main__":
    main(sys.argv[1:])
