"""The hand-made gold questions over the two seed articles stay well-formed and grounded.

Each support passage must be an exact substring of the body of one of the question's
documents, so a change in the seeds (or in how their header is parsed) shows up here.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache

import pytest

from rag.config import PROJECT_ROOT
from rag.sources.files import read_document

GOLD = PROJECT_ROOT / "eval" / "gold" / "seeds.jsonl"
SEEDS = PROJECT_ROOT / "seeds"
KEYS = {"id", "question", "answer", "answerable", "doc_ids", "support", "kind"}
FOLLOWUP_KEYS = KEYS | {"history"}  # a follow-up also lists the conversation's earlier questions
MIN_PER_KIND = {
    "fact": 10,
    "cross": 4,
    "date": 4,
    "meta": 4,
    "paraphrase": 5,
    "yesno": 4,
    "list": 3,
    "unanswerable": 12,
    "followup": 8,
}
# Questions answered from an article's metadata (publication date, rubric) have no passage.
METADATA_KINDS = {"date", "meta"}
MAX_SUPPORT_CHARS = 320


@cache
def rows() -> list[dict]:
    lines = GOLD.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@cache
def bodies() -> dict[str, str]:
    documents = (read_document(path) for path in sorted(SEEDS.glob("*.txt")))
    return {document.doc_id: document.body for document in documents}


def ids() -> list[str]:
    return [row["id"] for row in rows()]


def by_id(question_id: str) -> dict:
    return next(row for row in rows() if row["id"] == question_id)


def test_every_line_is_a_json_object_with_exactly_the_expected_keys() -> None:
    for number, line in enumerate(GOLD.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"ligne {number} vide"
        row = json.loads(line)
        assert isinstance(row, dict)
        expected = FOLLOWUP_KEYS if row.get("kind") == "followup" else KEYS
        assert set(row) == expected, f"ligne {number} : {sorted(set(row) ^ expected)}"


def test_ids_are_unique_and_numbered() -> None:
    assert len(ids()) == len(set(ids()))
    assert ids() == [f"seeds-{n:02d}" for n in range(1, len(ids()) + 1)]


def test_the_seed_documents_are_those_expected() -> None:
    assert set(bodies()) == {"2025-03-27-openai-munich", "2024-10-openai-paris"}


@pytest.mark.parametrize("question_id", ids())
def test_fields_have_the_right_types(question_id: str) -> None:
    row = by_id(question_id)
    assert row["kind"] in MIN_PER_KIND
    assert isinstance(row["question"], str) and row["question"].endswith(" ?")
    assert isinstance(row["answer"], str)
    assert isinstance(row["answerable"], bool)
    assert isinstance(row["doc_ids"], list) and all(isinstance(d, str) for d in row["doc_ids"])
    assert isinstance(row["support"], list) and all(isinstance(s, str) and s for s in row["support"])
    assert len(row["doc_ids"]) == len(set(row["doc_ids"]))


@pytest.mark.parametrize("question_id", ids())
def test_unanswerable_means_no_answer_no_document_no_support(question_id: str) -> None:
    row = by_id(question_id)
    unanswerable = not row["answerable"]
    assert unanswerable == (row["answer"] == "" and row["doc_ids"] == [] and row["support"] == [])
    if row["kind"] != "followup":  # a follow-up may be unanswerable too
        assert unanswerable == (row["kind"] == "unanswerable")


@pytest.mark.parametrize("question_id", ids())
def test_support_passages_are_exact_substrings_of_their_documents(question_id: str) -> None:
    row = by_id(question_id)
    for doc_id in row["doc_ids"]:
        assert doc_id in bodies(), f"{question_id} : document inconnu {doc_id}"
    for passage in row["support"]:
        assert len(passage) <= MAX_SUPPORT_CHARS, f"{question_id} : passage trop long"
        holders = [doc_id for doc_id in row["doc_ids"] if passage in bodies()[doc_id]]
        assert holders, f"{question_id} : passage introuvable : {passage!r}"
    if row["answerable"] and not row["support"]:
        assert row["kind"] in METADATA_KINDS, f"{question_id} : réponse sans passage"


@pytest.mark.parametrize("question_id", ids())
def test_every_document_of_a_question_supports_it(question_id: str) -> None:
    row = by_id(question_id)
    if not row["support"]:
        return
    for doc_id in row["doc_ids"]:
        assert any(passage in bodies()[doc_id] for passage in row["support"]), f"{question_id} : {doc_id}"


def test_cross_questions_need_both_articles() -> None:
    for row in rows():
        if row["kind"] == "cross":
            assert set(row["doc_ids"]) == set(bodies()), row["id"]


def test_follow_ups_have_one_or_two_earlier_questions() -> None:
    followups = [row for row in rows() if row["kind"] == "followup"]
    for row in followups:
        history = row["history"]
        assert isinstance(history, list) and 1 <= len(history) <= 2, row["id"]
        for question in history:
            assert isinstance(question, str) and question.strip(), f"{row['id']} : question précédente vide"
            assert question.endswith(" ?"), row["id"]
    assert sum(len(row["history"]) == 2 for row in followups) >= 2  # three-turn dialogues
    assert any(not row["answerable"] for row in followups)


def test_yes_no_answers_start_with_oui_or_non() -> None:
    for row in rows():
        if row["kind"] == "yesno":
            assert row["answer"].startswith(("Oui", "Non")), row["id"]


def test_counts_per_kind() -> None:
    counts = Counter(row["kind"] for row in rows())
    assert len(rows()) >= 40
    for kind, minimum in MIN_PER_KIND.items():
        assert counts[kind] >= minimum, f"{kind} : {counts[kind]} < {minimum}"
    metadata_dates = [row for row in rows() if row["kind"] == "date" and row["answerable"] and not row["support"]]
    assert len(metadata_dates) >= 2


def test_file_is_utf8_without_ascii_escapes() -> None:
    text = GOLD.read_text(encoding="utf-8")
    assert "\\u" not in text
    assert text.endswith("\n")
