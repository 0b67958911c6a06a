"""The soak (eval.bench.soak) on a served chat with fakes: every answer counted, memory read at each
checkpoint, and a crowd loading the page."""

from __future__ import annotations

import os

from eval.bench.concurrency import serve
from eval.bench.soak import format_report, growth, page_burst, rss_mb, soak
from index.build import build_index
from rag.pipeline import Pipeline
from rag.search.retrieval import DenseRetriever
from rag.store.live import LiveIndex
from tests.conftest import SEEDS
from tests.fakes import FakeGenerator


def test_a_short_soak_and_a_page_crowd_on_the_served_chat(settings, fake_embedder):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    store = LiveIndex(settings.index_dir, embed_model=fake_embedder.name)
    pipeline = Pipeline(DenseRetriever(store, fake_embedder), FakeGenerator(("Hubert", " Aiwanger.")), top_k=3)
    app, url = serve(pipeline, settings=settings)
    try:
        pages = page_burst(url, clients=6, loads=2)
        questions = ["Quel ministre a salué l'arrivée d'OpenAI ?", "", "Où OpenAI ouvre-t-elle un bureau ?"] * 4
        run = soak(url, questions, every=5, pids={"app": os.getpid(), "model": None}, timeout=60)
    finally:
        app.close()
    assert pages["loads"] == 12 and pages["errors"] == [] and pages["max_s"] > 0
    assert [c["questions"] for c in run["checkpoints"]] == [0, 5, 10, 12]
    assert all(c["app"] > 50 for c in run["checkpoints"])  # MB: this Python process
    assert [f.split(":")[0] for f in run["failures"]] == ["2", "5", "8", "11"]  # the empty questions
    report = format_report({"model": "fake", "pages": pages, "soak": run, "growth": {"app": 0.0, "model": None}})
    assert "| 12 |" in report and "4 échec(s)" in report


def test_growth_is_measured_after_the_warm_up_and_a_dead_process_has_no_rss():
    checkpoints = [{"questions": 0, "app": 100.0}, {"questions": 100, "app": 300.0}, {"questions": 200, "app": 304.5}]
    assert growth(checkpoints, "app") == 4.5 and growth(checkpoints, "model") is None
    assert rss_mb(os.getpid()) > 0 and rss_mb(None) is None and rss_mb(2**22 + 12345) is None
