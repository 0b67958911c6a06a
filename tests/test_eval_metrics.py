import dataclasses
import json

import pytest

from eval.__main__ import check_floors
from eval.answer_metrics import best_over, exact_match, normalize_answer, token_f1, token_recall
from eval.gold import GoldItem, load_gold_jsonl
from eval.report import compare, markdown_report, write_run
from eval.run import ItemResult, aggregate, breakdown


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("l'Union européenne", "Union europeenne"),
        ("L’Union Européenne.", "union européenne"),
        ("« Le Monde »", "Monde"),
        ("les 800 titres", "800 titres"),
    ],
)
def test_french_normalization_makes_these_equal(a, b):
    assert normalize_answer(a) == normalize_answer(b)
    assert exact_match(a, b) == 1.0


def test_normalization_keeps_meaningful_words():
    assert normalize_answer("Munich [1].") == "munich"
    assert normalize_answer("à Munich") == "a munich"
    assert normalize_answer("Le bureau d'OpenAI à Paris") == "bureau openai a paris"


def test_token_f1_exact_values():
    # prediction tokens: bureau, a, munich (3); gold: munich (1); common 1
    assert token_f1("Le bureau à Munich", "Munich") == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))
    assert token_f1("Paris", "Munich") == 0.0
    assert token_f1("", "") == 1.0
    assert token_f1("Munich", "") == 0.0


def test_token_recall_exact_values():
    assert token_recall("OpenAI ouvre à Munich", "Munich, Bavière") == 0.5
    assert token_recall("Hubert Aiwanger, ministre", "Hubert Aiwanger") == 1.0
    assert token_recall("rien", "Hubert Aiwanger") == 0.0


def test_best_over_accepted_answers():
    assert best_over(exact_match, "en mairie", ["à la mairie", "en mairie"]) == 1.0
    assert best_over(token_f1, "x", []) == 0.0


def _result(item, *, refused=False, citations=(), supporting=(), rank=None, f1=None, first=1.0, total=2.0):
    return ItemResult(
        item=item,
        answer="…",
        refused=refused,
        citations=list(citations),
        cited_supporting=list(supporting),
        support_rank=rank,
        exact=None if f1 is None else float(f1 == 1.0),
        f1=f1,
        recall=f1,
        first_token_s=None if refused else first,
        total_s=total,
        tokens=20,
    )


def _items():
    a = GoldItem("a", "q1", "Munich", True, ("d",), ("s",), "fact")
    b = GoldItem("b", "q2", "Paris", True, ("d",), ("s",), "fact")
    c = GoldItem("c", "q3", "", False, kind="unanswerable")
    d = GoldItem("d", "q4", "", False, kind="unanswerable")
    return a, b, c, d


def test_aggregate_exact_numbers():
    a, b, c, d = _items()
    results = [
        _result(a, citations=[1, 2], supporting=[True, False], rank=1, f1=1.0, first=1.0, total=2.0),
        _result(b, rank=4, f1=0.5, first=2.0, total=4.0),
        _result(c, refused=True, total=1.0),
        _result(d, rank=None, total=3.0, first=0.5),
    ]
    m = aggregate(results)
    assert (m["count.questions"], m["count.answerable"]) == (4, 2)
    assert m["retrieval.hit@1"] == 0.5 and m["retrieval.hit@3"] == 0.5 and m["retrieval.hit@5"] == 1.0
    assert m["retrieval.mrr"] == pytest.approx((1 + 1 / 4) / 2)
    assert m["answer.f1"] == 0.75 and m["answer.exact"] == 0.5
    assert m["citation.rate"] == 0.5  # a cites, b does not
    assert m["citation.precision"] == 0.5  # one of a's two citations supports it
    assert m["refusal.unanswerable"] == 0.5 and m["refusal.answerable"] == 0.0
    assert m["latency.first_token_p50_s"] == 1.0
    assert m["latency.total_p50_s"] == 2.5
    # 60 tokens over (2-1) + (4-2) + (3-0.5) = 5.5 s of generation
    assert m["latency.tokens_per_s"] == pytest.approx(60 / 5.5)
    required = (
        "retrieval.hit@1 retrieval.hit@5 retrieval.mrr answer.f1 answer.recall answer.exact citation.precision "
        "citation.rate refusal.unanswerable refusal.answerable latency.first_token_p50_s latency.total_p50_s "
        "latency.total_p95_s"
    ).split()
    assert set(required) <= set(m)


def test_breakdown_by_kind_by_path_and_by_both():
    a, b, c, d = _items()
    results = [
        dataclasses.replace(_result(a, f1=1.0), path="reader"),
        dataclasses.replace(_result(b, f1=0.5), path="llm"),
        dataclasses.replace(_result(c, refused=True), path="reader"),
        dataclasses.replace(_result(d), path="reader"),
    ]
    by_path = breakdown(results, "path")
    assert by_path["reader"]["questions"] == 3 and by_path["reader"]["f1"] == 1.0 and by_path["llm"]["f1"] == 0.5
    both = breakdown(results, "kind / path")
    assert sum(row["questions"] for row in both.values()) == 4
    assert all(" / " in key and key.split(" / ")[1] in ("reader", "llm") for key in both)
    assert breakdown(results, "kind").keys() == {key.split(" / ")[0] for key in both}


def test_floors():
    floors = {"min": {"answer.f1": 0.3, "retrieval.hit@5": 0.9}, "max": {"refusal.answerable": 0.1}}
    assert check_floors({"answer.f1": 0.31, "retrieval.hit@5": 0.9, "refusal.answerable": 0.1}, floors) == []
    failures = check_floors({"answer.f1": 0.29, "retrieval.hit@5": None, "refusal.answerable": 0.2}, floors)
    assert len(failures) == 3 and "answer.f1" in failures[0]


def test_the_versioned_floors_are_well_formed():
    from eval.gold import FLOORS

    floors = json.loads(FLOORS.read_text())
    assert floors["min"] and floors["max"]
    for name, bound in {**floors["min"], **floors["max"]}.items():
        assert "." in name and isinstance(bound, int | float)


def test_report_files_and_compare(tmp_path):
    a, b, c, d = _items()
    results = [_result(a, citations=[1], supporting=[True], rank=1, f1=1.0), _result(c, refused=False, total=3.0)]
    metrics = aggregate(results)
    run_a, run_b = tmp_path / "a", tmp_path / "b"
    for folder in (run_a, run_b):
        folder.mkdir()
        write_run(folder, metrics, results, title="Test", config={"dataset": "x"})
    assert {p.name for p in run_a.iterdir()} == {
        "metrics.json",
        "results.jsonl",
        "report.md",
        "hit_at_k.png",
        "latency.png",
    }
    report = (run_a / "report.md").read_text()
    # worst first: the unanswerable question that got an answer comes before the right answer
    assert report.index("### c") < report.index("### a")
    assert "| answer.f1 | 1.000 |" in report
    assert "answer.f1" in compare(run_a, run_b) and "+0.000" in compare(run_a, run_b)
    assert len((run_a / "results.jsonl").read_text().splitlines()) == 2
    assert markdown_report(metrics, results, "T").startswith("# T")


def test_gold_jsonl_errors_name_the_line(tmp_path):
    from rag.errors import DocumentError

    path = tmp_path / "g.jsonl"
    path.write_text('{"id": "x", "question": "q", "answerable": true}\n{"id": 2}\n', encoding="utf-8")
    with pytest.raises(DocumentError, match="ligne 2"):
        load_gold_jsonl(path)
