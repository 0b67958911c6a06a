"""The OpenAI-compatible API (ui.openai_api): the official ``openai`` client works against the
served app unchanged, follow-ups and citations come through, and every bad request gets
OpenAI's error object, never a traceback."""

from __future__ import annotations

import json
import socket
import threading

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from index.build import build_index
from rag.answer.generator_process import GenerationError
from rag.config import Settings
from rag.pipeline import Pipeline
from rag.search.followup import standalone_question
from rag.search.retrieval import DenseRetriever
from rag.store.live import LiveIndex
from tests.conftest import SEEDS
from tests.fakes import FakeEmbedder, FakeGenerator
from ui.admission import Admission
from ui.app import build_app, launch_options
from ui.login import FailureThrottle
from ui.openai_api import MAX_BODY_BYTES, MODEL_ID, OpenAIApi
from ui.session import AppContext

QUESTION = "Quel ministre bavarois de l'Économie a salué l'arrivée d'OpenAI ?"
USER, PASSWORD = "redaction", "cle-tres-secrete-42"  # a header is ASCII for the openai client


class RecordingRetriever(DenseRetriever):
    """Dense retrieval that remembers each question it was asked to search."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.searched: list[str] = []

    def retrieve(self, question: str, k: int):
        self.searched.append(question)
        return super().retrieve(question, k)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    settings = Settings.from_env().with_(home=tmp_path_factory.mktemp("api"))
    embedder = FakeEmbedder()
    build_index(settings, [SEEDS], embedder, progress=False)
    return settings, embedder


def _context(index, generator, **gate) -> AppContext:
    settings, embedder = index
    store = LiveIndex(settings.index_dir, embed_model=embedder.name)
    pipeline = Pipeline(RecordingRetriever(store, embedder), generator, top_k=3)
    admission = Admission(gate.get("concurrency", 4), gate.get("queue_depth", 8))
    return AppContext(settings, pipeline, embedder, store, admission)


def _serve(context: AppContext, auth):
    app = build_app(context.pipeline, settings=context.settings, context=context)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.queue().launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_options(context, auth)
    )
    return app, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(index):
    context = _context(index, FakeGenerator(("Hubert", " Aiwanger", " a salué", " cette arrivée.")))
    app, url = _serve(context, None)
    yield context, url
    app.close()


@pytest.fixture(scope="module")
def secured(index):
    context = _context(index, FakeGenerator(("Hubert", " Aiwanger.")))
    app, url = _serve(context, (USER, PASSWORD))
    yield url
    app.close()


def _client(url: str, key: str = "sans-cle") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=60)


def test_the_openai_client_gets_a_cited_answer(server):
    _, url = server
    completion = _client(url).chat.completions.create(
        model=MODEL_ID,
        messages=[{"role": "system", "content": "Réponds en français."}, {"role": "user", "content": QUESTION}],
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert "Aiwanger" in choice.message.content and "[1]" in choice.message.content
    citations = completion.model_extra["citations"]
    assert [c["index"] for c in citations] == [1]
    cited = citations[0]
    assert cited["doc_id"] == "2025-03-27-openai-munich" and cited["date"] == "2025-03-27"
    assert cited["title"] and cited["source"].endswith(".txt") and "Aiwanger" in cited["text"]
    assert completion.model == MODEL_ID and completion.id.startswith("chatcmpl-")


def test_the_dates_searched_and_the_sources_dates_come_with_the_answer(server):
    _, url = server
    client = _client(url)
    dated = client.chat.completions.create(
        model=MODEL_ID, messages=[{"role": "user", "content": QUESTION.replace(" ?", " en mars 2025 ?")}]
    )
    content = dated.choices[0].message.content
    assert content.startswith("Articles de mars 2025\n\n")
    assert content.endswith("Selon l'article du 27 mars 2025 [1].")
    empty = client.chat.completions.create(
        model=MODEL_ID, messages=[{"role": "user", "content": QUESTION.replace(" ?", " en février 2023 ?")}]
    )
    refusal = "Articles de février 2023\n\nAucun article du corpus n'est daté de février 2023."
    assert empty.choices[0].message.content == refusal
    assert empty.model_extra["citations"] == []


def test_a_stream_carries_the_same_checked_answer_and_its_citations_at_the_end(server):
    _, url = server
    client = _client(url)
    messages = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model=MODEL_ID, messages=messages)
    chunks = list(client.chat.completions.create(model=MODEL_ID, messages=messages, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == whole.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.model_extra["citations"] == whole.model_extra["citations"]
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks[:-1])
    assert all("citations" not in (chunk.model_extra or {}) for chunk in chunks[:-1])


def test_a_raw_stream_is_server_sent_events_ending_with_done(server):
    _, url = server
    body = {"model": MODEL_ID, "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=60) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in events) and events[-1] == "data: [DONE]"
    assert json.loads(events[-2][6:])["citations"][0]["doc_id"] == "2025-03-27-openai-munich"


def test_earlier_user_turns_make_a_follow_up_as_in_the_chat(server):
    context, url = server
    first = "Dans quelle ville OpenAI va-t-elle ouvrir un bureau en Allemagne ?"
    follow_up = "Et qui l'a saluée ?"
    _client(url).chat.completions.create(
        model=MODEL_ID,
        messages=[
            {"role": "user", "content": first},
            {"role": "assistant", "content": "Munich [1]."},
            {"role": "user", "content": [{"type": "text", "text": follow_up}]},
        ],
    )
    searched = context.pipeline.retriever.searched[-1]
    assert searched == standalone_question(follow_up, [first]) and searched != follow_up


def test_models_lists_and_retrieves_depeche(server):
    _, url = server
    client = _client(url)
    assert [model.id for model in client.models.list()] == [MODEL_ID]
    assert client.models.retrieve(MODEL_ID).id == MODEL_ID
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def _error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and "\n" not in error["message"]
    return error


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": MODEL_ID}, 400, "messages"),
        ({"model": MODEL_ID, "messages": []}, 400, "messages"),
        ({"model": MODEL_ID, "messages": "Bonjour"}, 400, "messages"),
        ({"model": MODEL_ID, "messages": [{"role": "assistant", "content": "Munich."}]}, 400, "messages"),
        ({"model": MODEL_ID, "messages": [{"role": "user", "content": 42}]}, 400, "messages[0].content"),
        ({"model": MODEL_ID, "messages": [{"role": "chef", "content": "Qui ?"}]}, 400, "messages[0].role"),
        ({"model": MODEL_ID, "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, 400,
         "messages[0].content"),
        ({"model": MODEL_ID, "stream": "oui", "messages": [{"role": "user", "content": "Qui ?"}]}, 400, "stream"),
        ({"model": MODEL_ID, "n": 3, "messages": [{"role": "user", "content": "Qui ?"}]}, 400, "n"),
        ({"messages": [{"role": "user", "content": "Qui ?"}]}, 400, "model"),
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": "Qui ?"}]}, 404, "model"),
        ({"model": MODEL_ID, "messages": [{"role": "user", "content": "  ?? "}]}, 400, "messages"),
        ({"model": MODEL_ID, "messages": [{"role": "user", "content": "mot " * 1000}]}, 400, "messages"),
        ([1, 2], 400, None),
    ],
)  # fmt: skip
def test_bad_requests_get_openai_error_objects(server, body, status, param):
    _, url = server
    error = _error(httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30), status)
    assert error["param"] == param and error["type"] == "invalid_request_error"


def test_malformed_huge_or_misrouted_requests_get_openai_error_objects(server):
    _, url = server
    post = f"{url}/v1/chat/completions"
    assert "JSON" in _error(httpx.post(post, content=b"{pas du json", timeout=30), 400)["message"]
    assert _error(httpx.post(post, content=b"\xff\xfe{}", timeout=30), 400)
    huge = {"model": MODEL_ID, "messages": [{"role": "user", "content": "x" * (MAX_BODY_BYTES + 10)}]}
    assert _error(httpx.post(post, json=huge, timeout=30), 413)["code"] == "request_too_large"
    assert _error(httpx.get(post, timeout=30), 405)
    assert _error(httpx.post(f"{url}/v1/completions", json={}, timeout=30), 404)
    with pytest.raises(openai.BadRequestError):
        _client(url).chat.completions.create(model=MODEL_ID, messages=[{"role": "assistant", "content": "Munich."}])


def test_with_a_login_the_password_is_the_api_key(secured):
    with pytest.raises(openai.AuthenticationError):
        _client(secured, key="faux").chat.completions.create(
            model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}]
        )
    assert _error(httpx.get(f"{secured}/v1/models", timeout=30), 401)["code"] == "invalid_api_key"
    completion = _client(secured, key=PASSWORD).chat.completions.create(
        model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}]
    )
    assert "Aiwanger" in completion.choices[0].message.content
    assert httpx.get(f"{secured}/config", timeout=30).status_code == 401  # the page still asks for the login


def test_a_password_with_accents_works_as_a_key_sent_in_utf8(index):
    client = _local(_context(index, FakeGenerator()), password="clé-très-secrète")
    raw = [(b"authorization", "Bearer clé-très-secrète".encode())]  # what curl sends
    assert client.get("/v1/models", headers=raw).status_code == 200
    assert client.get("/v1/models", headers=[(b"authorization", b"Bearer cle-tres-secrete")]).status_code == 401


def _local(context: AppContext, **kwargs) -> TestClient:
    api = OpenAIApi(context, **kwargs)
    return TestClient(Starlette(routes=[api.mount()]), raise_server_exceptions=False)


def test_a_client_that_keeps_giving_a_wrong_key_waits(index):
    now = [100.0]
    context = _context(index, FakeGenerator(("Hubert", " Aiwanger.")))
    throttle = FailureThrottle(free_attempts=2, max_lockout_s=8, clock=lambda: now[0])
    client = _local(context, password=PASSWORD, throttle=throttle)
    wrong = {"Authorization": "Bearer faux"}
    assert [client.get("/v1/models", headers=wrong).status_code for _ in range(2)] == [401, 401]
    locked = client.get("/v1/models", headers={"Authorization": f"Bearer {PASSWORD}"})
    assert locked.status_code == 429 and locked.headers["retry-after"] == "1"
    now[0] += 1
    assert client.get("/v1/models", headers={"Authorization": f"Bearer {PASSWORD}"}).status_code == 200


def test_a_full_gate_answers_429_at_once_and_the_chat_shares_it(index):
    context = _context(index, FakeGenerator(("Hubert", " Aiwanger.")), concurrency=1, queue_depth=0)
    client = _local(context)
    body = {"model": MODEL_ID, "messages": [{"role": "user", "content": QUESTION}]}
    holding, release = threading.Event(), threading.Event()

    def hold():
        with context.gate().slot():  # a chat answer being computed
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)
    try:
        assert _error(client.post("/v1/chat/completions", json=body), 429)["code"] == "server_busy"
        assert _error(client.post("/v1/chat/completions", json={**body, "stream": True}), 429)
    finally:
        release.set()
        thread.join()
    assert client.post("/v1/chat/completions", json=body).status_code == 200


class FailingGenerator(FakeGenerator):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def stream(self, prompt):
        raise self.error
        yield  # a generator


def test_a_model_failure_is_one_line_and_a_bug_is_never_a_traceback(index):
    failing = _local(_context(index, FailingGenerator(GenerationError("Le modèle a dépassé 120 s."))))
    body = {"model": MODEL_ID, "messages": [{"role": "user", "content": QUESTION}]}
    assert _error(failing.post("/v1/chat/completions", json=body), 503)["message"] == "Le modèle a dépassé 120 s."
    streamed = failing.post("/v1/chat/completions", json={**body, "stream": True})
    events = [line for line in streamed.text.splitlines() if line]
    assert json.loads(events[-1][6:])["error"]["message"] == "Le modèle a dépassé 120 s."
    buggy = _local(_context(index, FailingGenerator(RuntimeError("secret interne"))))
    error = _error(buggy.post("/v1/chat/completions", json=body), 500)
    assert error["type"] == "server_error" and "secret" not in error["message"]
    streamed = buggy.post("/v1/chat/completions", json={**body, "stream": True})
    assert "secret" not in streamed.text and '"server_error"' in streamed.text


@pytest.fixture(scope="module")
def reading_server(index):
    """The API over a pipeline with the reader (scripted): open questions take the open path."""
    from rag.answer.checking import AnswerChecker
    from rag.answer.reading import ReadingAnswerer
    from tests.fakes import FakeReader

    context = _context(index, FakeGenerator(("Texte", ".")))
    checker = AnswerChecker()
    reading = ReadingAnswerer(FakeReader("Munich", every_sentence=True), None, checker, min_confidence=0.5)
    context.pipeline.reading, context.pipeline.checker = reading, checker
    app, url = _serve(context, None)
    yield url
    app.close()


def test_an_open_question_gets_the_quoted_sentences_and_each_ones_passage(reading_server):
    completion = _client(reading_server).chat.completions.create(
        model=MODEL_ID, messages=[{"role": "user", "content": "Résume l'article sur Munich."}]
    )
    content = completion.choices[0].message.content
    quotes = [line for line in content.splitlines() if line.startswith("- « ")]
    assert content.startswith("Selon les articles :") and len(quotes) >= 2, content
    citations = {c["index"]: c for c in completion.model_extra["citations"]}
    for line in quotes:
        sentence, marker = line[len("- « ") :].rsplit(" » [", 1)
        assert sentence in citations[int(marker.rstrip("]"))]["text"]  # word for word from the passage it cites
