"""DEPECHE_AUTH (ui.login): every entry point asks for the login, the password is compared in
constant time and never shown, and a client that keeps failing is slowed down."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import httpx
import pytest

from index.build import build_index
from rag.pipeline import Pipeline
from rag.search.retrieval import DenseRetriever
from rag.store.live import LiveIndex
from tests.conftest import SEEDS
from tests.fakes import FakeGenerator
from ui.app import build_app
from ui.login import CredentialCheck, LoginThrottle, secured_launch

USER, PASSWORD = "redaction", "s3cret-Très-long"
QUESTION = "Quel ministre bavarois de l'Économie a salué l'arrivée d'OpenAI ?"
# Every way into the app: the page's config, Gradio's API (info, schema, calls, queue),
# uploads and downloads (a seed's path, and a file of the system).
ENTRY_POINTS = [
    ("GET", "/config"),
    ("GET", "/gradio_api/info"),
    ("GET", "/gradio_api/openapi.json"),
    ("POST", "/gradio_api/call/chat"),
    ("POST", "/gradio_api/run/chat"),
    ("POST", "/gradio_api/queue/join"),
    ("GET", "/gradio_api/queue/data?session_hash=abc"),
    ("POST", "/gradio_api/upload"),
    ("GET", "/gradio_api/file=/etc/hostname"),
    ("GET", f"/gradio_api/file={SEEDS}"),
]


def test_credentials_are_checked_whole_and_never_shown():
    check = CredentialCheck(USER, PASSWORD)
    assert check(USER, PASSWORD)
    assert not check(USER, PASSWORD[:-1]) and not check(USER, PASSWORD + "x") and not check("autre", PASSWORD)
    assert not check("", "") and PASSWORD not in repr(check)


class FakeApp:
    """An ASGI app that accepts one password."""

    async def __call__(self, scope, receive, send):
        body = (await receive())["body"]
        status = 200 if body == b"password=ok" else 400
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _login(throttle: LoginThrottle, client: str, password: str) -> int:
    scope = {"type": "http", "method": "POST", "path": "/login", "client": (client, 5000)}
    sent = []

    async def receive():
        return {"type": "http.request", "body": f"password={password}".encode(), "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(throttle(scope, receive, send))
    return sent[0]["status"]


def test_failures_lock_one_client_out_for_longer_and_longer():
    now = [1000.0]
    throttle = LoginThrottle(FakeApp(), free_attempts=3, max_lockout_s=8, clock=lambda: now[0])
    assert [_login(throttle, "10.0.0.1", "faux") for _ in range(3)] == [400, 400, 400]
    assert throttle.lockout("10.0.0.1") == 1.0
    assert _login(throttle, "10.0.0.1", "ok") == 429  # not even checked while locked
    assert _login(throttle, "10.0.0.2", "ok") == 200  # another client is not slowed down
    locks = []
    for _ in range(5):
        now[0] += throttle.lockout("10.0.0.1")
        assert _login(throttle, "10.0.0.1", "faux") == 400
        locks.append(throttle.lockout("10.0.0.1"))
    assert locks == [2.0, 4.0, 8.0, 8.0, 8.0]  # doubling, up to the cap
    now[0] += 8
    assert _login(throttle, "10.0.0.1", "ok") == 200 and throttle.lockout("10.0.0.1") == 0  # cleared
    assert _login(throttle, "10.0.0.1", "faux") == 400 and throttle.lockout("10.0.0.1") == 0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from rag.config import Settings
    from tests.fakes import FakeEmbedder

    settings = Settings.from_env().with_(home=tmp_path_factory.mktemp("login"))
    embedder = FakeEmbedder()
    build_index(settings, [SEEDS], embedder, progress=False)
    store = LiveIndex(settings.index_dir, embed_model=embedder.name)
    pipeline = Pipeline(DenseRetriever(store, embedder), FakeGenerator(("Hubert", " Aiwanger.")), top_k=3)
    app = build_app(pipeline, settings=settings)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.queue().launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
        **secured_launch((USER, PASSWORD)),
    )  # fmt: skip
    yield f"http://127.0.0.1:{port}"
    app.close()


def _request(client: httpx.Client, method: str, path: str) -> httpx.Response:
    if path.endswith("/upload"):
        return client.request(method, path, files={"files": ("note.txt", b"Titre\n\nTexte.")})
    return client.request(method, path, json={"data": [QUESTION]} if method == "POST" else None)


def test_every_entry_point_refuses_a_missing_or_wrong_login(server):
    with httpx.Client(base_url=server) as anonymous:
        page = anonymous.get("/")
        assert page.status_code == 200 and "Aiwanger" not in page.text and "Munich" not in page.text
        for method, path in ENTRY_POINTS:
            assert _request(anonymous, method, path).status_code == 401, path
    with httpx.Client(base_url=server, cookies={"access-token-unsecure-x": "faux"}) as forged:
        for method, path in ENTRY_POINTS:
            assert _request(forged, method, path).status_code == 401, path


def test_the_right_login_opens_every_entry_point(server):
    from gradio_client import Client

    with httpx.Client(base_url=server) as client:
        assert client.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
        for method, path in (("GET", "/config"), ("GET", "/gradio_api/info"), ("POST", "/gradio_api/upload")):
            assert _request(client, method, path).status_code == 200, path
    answer = Client(server + "/", verbose=False, auth=(USER, PASSWORD)).predict(message=QUESTION, api_name="/chat")
    assert "Aiwanger" in answer


def test_the_password_is_never_logged_nor_echoed(server, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=server) as client:
        wrong = client.post("/login", data={"username": USER, "password": PASSWORD + "-faux"})
        right = client.post("/login", data={"username": USER, "password": PASSWORD})
    out, err = capfd.readouterr()
    for text in (wrong.text, right.text, str(wrong.headers), str(right.headers), caplog.text, out, err):
        assert PASSWORD not in text


def test_a_client_that_keeps_failing_waits_and_the_right_password_then_works(server):
    with httpx.Client(base_url=server) as client:
        statuses = [client.post("/login", data={"username": USER, "password": f"essai{n}"}).status_code
                    for n in range(6)]  # fmt: skip
        assert statuses[:5] == [400] * 5 and statuses[5] == 429
        locked = client.post("/login", data={"username": USER, "password": PASSWORD})
        assert locked.status_code == 429 and "réessayez dans" in locked.json()["detail"]
        time.sleep(float(locked.headers["retry-after"]) + 0.1)
        assert client.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
