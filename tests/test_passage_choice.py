"""The rules of passage choice scored on PIAF readings (:mod:`eval.studies.passage_choice`), with made-up reads."""

import json

from eval.studies.passage_choice import Question, Read, main, order_rule, penalty_rule, score


def read(rank, margin, f1, supports=True, confidence=0.5, final=0.5):
    return Read(rank, 1.0 - rank / 10, margin, confidence, final, f1, supports)


# The search's first passage holds the answer; the second reads a little better, wrongly.
FIRST_RIGHT = [read(0, 2.0, 1.0), read(1, 3.7, 0.0, supports=False)]
# The second passage holds the answer and reads much better.
SECOND_RIGHT = [read(0, 1.0, 0.0, supports=False), read(1, 6.0, 1.0)]


def test_a_later_passage_wins_only_by_more_than_the_penalty_per_rank():
    assert penalty_rule(0.0)(FIRST_RIGHT, 0.2).rank == 1
    assert penalty_rule(1.5)(FIRST_RIGHT, 0.2).rank == 1
    assert penalty_rule(2.0)(FIRST_RIGHT, 0.2).rank == 0
    assert penalty_rule(2.0)(SECOND_RIGHT, 0.2).rank == 1
    assert penalty_rule(6.0)(SECOND_RIGHT, 0.2).rank == 0
    assert penalty_rule(2.0)([], 0.2) is None


def test_the_order_rule_takes_the_first_confident_passage_else_the_highest_margin():
    unsure = [read(0, 2.0, 0.0, confidence=0.1), read(1, 1.0, 1.0, confidence=0.3)]
    assert order_rule(unsure, 0.2).rank == 1
    assert order_rule(unsure, 0.5).rank == 0  # none reaches 0.5: the highest margin


def test_scores_count_refusals_as_zero_and_precision_over_answers():
    questions = [
        Question("test", "q1", False, FIRST_RIGHT),
        Question("test", "q2", True, FIRST_RIGHT),  # names what no passage mentions: refused
        Question("test", "q3", False, [read(0, 5.0, 1.0, final=0.1)]),  # refused by its final confidence
        Question("test", "q4", False, SECOND_RIGHT),
    ]
    figures = score(questions, penalty_rule(0.0), accept=0.2)
    assert figures == {"f1": 0.25, "answered": 0.5, "precision": 0.5}  # q1: the wrong span; q4: the right one


def test_the_command_rescores_saved_readings_and_names_the_best_penalty(tmp_path, capsys):
    saved = tmp_path / "reads.json"
    questions = [
        {"split": split, "question": "q", "refused_early": False, "reads": [r.__dict__ for r in reads]}
        for split, reads in (("calibration", FIRST_RIGHT), ("test", FIRST_RIGHT), ("test", SECOND_RIGHT))
    ]
    saved.write_text(json.dumps(questions))
    assert main(["--load", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "ordre" in out and "rang 2 " in out
    assert "Meilleure pénalité sur les deux moitiés : rang 2 " in out  # the first that gets both right


def test_unreadable_saved_readings_stop_with_one_line(tmp_path, capsys):
    broken = tmp_path / "reads.json"
    broken.write_text("{pas du json")
    assert main(["--load", str(broken)]) == 1
    assert main(["--load", str(tmp_path / "absent.json")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all("relancez avec --save" in line for line in lines)
