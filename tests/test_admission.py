"""Past its queue depth the chat answers «serveur occupé» at once (ui.admission)."""

from __future__ import annotations

import threading
import time

import pytest

from index.build import build_index
from rag.pipeline import Pipeline
from rag.search.retrieval import DenseRetriever
from rag.store.live import LiveIndex
from tests.conftest import SEEDS
from tests.fakes import FakeGenerator
from ui.admission import Admission, ServerBusyError
from ui.chat import ChatActions
from ui.session import AppContext

QUESTION = "Quel ministre bavarois de l'Économie a salué l'arrivée d'OpenAI ?"


def test_answers_wait_their_turn_up_to_the_depth_then_are_refused_at_once():
    admission = Admission(concurrency=1, queue_depth=1)
    release, order = threading.Event(), []

    def answer(name: str) -> None:
        with admission.slot():
            order.append(name)
            release.wait(10)

    first = threading.Thread(target=answer, args=("premier",))
    first.start()
    while admission.admitted < 1:
        time.sleep(0.01)
    second = threading.Thread(target=answer, args=("second",))
    second.start()
    while admission.admitted < 2:
        time.sleep(0.01)
    assert order == ["premier"] and admission.waiting == 1  # the second waits
    started = time.monotonic()
    with pytest.raises(ServerBusyError, match=r"Serveur occupé : 1 question\(s\) déjà en attente. Réessayez"):
        with admission.slot():
            pass
    assert time.monotonic() - started < 0.5 and admission.refused == 1
    release.set()
    first.join(10), second.join(10)
    assert order == ["premier", "second"] and admission.admitted == 0
    with admission.slot():  # room again
        pass


class SlowGenerator(FakeGenerator):
    def __init__(self, gate: threading.Event) -> None:
        super().__init__(("Hubert", " Aiwanger."))
        self.gate = gate

    def stream(self, prompt):
        self.gate.wait(10)
        yield from super().stream(prompt)


def test_the_chat_says_busy_at_once_and_answers_the_admitted(settings, fake_embedder):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    gate = threading.Event()
    pipeline = Pipeline(DenseRetriever(LiveIndex(settings.index_dir, embed_model=fake_embedder.name), fake_embedder),
                        SlowGenerator(gate), top_k=3, reading=None)  # fmt: skip
    context = AppContext.of(pipeline, settings.with_(chat_concurrency=1, queue_depth=0))
    actions = ChatActions(context)
    busy_session, session = context.new_session(), context.new_session()
    finals = []
    answering = threading.Thread(target=lambda: finals.append(list(actions.respond(QUESTION, [], session))[-1]))
    answering.start()
    while actions.admission.admitted < 1:
        time.sleep(0.01)
    started = time.monotonic()
    _, chat, _, _ = list(actions.respond(QUESTION, [], busy_session))[-1]
    assert time.monotonic() - started < 1.0
    assert chat[-1]["content"].startswith("⚠️ Serveur occupé") and not busy_session.turns
    assert actions.api_answer(QUESTION).startswith("⚠️ Serveur occupé")
    gate.set()
    answering.join(10)
    assert "Aiwanger" in finals[0][1][-1]["content"] and actions.admission.admitted == 0
