"""Several users at once: through the chat app's API, each gets its own whole answer.

The integration test serves the real chat (models, hybrid search over the seeds, Gradio's
queue) and has 8 clients, each in its own thread, ask a different question at the same
moment; the model answers one at a time (its lock), so the last waits for the others.
"""

from __future__ import annotations

import pytest

from eval.bench.concurrency import (
    Burst,
    ClientResult,
    format_report,
    is_complete,
    measure,
    reply_text,
    seed_pipeline,
    seed_questions,
)
from rag.config import Settings

CLIENTS = 8
TIMEOUT = 300.0  # per answer; 8 answers one after the other take about 10-30 s on a laptop


def test_reply_text_takes_the_answer_out_of_any_output_shape():
    assert reply_text("Munich [1].") == "Munich [1]."
    assert reply_text(("", "Munich [1].\n\n**Sources**", None)) == "Munich [1].\n\n**Sources**"
    chat = [{"role": "user", "content": "Où ?"}, {"role": "assistant", "content": "À Munich [1], en Bavière."}]
    assert reply_text(("", chat)) == "À Munich [1], en Bavière."
    assert reply_text(None) == ""


def test_an_error_or_an_empty_reply_is_not_a_complete_answer():
    assert is_complete("Je ne trouve pas cette information dans les documents.")
    assert not is_complete("   ") and not is_complete("⚠️ La question est vide : écrivez une question.")
    burst = Burst([ClientResult(1, "Q ?", "R.", 1.0), ClientResult(2, "Q ?", "", 3.0, "TimeoutError: ")], 3.0, 1.0)
    assert not burst.all_complete
    summary = burst.summary()
    assert summary["complete"] == 1 and summary["max_s"] == 3.0 and summary["p50_s"] == 2.0


def test_seed_questions_are_different_answerable_standalone_questions():
    questions = seed_questions(CLIENTS)
    assert len(questions) == len(set(questions)) == CLIENTS
    assert len(seed_questions(200)) == 200  # repeated when more are asked than the set has


@pytest.fixture(scope="module")
def chat_settings(tmp_path_factory) -> Settings:
    return Settings.from_env().with_(home=tmp_path_factory.mktemp("concurrency-home"))


@pytest.fixture(scope="module")
def chat_pipeline(chat_settings):
    """The chat's own pipeline (live index, hybrid search, answer check) over the seeds."""
    return seed_pipeline(chat_settings)


@pytest.mark.integration
def test_eight_clients_at_once_each_get_their_own_whole_answer(chat_pipeline, chat_settings, capsys):
    questions = seed_questions(CLIENTS)
    # Each question alone first: decoding is greedy, so a client must get exactly this answer
    # (not a neighbour's, nor a mix): the answers under load are compared with these.
    alone = [chat_pipeline.answer(question).text for question in questions]

    burst = measure(chat_pipeline, questions, settings=chat_settings, timeout=TIMEOUT)
    with capsys.disabled():
        print("\n" + format_report(burst, chat_pipeline.generator.name))

    assert len(burst.clients) == CLIENTS
    for client, expected in zip(burst.clients, alone, strict=True):
        assert client.error is None, f"client {client.client}: {client.error}"
        assert client.complete, f"client {client.client}: {client.answer!r}"
        got = " ".join(client.answer.split())
        assert got.startswith(" ".join(expected.split())), f"client {client.client}: {got[:200]!r} ≠ {expected!r}"
    assert max(burst.latencies) < TIMEOUT
