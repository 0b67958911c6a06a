"""The newsroom eval's own parts: the gold set's checks, the archive, the halves, the scoring rule.

The archive itself (``../shared/data/presse/articles.jsonl``) is read only by the last test,
which checks the committed gold set against it; the others use a tiny archive of their own.
"""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from pathlib import Path

import pytest

import eval.presse.archive
import eval.presse.gold
import eval.presse.scoring
from eval.presse.archive import ARCHIVE, load_archive, subset
from eval.presse.gold import assign_halves, check, load_presse_gold, parse
from eval.presse.scoring import is_right, type_error
from rag.config import PROJECT_ROOT
from rag.errors import DocumentError

TEXTS = {
    "presse-1": "Acte IV\nSamedi, 8 000 personnes ont manifesté à Paris selon la police. Éric Drouet était présent.",
    "presse-2": "Acte IV, la dépêche\nSamedi, 8 000 personnes ont manifesté à Paris selon la police.",
    "presse-3": "Autre sujet\nLe match a été reporté à cause de la neige.",
}
GOOD = {
    "id": "t-01", "half": 1, "kind": "combien", "answerable": True,
    "question": "Combien de personnes ont manifesté à Paris lors de l'acte IV ?", "answer": "8 000 personnes",
    "evidence": ["Samedi, 8 000 personnes ont manifesté à Paris selon la police."],
    "doc_ids": ["presse-1", "presse-2"],
}  # fmt: skip
UNANSWERABLE = {
    "id": "t-02", "half": 2, "kind": "combien", "answerable": False,
    "question": "Combien de policiers à Paris lors de l'acte IV ?", "about": ["presse-1"], "trap": "détail absent",
}  # fmt: skip


def faults(*rows: dict) -> list[str]:
    return check(list(enumerate(rows, start=1)), TEXTS, name="g.jsonl")[1]


def test_a_well_formed_set_has_no_fault():
    assert faults(GOOD, UNANSWERABLE) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"answer": "10 000 personnes"}, "réponse absente de ses preuves : «10 000 personnes»"),
        ({"doc_ids": ["presse-1", "presse-9"]}, "article inconnu de l'archive : presse-9"),
        ({"doc_ids": ["presse-1"]}, "la même preuve est aussi dans presse-2"),
        ({"doc_ids": ["presse-3", "presse-1", "presse-2"]}, "la première preuve n'est pas dans presse-3"),
        ({"kind": "suivi"}, "historique"),
        ({"kind": "oui_non"}, "«Oui» ou «Non»"),
        ({"half": None}, "moitié"),
        ({"evidence": []}, "answer, evidence et doc_ids"),
    ],
)
def test_each_fault_is_one_line_naming_its_question(change, expected):
    found = faults({**GOOD, **change})
    assert found and expected in found[0]
    assert found[0].startswith("g.jsonl, ligne 1 (t-01) : ") and "\n" not in found[0]


def test_an_unanswerable_question_says_what_it_is_about_and_why():
    assert "about" in faults({**UNANSWERABLE, "about": []})[0]
    assert "trap" in faults({**UNANSWERABLE, "trap": ""})[0]
    assert "ni answer" in faults({**UNANSWERABLE, "answer": "12"})[0]


def test_a_question_asked_twice_is_a_fault():
    assert "même question que t-01" in faults(GOOD, {**GOOD, "id": "t-03"})[0]


def test_the_eval_stops_at_the_first_fault_with_one_line(tmp_path):
    gold = tmp_path / "presse.jsonl"
    gold.write_text(json.dumps({**GOOD, "answer": "un million"}, ensure_ascii=False) + "\n" + json.dumps(UNANSWERABLE))
    with pytest.raises(DocumentError) as raised:
        load_presse_gold(gold, TEXTS)
    assert str(raised.value).startswith("presse.jsonl, ligne 1 (t-01) : réponse absente de ses preuves")
    gold.write_text("{pas du json\n")
    with pytest.raises(DocumentError, match="ligne 1 : JSON invalide"):
        load_presse_gold(gold, TEXTS)


def write_archive(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def test_the_archive_becomes_documents_with_outlet_date_and_url(tmp_path):
    path = write_archive(tmp_path / "a.jsonl", [
        {"id": "presse-1", "outlet": "Le Point", "country": "France", "topic": "gilets-jaunes", "title": "Acte IV",
         "date": "2018-12-08", "url": "https://exemple.fr/a", "text": "Samedi, 8 000 personnes."},
        {"id": "presse-2", "outlet": "La DH", "country": "Belgique", "topic": "autre", "title": "Match",
         "date": "", "url": "", "text": "Le match a été reporté."},
    ])  # fmt: skip
    articles = load_archive(path)
    paris, match = articles["presse-1"].document(), articles["presse-2"].document()
    assert (paris.doc_id, paris.date, paris.site, paris.source) == (
        "presse-1",
        "2018-12-08",
        "Le Point",
        "https://exemple.fr/a",
    )
    assert (match.date, match.source) == (None, "La DH")


def test_a_missing_or_broken_archive_is_one_line_naming_it(tmp_path):
    with pytest.raises(DocumentError, match=f"introuvable : {tmp_path / 'rien.jsonl'}"):
        load_archive(tmp_path / "rien.jsonl")
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"id": "presse-1", "text": "ok"}\n{oups\n')
    with pytest.raises(DocumentError, match="b.jsonl, ligne 2 : article illisible"):
        load_archive(broken)


def test_the_eval_command_stops_on_a_missing_archive_with_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "eval", "presse", "--archive", str(tmp_path / "absente.jsonl")],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Erreur : Archive de presse introuvable : {tmp_path / 'absente.jsonl'} "
        "(attendue à côté du projet, dans ../shared)."
    ]


def test_the_subset_keeps_every_needed_article_and_a_fixed_draw():
    articles = {f"presse-{i:02d}": None for i in range(40)}
    small, large = subset(articles, ["presse-33"], 10), subset(articles, ["presse-07"], 20)
    assert len(small) == 10 and "presse-33" in small and small == subset(articles, ["presse-33"], 10)
    assert set(small) - {"presse-33"} <= set(large)  # the draw does not depend on what is needed
    with pytest.raises(DocumentError, match="presse-99"):
        subset(articles, ["presse-99"], 10)


def test_questions_sharing_an_article_fall_in_the_same_half():
    def item(qid, *docs):
        return parse({"id": qid, "question": qid, "kind": "qui", "answerable": True, "doc_ids": list(docs)})

    items = [item("a", "p1", "p2"), item("b", "p2"), item("c", "p3"), item("d", "p4", "p1"), item("e", "p5")]
    halves = assign_halves(items)
    assert halves["a"] == halves["b"] == halves["d"]
    assert {halves["c"], halves["e"]} != {halves["a"]} or halves["c"] != halves["e"]
    assert sorted(halves.values()).count(1) >= 2 and sorted(halves.values()).count(2) >= 2


@pytest.mark.parametrize(
    ("kind", "gold", "short", "text", "right"),
    [
        ("qui", "Éric Drouet", "Éric Drouet", "Éric Drouet. Selon [1] : « … »", True),
        ("qui", "Éric Drouet", "Douzaine", "Douzaine. Selon [1] : « … »", False),
        ("combien", "8 000 personnes", "8.000", "8.000. Selon [1] : « … »", True),
        ("combien", "600", "1 000", "1 000. Selon [1] : « … »", False),
        ("oui_non", "Non", "", "Non. Selon [1] : « … »", True),
        ("oui_non", "Non", "", "Oui. Selon [1] : « … »", False),
        ("liste", "Lausanne ; Genève ; Fribourg ; Berne", "", "Lausanne [1], Genève [2].", True),
        ("liste", "Lausanne ; Genève ; Fribourg ; Berne", "", "Lausanne [1].", False),
        ("chiffres", "600 selon la police ; un millier selon les organisateurs", "",
         "600 selon la police [1], un millier selon les organisateurs [2].", True),
        ("chiffres", "600 selon la police ; un millier selon les organisateurs", "", "600 selon la police [1].", False),
        ("pourquoi", "en raison de fortes chutes de neige", "Chutes de neige",
         "« Le match a été reporté en raison de fortes chutes de neige. » [1]", True),
        ("pourquoi", "en raison de fortes chutes de neige", "", "Le sentiment que le gouvernement [1]", False),
        ("pourquoi", "en raison de fortes chutes de neige", "", "fortes chutes de neige " + "mot " * 130, False),
    ],
)  # fmt: skip
def test_the_scoring_rule_of_each_kind(kind, gold, short, text, right):
    assert is_right(kind, gold, short, text) is right


def test_type_errors_read_the_span_as_the_passage_writes_it():
    assert (
        type_error("qui", "douzaine") and type_error("qui", "un prêtre") and not type_error("qui", "le préfet Dupont")
    )
    assert type_error("combien", "une percée des indépendantistes") and not type_error("combien", "une dizaine")
    assert type_error("ou", "n'importe quoi") is None


@pytest.mark.parametrize("module", [eval.presse.archive, eval.presse.gold, eval.presse.scoring])
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0


def test_the_committed_gold_set_holds_against_the_archive():
    """Every line of eval/gold/presse.jsonl against ../shared/data/presse (as CI has it)."""
    texts = {a.id: f"{a.title}\n{a.text}" for a in load_archive(ARCHIVE).values()}
    items = load_presse_gold(PROJECT_ROOT / "eval" / "gold" / "presse.jsonl", texts)
    answerable = [i for i in items if i.answerable]
    assert len(items) >= 240 and len(items) - len(answerable) >= 60
    assert {i.half for i in items} == {1, 2}
    assert {i.kind for i in answerable} == set(eval.presse.gold.KINDS)
