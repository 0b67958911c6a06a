"""Follow-up questions made standalone by rules (rag.search.followup): no model, fast."""

from __future__ import annotations

import json

import pytest

from rag.answer.citations import content_words
from rag.config import PROJECT_ROOT
from rag.errors import EmptyQuestionError
from rag.search.followup import MAX_CHARS, needs_context, standalone_question

MUNICH = "Dans quelle ville OpenAI va-t-elle ouvrir un bureau en Allemagne ?"
OFFICE = "Quand OpenAI ouvrira-t-il un bureau à Munich ?"


@pytest.mark.parametrize(
    "question",
    [
        "Pourquoi l'entreprise veut-elle stocker les données en Europe ?",
        "Quelle start-up française est citée parmi les concurrents émergents d'OpenAI ?",
        "Combien d'argent OpenAI a-t-il levé ?",
        "Combien de titres de presse les deux syndicats de médias français représentent-ils ?",
        "Qui est Sam Altman ?",
        "Qu'est-ce que l'IA ?",
        "Y a-t-il un bureau d'OpenAI à Dublin ?",
        "Combien de bureaux y a-t-il en Europe ?",
        "OpenAI a-t-il accepté de négocier sur la rémunération de leurs contenus ?",
        "Quel rôle l'Allemagne joue-t-elle dans l'adoption de l'IA ?",
    ],
)
def test_standalone_questions_come_back_unchanged(question: str) -> None:
    assert not needs_context(question)
    assert standalone_question(question, [MUNICH]) == question
    assert standalone_question(f"  {question.replace(' ', '  ')}\n", [MUNICH]) == question


def test_gold_questions_stand_alone_and_gold_follow_ups_do_not() -> None:
    lines = (PROJECT_ROOT / "eval" / "gold" / "seeds.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    firsts = [row["question"] for row in rows if row["kind"] != "followup"]
    firsts += [row["history"][0] for row in rows if row["kind"] == "followup"]
    assert [q for q in firsts if needs_context(q)] == []
    follow_ups = [row["question"] for row in rows if row["kind"] == "followup"]
    assert follow_ups and all(needs_context(q) for q in follow_ups)


@pytest.mark.parametrize(
    "question",
    [
        "Et à Paris ?",
        "Mais pourquoi ?",
        "Alors, combien ?",
        "Et si OpenAI renonçait ?",
        "Quel est son rôle ?",
        "Qui l'a annoncé ?",
        "Qui la dirige ?",
        "Quand ouvrira-t-il ?",
        "Combien coûte-t-il ?",
        "Combien d'argent a-t-elle levé ?",
        "Combien en a-t-il ouvert ?",
        "Qu'en pense Sam Altman ?",
        "Qui y travaille ?",
        "Que leur a-t-il promis ?",
        "Qui lui a succédé ?",
        "Pourquoi a-t-il choisi celle-ci ?",
        "Que pense ce dernier du RGPD ?",
        "Est-ce qu'elle recrute des ingénieurs ?",
    ],
)
def test_follow_ups_need_context(question: str) -> None:
    assert needs_context(question)


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("Et à Paris ?", OFFICE, "Quand OpenAI ouvrira-t-il un bureau à Paris ?"),
        ("Et en France ?", MUNICH, "Dans quelle ville OpenAI va-t-elle ouvrir un bureau en France ?"),
        ("Et à Paris ?", MUNICH, "Dans quelle ville OpenAI va-t-elle ouvrir un bureau à Paris ?"),
        ("Mais  au Royaume-Uni ?", MUNICH, "Dans quelle ville OpenAI va-t-elle ouvrir un bureau au Royaume-Uni ?"),
        (
            "Et à Paris ?",
            "À Munich, combien de personnes travailleront ?",
            "À Paris, combien de personnes travailleront ?",
        ),
        ("Et en 2026 ?", "Combien de bureaux OpenAI ouvrira-t-il en Europe en 2025 ?", None),
        ("Et pour Mistral AI ?", "Quels sont les projets pour OpenAI en Europe ?", None),
        ("Et de Mistral AI ?", "Quel est le PDG d'OpenAI ?", "Quel est le PDG de Mistral AI ?"),
    ],
)
def test_a_prepositional_ellipsis_replaces_the_same_kind_of_phrase(question, previous, expected) -> None:
    if expected is None:  # the same question with only the fragment changed
        expected = previous.replace("en 2025", "en 2026").replace("pour OpenAI", "pour Mistral AI")
    assert standalone_question(question, [previous]) == expected


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("Et Mistral AI ?", "Combien d'argent OpenAI a-t-il levé ?", "Combien d'argent Mistral AI a-t-il levé ?"),
        ("Et Google ?", "OpenAI a-t-il un bureau à Dublin ?", "Google a-t-il un bureau à Dublin ?"),
        ("Et Mistral AI ?", "Quel est le PDG d'OpenAI ?", "Quel est le PDG de Mistral AI ?"),  # not «PDG»
        ("Et OpenAI ?", "Quel est le PDG de Mistral AI ?", "Quel est le PDG d'OpenAI ?"),
        ("Et le Royaume-Uni ?", "Quel est le rôle de Munich ?", "Quel est le rôle du Royaume-Uni ?"),
        ("Et la France ?", "Quel rôle l'Allemagne joue-t-elle ?", "Quel rôle la France joue-t-elle ?"),
    ],
)
def test_a_bare_name_replaces_the_main_name(question, previous, expected) -> None:
    assert standalone_question(question, [previous]) == expected


@pytest.mark.parametrize("question", ["Qui l'a annoncé ?", "Quand ouvrira-t-il ?", "Combien coûte-t-il ?"])
def test_a_pronoun_question_is_followed_by_its_context(question: str) -> None:
    rewritten = standalone_question(question, [MUNICH])
    assert rewritten == f"{question} (à propos de : {MUNICH})"
    assert content_words(question) | content_words(MUNICH) <= content_words(rewritten)


def test_an_ellipsis_without_counterpart_falls_back_to_the_context() -> None:
    previous = "Combien d'argent a levé la start-up française ?"
    assert standalone_question("Et à Paris ?", [previous]) == f"Et à Paris ? (à propos de : {previous})"


def test_three_turns_chain_the_rewritten_questions() -> None:
    assert (
        standalone_question("Qui l'a annoncé ?", [MUNICH, "Et en France ?"])
        == "Qui l'a annoncé ? (à propos de : Dans quelle ville OpenAI va-t-elle ouvrir un bureau en France ?)"
    )
    assert (
        standalone_question("Et à Paris ?", [OFFICE, "Qui l'a annoncé ?"])
        == "Qui l'a annoncé ? (à propos de : Quand OpenAI ouvrira-t-il un bureau à Paris ?)"
    )
    # a standalone middle turn replaces the context
    assert standalone_question("Et Mistral AI ?", [MUNICH, "Combien d'argent OpenAI a-t-il levé ?"]) == (
        "Combien d'argent Mistral AI a-t-il levé ?"
    )


def test_without_history_the_question_is_returned() -> None:
    assert standalone_question("Qui l'a annoncé ?", []) == "Qui l'a annoncé ?"
    assert standalone_question(" Et  à Paris ? ", ["", "  "]) == "Et à Paris ?"


def test_never_empty() -> None:
    assert standalone_question("   ", [OFFICE]) == OFFICE
    with pytest.raises(EmptyQuestionError):
        standalone_question(" ", [])


def test_a_long_context_is_cut_first() -> None:
    long_question = "Pourquoi OpenAI " + "ouvre-t-il vraiment un bureau à Munich " * 80 + "?"
    rewritten = standalone_question("Qui l'a annoncé ?", [long_question])
    assert len(rewritten) <= MAX_CHARS
    assert rewritten.startswith("Qui l'a annoncé ? (à propos de : Pourquoi OpenAI ouvre-t-il")
    assert rewritten.endswith("…)")
    assert len(standalone_question("Qui l'a annoncé ? " + "x" * 3000, [long_question])) <= MAX_CHARS
    for turns in ([long_question] * 3, [long_question, "Qui l'a annoncé ?", "Quand ouvrira-t-il ?"]):
        assert 0 < len(standalone_question("Et à Paris ?", turns)) <= MAX_CHARS
