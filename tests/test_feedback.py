"""Readers' 👍/👎: stored with the answer and its citations, exported as gold-set candidates."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from eval.gold import load_gold_jsonl
from rag.answer.prompting import REFUSAL
from rag.config import PROJECT_ROOT, Settings
from rag.errors import DocumentError
from rag.pipeline import Answer
from rag.store.feedback import FeedbackEntry, FeedbackStore, without_markers
from rag.store.records import Passage

MUNICH = Passage(
    11,
    "2025-03-27-openai-munich",
    "OpenAI à Munich",
    "2025-03-27",
    "seeds/munich.txt",
    120,
    300,
    "OpenAI va ouvrir un bureau à Munich, a annoncé l'entreprise.",
)
AIWANGER = Passage(
    12,
    "2025-03-27-openai-munich",
    "OpenAI à Munich",
    "2025-03-27",
    "seeds/munich.txt",
    300,
    480,
    "Le ministre bavarois de l'Économie, Hubert Aiwanger, a salué l'arrivée de l'entreprise.",
)
PARIS = Passage(
    21,
    "2024-10-openai-paris",
    "OpenAI à Paris",
    None,
    "seeds/paris.pdf",
    0,
    200,
    "OpenAI ouvre son premier bureau en Europe continentale à Paris.",
    page=2,
)


def make_answer(
    text="OpenAI ouvrira un bureau à Munich [2]. Hubert Aiwanger l'a salué [3].",
    citations=(2, 3),
    refused=False,
    question="Où OpenAI ouvrira-t-elle un bureau ?",
    search_question="",
) -> Answer:
    return Answer(
        question=question,
        text=text,
        passages=[PARIS, MUNICH, AIWANGER],
        citations=list(citations),
        refused=refused,
        first_token_s=0.1,
        total_s=1.0,
        search_question=search_question or question,
    )


@pytest.fixture
def store(tmp_path):
    with FeedbackStore.open(tmp_path / "feedback.sqlite") as opened:
        yield opened


def test_settings_keep_feedback_beside_the_index(tmp_path):
    settings = Settings.from_env().with_(home=tmp_path)
    assert settings.feedback_db == tmp_path / "feedback.sqlite"
    assert settings.feedback_db.parent == settings.index_dir.parent


def test_entry_from_an_answer_carries_its_cited_passages():
    entry = FeedbackEntry.from_answer(make_answer(), 1, history=["Qui est OpenAI ?"], model="gemma", comment="ok")
    assert entry.question == "Où OpenAI ouvrira-t-elle un bureau ?"
    assert entry.answer.endswith("[3].") and entry.rating == 1 and not entry.refused
    assert [c["number"] for c in entry.citations] == [2, 3]
    first = entry.citations[0]
    assert first == {
        "number": 2,
        "doc_id": "2025-03-27-openai-munich",
        "title": "OpenAI à Munich",
        "date": "2025-03-27",
        "source": "seeds/munich.txt",
        "location": "caractère 120",
        "text": MUNICH.text,
    }
    assert entry.history == ["Qui est OpenAI ?"] and entry.model == "gemma" and entry.comment == "ok"
    assert entry.search_question == entry.question
    assert entry.created_at == "" and entry.id is None


def test_entry_from_a_refusal_or_an_answer_without_citations():
    refusal = FeedbackEntry.from_answer(make_answer(text=REFUSAL, citations=(), refused=True), -1)
    assert refusal.refused and refusal.citations == []

    class Bare:  # an answer-like object with no citation list at all
        question, text, refused, citations, passages = "Q ?", "R.", False, None, None

    assert FeedbackEntry.from_answer(Bare(), 1).citations == []


def test_record_and_entries_round_trip(store, tmp_path):
    paged = make_answer(text="À Paris [1].", citations=(1,), question="Où est le premier bureau ?")
    first = store.record(FeedbackEntry.from_answer(make_answer(), 1, model="gemma"))
    second = store.record(FeedbackEntry.from_answer(paged, -1, history=["Et OpenAI ?"], comment="faux"))
    assert second > first

    entries = store.entries()
    assert [e.id for e in entries] == [first, second]
    up, down = entries
    original = FeedbackEntry.from_answer(make_answer(), 1, model="gemma")
    assert up.question == original.question and up.answer == original.answer
    assert up.citations == original.citations and up.search_question == original.search_question
    assert up.rating == 1 and up.model == "gemma" and [c["doc_id"] for c in up.citations] == [MUNICH.doc_id] * 2
    assert down.rating == -1 and down.history == ["Et OpenAI ?"] and down.comment == "faux"
    assert down.citations[0]["location"] == "p. 2" and down.citations[0]["date"] is None
    created = dt.datetime.fromisoformat(up.created_at)
    assert created.tzinfo is not None and created.utcoffset() == dt.timedelta(0)
    assert store.count() == (1, 1)

    # A recorded date is kept; the file outlives the connection.
    store.record(FeedbackEntry("Q ?", "R.", 1, created_at="2025-01-02T03:04:05+00:00"))
    store.close()
    with FeedbackStore.open(tmp_path / "feedback.sqlite") as reopened:
        assert reopened.count() == (2, 1)
        assert reopened.entries()[-1].created_at == "2025-01-02T03:04:05+00:00"


@pytest.mark.parametrize("rating", [0, 2, -2, True, False, "1", None, 0.5])
def test_only_plus_or_minus_one_is_a_rating(rating, store):
    with pytest.raises(ValueError):
        FeedbackEntry("Q ?", "R.", rating)
    with pytest.raises(ValueError):
        FeedbackEntry.from_answer(make_answer(), rating)
    row = store.record(FeedbackEntry("Q ?", "R.", 1))
    with pytest.raises(ValueError):
        store.update_rating(row, rating)
    assert store.count() == (1, 0)


def test_a_rating_can_be_changed_or_taken_back(store):
    row = store.record(FeedbackEntry.from_answer(make_answer(), 1))
    other = store.record(FeedbackEntry.from_answer(make_answer(), 1))
    assert store.update_rating(row, -1)
    assert store.count() == (1, 1)
    assert store.retract(row)
    assert store.count() == (1, 0) and [e.id for e in store.entries()] == [other]
    assert not store.retract(row) and not store.update_rating(row, 1)  # already gone


def test_sixteen_threads_record_at_once(store):
    threads, per_thread = 16, 25
    barrier = threading.Barrier(threads)
    ids: list[int] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                rating = 1 if (n + i) % 2 else -1
                entry = FeedbackEntry.from_answer(make_answer(question=f"Question {n}-{i} ?"), rating)
                ids.append(store.record(entry))
                store.count()
        except BaseException as error:  # noqa: B036 - reported below
            errors.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not errors, errors
    assert len(ids) == len(set(ids)) == threads * per_thread
    entries = store.entries()
    assert len({e.question for e in entries}) == threads * per_thread
    assert sum(store.count()) == threads * per_thread
    assert all(len(e.citations) == 2 for e in entries)


def test_export_writes_gold_candidates(store, tmp_path):
    liked = store.record(FeedbackEntry.from_answer(make_answer(), 1, model="gemma"))
    disliked = store.record(
        FeedbackEntry.from_answer(make_answer(), -1, history=["Qui est OpenAI ?"], comment="Pas le bon bureau")
    )
    refusal = make_answer(text=REFUSAL, citations=(), refused=True, question="Quel âge a Sam Altman ?")
    agreed = store.record(FeedbackEntry.from_answer(refusal, 1))

    out = tmp_path / "out" / "feedback.jsonl"
    assert store.export(out) == 3
    lines = out.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["id"] for r in rows] == [f"feedback-{liked}", f"feedback-{disliked}", f"feedback-{agreed}"]
    for row in rows:
        assert {"id", "question", "history", "kind", "answerable", "answer", "doc_ids", "support"} <= set(row)
        assert {"rating", "answer", "citations", "created_at", "comment"} <= set(row["feedback"])

    up, down, unanswerable = rows
    # 👍: the answer (without markers) and the cited passages are candidates for the gold set.
    assert up["answerable"] is True and up["needs_review"] is False and up["kind"] == "feedback"
    assert up["answer"] == "OpenAI ouvrira un bureau à Munich. Hubert Aiwanger l'a salué."
    assert up["doc_ids"] == ["2025-03-27-openai-munich"]
    assert up["support"] == [MUNICH.text, AIWANGER.text]
    assert up["history"] == [] and up["feedback"]["rating"] == 1 and up["feedback"]["model"] == "gemma"
    assert up["feedback"]["answer"].endswith("[3].")
    assert [c["number"] for c in up["feedback"]["citations"]] == [2, 3]
    # 👎: flagged for review; no gold answer invented.
    assert down["answerable"] is None and down["needs_review"] is True
    assert down["answer"] == "" and down["doc_ids"] == [] and down["support"] == []
    assert down["kind"] == "followup" and down["history"] == ["Qui est OpenAI ?"]
    assert down["feedback"]["rating"] == -1 and down["feedback"]["comment"] == "Pas le bon bureau"
    assert len(down["feedback"]["citations"]) == 2  # what was shown is kept for the reviewer
    # 👍 on a refusal: the reader agreed the corpus does not say.
    assert unanswerable["answerable"] is False and unanswerable["kind"] == "unanswerable"
    assert unanswerable["answer"] == "" and unanswerable["support"] == []

    # The reviewed candidates load as gold items; a 👎 line must be reviewed first.
    gold = tmp_path / "gold.jsonl"
    gold.write_text(lines[0] + "\n" + lines[2] + "\n", encoding="utf-8")
    items = load_gold_jsonl(gold)
    assert items[0].answerable and items[0].doc_ids == ("2025-03-27-openai-munich",)
    assert not items[1].answerable
    gold.write_text(lines[1] + "\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="à relire"):
        load_gold_jsonl(gold)


def test_without_markers():
    assert without_markers("Munich [1]. Paris [2, 3] et Berlin [ 4 ].") == "Munich. Paris et Berlin."


def test_an_unreadable_database_is_a_clear_error(tmp_path):
    from rag.errors import DepecheError

    path = tmp_path / "feedback.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DepecheError, match="base d'avis"):
        FeedbackStore.open(path)


def _eval_feedback(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEPECHE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "eval", "feedback", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_counts_and_exports(tmp_path):
    home = tmp_path / "home"
    with FeedbackStore.open(Settings.from_env().with_(home=home).feedback_db) as store:
        store.record(FeedbackEntry.from_answer(make_answer(), 1))
        store.record(FeedbackEntry.from_answer(make_answer(), -1))
        store.record(FeedbackEntry.from_answer(make_answer(), 1))

    counted = _eval_feedback(home)
    assert counted.returncode == 0, counted.stderr
    assert "3 avis : 2 👍, 1 👎" in counted.stdout and "feedback.sqlite" in counted.stdout

    out = tmp_path / "export.jsonl"
    exported = _eval_feedback(home, "--export", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "3 avis : 2 👍, 1 👎" in exported.stdout and "3 avis exportés" in exported.stdout
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["feedback"]["rating"] for r in rows] == [1, -1, 1]


def test_cli_without_a_database_says_so(tmp_path):
    home = tmp_path / "empty-home"
    counted = _eval_feedback(home)
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.strip() == f"Aucun avis enregistré dans {home.resolve() / 'feedback.sqlite'}."

    out = tmp_path / "export.jsonl"
    exported = _eval_feedback(home, "--export", str(out))
    assert exported.returncode == 1
    assert exported.stderr.strip().startswith("Aucun avis enregistré dans") and "rien à exporter" in exported.stderr
    assert not out.exists() and not (home / "feedback.sqlite").exists()
