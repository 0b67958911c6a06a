"""Connections to Milvus, one client per URI and token in a process: Milvus Lite on a file
(in process; it admits one process per file) or a server over gRPC; URIs shown without
secrets; Milvus's failures as one French line (:class:`rag.errors.StoreUnavailableError`)."""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from rag.errors import StoreUnavailableError
from rag.store.milvus_repair import remove_flushed_logs

log = logging.getLogger(__name__)

SETTING = "DEPECHE_MILVUS_URI"
_clients: dict[tuple[str, str], object] = {}
_clients_lock = threading.Lock()
loaded_collections: set[tuple[int, str]] = set()  # (client, collection) loaded in this process
client_layouts: dict[int, tuple[int, int]] = {}  # client -> (shards, replicas) of the collections it creates and loads
lite_folders: dict[int, Path] = {}  # client -> its Milvus Lite database folder (a file URI)


REMOTE_SCHEMES = ("http://", "https://", "tcp://")
_FORMS = "attendu un fichier *.db (Milvus Lite) ou http://hôte:19530 (un serveur)"


def is_remote(uri: str) -> bool:
    return uri.startswith(REMOTE_SCHEMES)


def public_uri(uri: str) -> str:
    """The URI without a password or token, for messages and ``python -m index status``."""
    if not is_remote(uri):
        return str(Path(uri).expanduser().resolve())
    parts = urlsplit(uri)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def connect(uri: str, token: str = "", *, shards: int = 1, replicas: int = 1) -> object:
    """One client per URI and process: Milvus Lite locks its file against a second opening,
    and the chat's corpus tab writes through the process that reads. ``shards`` and
    ``replicas`` (``DEPECHE_MILVUS_SHARDS``, ``DEPECHE_MILVUS_REPLICAS``) shape the collections
    it creates and how many copies a cluster loads; Milvus Lite accepts and ignores them."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    # pymilvus and Milvus Lite log every failure with its traceback; here each becomes one French line.
    for name in ("pymilvus", "pymilvus.milvus_client", "milvus_lite"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

    if not is_remote(uri) and ("://" in uri or not uri.endswith(".db")):
        raise StoreUnavailableError(uri, SETTING, f"adresse non reconnue, {_FORMS}")
    target = uri if is_remote(uri) else str(Path(uri).expanduser().resolve())
    key = (target, token)
    with _clients_lock:
        if key in _clients:
            client_layouts[id(_clients[key])] = (shards, replicas)
            return _clients[key]
        if not is_remote(uri):
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            with _lite_lock(Path(target)) as free:
                if not free:
                    raise StoreUnavailableError(public_uri(uri), SETTING, _LOCKED)
                remove_flushed_logs(Path(target))  # what a killed process left that Milvus Lite would replay twice
        try:
            client = MilvusClient(uri=target, token=token, timeout=10)
            client.list_collections()
        except MilvusException as error:
            raise StoreUnavailableError(public_uri(uri), SETTING, reason(error)) from None
        except Exception as error:  # Milvus Lite's lock, a refused connection, a bad URI
            raise StoreUnavailableError(public_uri(uri), SETTING, reason(error)) from None
        _clients[key] = client
        client_layouts[id(client)] = (shards, replicas)
        if not is_remote(uri):
            lite_folders[id(client)] = Path(target)
        return client


def disconnect(uri: str, token: str = "") -> None:
    """Close this process's client for ``uri``; a Lite file is then free for another process."""
    target = uri if is_remote(uri) else str(Path(uri).expanduser().resolve())
    with _clients_lock:
        client = _clients.pop((target, token), None)
    if client is not None:
        loaded_collections.difference_update({key for key in loaded_collections if key[0] == id(client)})
        lite_folders.pop(id(client), None)
        client.close()
    if not is_remote(uri):
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(target)


_LOCKED = (
    "la base Milvus Lite est ouverte par un autre processus (Milvus Lite n'en admet qu'un) ; "
    "pour la partager entre le chat et `python -m index`, servez-la avec "
    "`milvus-lite server --data-dir … --port 19530` et DEPECHE_MILVUS_URI=http://127.0.0.1:19530"
)


@contextmanager
def _lite_lock(path: Path) -> Iterator[bool]:
    """Milvus Lite's lock on this database folder, held for the block if no other process holds
    it; yields whether it is held here (False: another process has the folder open)."""
    lock = path / "LOCK"
    if not lock.is_file():  # a new database: nobody has it open
        yield True
        return
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def unavailable_as_error(uri: str) -> Iterator[None]:
    """A Milvus call outside a store's own (opening it): its failure becomes one French line."""
    from pymilvus.exceptions import MilvusException

    try:
        yield
    except MilvusException as error:
        raise StoreUnavailableError(public_uri(uri), SETTING, reason(error)) from None


def reason(error: Exception) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return " ".join(text.split())[:300].rstrip(" .")
