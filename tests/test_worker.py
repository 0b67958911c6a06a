"""The model's process apart (rag.models.worker, rag.answer.generator_process): a crash, a kill or a
generation that never ends costs one question, never the app."""

from __future__ import annotations

import os
import signal
import time

import pytest

from index.build import build_index
from rag.answer.generator_process import GenerationError, ProcessGenerator
from rag.answer.prompting import Prompt
from rag.errors import ModelLoadError
from rag.models.worker import RemoteError, Spec, Worker, WorkerFailure
from rag.pipeline import Pipeline
from rag.search.retrieval import DenseRetriever
from rag.store.embedded import IndexStore
from tests.conftest import SEEDS

TARGET = "tests.worker_targets:ServedGenerator"
PROMPT = Prompt("Question : où ?\nRéponse :")


def served(*, timeout_s: float = 30.0, **kwargs) -> ProcessGenerator:
    return ProcessGenerator(Spec(TARGET, kwargs=kwargs), timeout_s=timeout_s)


@pytest.fixture
def generator():
    generator = served()
    yield generator
    generator.close()


def test_the_model_answers_from_its_own_process(generator):
    assert generator.name == "served-fake"
    assert list(generator.stream(PROMPT)) == ["Munich", " [1]", "."]
    assert generator.fits(PROMPT) is True
    assert generator.choose("«  »", ["Oui", "Non"]) == {"Oui": 0.5, "Non": 0.5}
    assert generator.worker.call("pid", timeout_s=5) not in (None, os.getpid())
    # What the process boundary costs, per request, is measured.
    assert len(generator.overheads) == 4 and max(generator.overheads) < 1.0


def test_a_worker_killed_mid_answer_costs_that_answer_only(generator):
    first = generator.worker.pid
    pieces = generator.stream(PROMPT)
    assert next(pieces) == "Munich"
    os.kill(first, signal.SIGKILL)
    with pytest.raises(GenerationError, match=r"Le modèle de langue s'est arrêté \(SIGKILL\).*posez la question"):
        list(pieces)
    # Restarted at once: the next question is answered, by a new process.
    assert list(generator.stream(PROMPT)) == ["Munich", " [1]", "."]
    assert generator.worker.pid != first and generator.worker.starts == 2


def test_a_generation_that_never_ends_is_stopped_at_its_time_limit():
    generator = served(timeout_s=1.0, endless=True, pause_s=0.01)
    try:
        started = time.monotonic()
        received = []
        with pytest.raises(GenerationError, match=r"n'a pas fini en 1 s.*il redémarre"):
            for piece in generator.stream(PROMPT):
                received.append(piece)
        assert 1.0 <= time.monotonic() - started < 10 and len(received) > 10  # it streamed until then
        assert generator.worker.starts == 2  # killed and restarted
        assert generator.fits(PROMPT) is True  # and the next request is served
    finally:
        generator.close()


def test_a_stream_closed_early_is_cancelled_and_the_process_kept(generator):
    endless = served(endless=True, pause_s=0.001)
    try:
        pieces = endless.stream(PROMPT)
        assert [next(pieces) for _ in range(5)] == ["Munich", " [1]", ".", "Munich", " [1]"]
        pieces.close()  # what the pipeline does when the draft starts looping
        assert endless.worker.call("stream_count", timeout_s=5) == 1
        assert endless.worker.starts == 1
    finally:
        endless.close()


def test_a_model_that_does_not_load_says_why_in_the_app():
    with pytest.raises(ModelLoadError, match="modèle x.gguf impossible : fichier tronqué"):
        ProcessGenerator(Spec("tests.worker_targets:unloadable", ("x.gguf",)), timeout_s=5)


def test_a_process_that_dies_while_loading_is_one_line():
    worker = Worker(Spec("tests.worker_targets:crashing"), what="Le modèle de langue")
    try:
        with pytest.raises(WorkerFailure, match=r"Le modèle de langue s'est arrêté \(SIGABRT\)"):
            worker.wait_ready()
    finally:
        worker.stop()


def test_errors_in_the_child_come_back_and_the_child_lives_on(generator):
    pid = generator.worker.pid
    with pytest.raises(RemoteError, match="KeyError: 'pas de clé'"):
        generator.worker.call("fail", timeout_s=5)
    with pytest.raises(WorkerFailure, match="SIGSEGV"):
        generator.worker.call("segfault", timeout_s=5)
    assert generator.worker.pid != pid
    assert list(generator.stream(PROMPT))[0] == "Munich"


def test_the_child_memory_limit_fails_the_request_not_the_app():
    worker = Worker(Spec(TARGET, memory_mb=1024), what="Le lecteur")
    try:
        with pytest.raises(RemoteError, match="MemoryError"):
            worker.call("allocate", 2048, timeout_s=30)
        assert worker.call("allocate", 10, timeout_s=30) == 10 * 1024 * 1024
        assert worker.starts == 1
    finally:
        worker.stop()


def test_the_child_leaves_when_the_app_is_gone(generator):
    process = generator.worker._process
    generator.worker._send.close()  # as when the app's process dies: its pipe ends close
    generator.worker._recv.close()
    assert process.wait(timeout=10) == 0


def test_the_pipeline_turns_a_dead_model_into_one_line_and_answers_the_next(settings, fake_embedder):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    store = IndexStore.open(settings.index_dir, embed_model=fake_embedder.name)
    generator = served(pause_s=0.2)
    try:
        pipeline = Pipeline(DenseRetriever(store, fake_embedder), generator, top_k=2)
        question = "Dans quelle ville OpenAI va-t-elle ouvrir un bureau en Allemagne ?"
        stream = pipeline.ask(question)
        pieces = iter(stream)
        next(pieces)
        os.kill(generator.worker.pid, signal.SIGKILL)
        with pytest.raises(GenerationError):
            list(pieces)
        assert "Munich" in pipeline.answer(question).text
    finally:
        generator.close()


def test_a_model_not_waited_for_loads_behind_and_its_first_use_waits():
    generator = ProcessGenerator(Spec(TARGET), timeout_s=30.0, wait=False)
    try:
        assert generator.worker.info is None  # returned before the model said it was loaded
        assert generator.name  # the first use waits for it
        assert generator.worker.info is not None
    finally:
        generator.close()


def test_a_model_not_waited_for_that_does_not_load_fails_at_its_first_use():
    generator = ProcessGenerator(Spec("tests.worker_targets:unloadable", ("x.gguf",)), timeout_s=5, wait=False)
    with pytest.raises(ModelLoadError, match="x.gguf"):
        generator.wait_ready()
