import json

import pytest

from eval.gold import from_squad
from eval.metrics import contains_answer, first_hit, normalize_text, percentile, retrieval_scores
from eval.retrieval import format_table, run_benchmark
from eval.squad import load_squad


def test_normalize_text():
    assert normalize_text("L’Union  Européenne\n") == "l'union europeenne"
    assert contains_answer("Le bureau de l'Union européenne", ["union EUROPEENNE"])
    assert not contains_answer("Le bureau", ["Munich", ""])


def test_first_hit():
    assert first_hit([False, True, True]) == 2
    assert first_hit([False, False]) is None


def test_retrieval_scores_exact():
    # four questions: gold document first found at rank 1, 2, 4, never; answer at 1, 3, never, 12
    scores = retrieval_scores([1, 2, 4, None], [1, 3, None, 12])
    assert scores["doc@1"] == 0.25
    assert scores["doc@3"] == 0.5
    assert scores["doc@5"] == 0.75
    assert scores["doc@10"] == 0.75
    assert scores["ans@1"] == 0.25
    assert scores["ans@3"] == 0.5
    assert scores["ans@10"] == 0.5
    assert scores["mrr"] == pytest.approx((1 + 1 / 3) / 4)


def test_percentile():
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile([10.0, 20.0], 95) == pytest.approx(19.5)


@pytest.fixture
def tiny_squad(tmp_path):
    data = {
        "data": [
            {
                "title": "F100",
                "paragraphs": [
                    {
                        "context": "Le passeport se demande en mairie. Le délai est de trois semaines.",
                        "qas": [
                            {"id": "q1", "question": "Où demander un passeport ?", "answers": [{"text": "en mairie"}]},
                            {
                                "id": "q2",
                                "question": "Quel délai pour un passeport ?",
                                "answers": [{"text": "trois semaines"}],
                            },
                        ],
                    }
                ],
            },
            {
                "title": "F200",
                "paragraphs": [
                    {
                        "context": "La carte grise s'obtient en ligne sur le site de l'ANTS.",
                        "qas": [
                            {
                                "id": "q3",
                                "question": "Comment obtenir la carte grise ?",
                                "answers": [{"text": "en ligne"}],
                            }
                        ],
                    },
                    {"context": "Le permis de conduire se passe à 17 ans en conduite accompagnée."},
                ],
            },
        ]
    }
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_load_squad(tiny_squad):
    documents, questions = load_squad(tiny_squad)
    assert [d.doc_id for d in documents] == ["f100", "f200"]
    assert "permis de conduire" in documents[1].body
    assert [(q.qid, q.doc_id, q.answers) for q in questions] == [
        ("q1", "f100", ("en mairie",)),
        ("q2", "f100", ("trois semaines",)),
        ("q3", "f200", ("en ligne",)),
    ]


def test_benchmark_scores_each_mode(tiny_squad, settings, fake_embedder):
    documents, questions = load_squad(tiny_squad)
    result = run_benchmark(documents, from_squad(questions), settings, fake_embedder, alphas=[0.3], progress=False)
    assert set(result.results) == {"hybrid", "dense", "bm25", "hybrid α=0.3"}
    assert result.chunks == 2 and result.index_seconds > 0
    for metrics in result.results.values():
        assert metrics["doc@10"] == 1.0  # two documents: always among the top 10
        assert 0 <= metrics["ans@1"] <= metrics["ans@10"] <= 1
        assert metrics["p50_ms"] > 0
    assert result.results["bm25"]["doc@1"] == 1.0  # the words match exactly
    payload = result.as_json()
    assert set(payload) == {"chunks", "index_seconds", "chunks_per_second", "results"}
    assert set(payload["results"]["hybrid"]) == {
        "doc@1",
        "doc@3",
        "doc@5",
        "doc@10",
        "ans@1",
        "ans@3",
        "ans@5",
        "ans@10",
        "mrr",
        "p50_ms",
        "p95_ms",
    }
    assert "| hybrid |" in format_table(result)


def test_bad_dataset_is_a_clear_error(tmp_path):
    from rag.errors import DocumentError

    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DocumentError, match="bad.json"):
        load_squad(bad)
