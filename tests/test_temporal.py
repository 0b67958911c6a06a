"""French date phrases in a question become a DateScope, and only when they say *when*."""

from __future__ import annotations

from datetime import date

import pytest

from rag.search.temporal import DateScope, date_span, parse_scope, scoped_search

TODAY = date(2025, 6, 15)  # a Sunday


def scope_of(question: str, today: date = TODAY) -> tuple | None:
    scope = parse_scope(question, today).scope
    return None if scope is None else (scope.start, scope.end, scope.order)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Quel budget a été voté en 2024 ?", ("2024-01-01", "2024-12-31", None)),
        ("Quel taux en octobre 2024 ?", ("2024-10-01", "2024-10-31", None)),
        ("L'inflation d'octobre 2024 ?", ("2024-10-01", "2024-10-31", None)),
        ("Quel taux en février 2024 ?", ("2024-02-01", "2024-02-29", None)),
        ("Qu'a dit la mairie en mars ?", ("2025-03-01", "2025-03-31", None)),  # the latest March
        ("Qu'a dit la mairie en septembre ?", ("2024-09-01", "2024-09-30", None)),  # not a future one
        ("Qu'a dit la mairie au mois de mai ?", ("2025-05-01", "2025-05-31", None)),
        ("Que s'est-il passé à l'automne 2024 ?", ("2024-09-23", "2024-12-20", None)),
        ("Que s'est-il passé au printemps 2025 ?", ("2025-03-20", "2025-06-20", None)),
        ("Que s'est-il passé l'été 2024 ?", ("2024-06-21", "2024-09-22", None)),
        ("Que s'est-il passé en été 2023 ?", ("2023-06-21", "2023-09-22", None)),
        ("Que s'est-il passé cet hiver ?", ("2024-12-21", "2025-03-19", None)),
        ("Que s'est-il passé cet été ?", ("2024-06-21", "2024-09-22", None)),  # summer 2025 has not begun
        ("Que s'est-il passé l'été dernier ?", ("2024-06-21", "2024-09-22", None)),
        ("Quelles grèves depuis mars 2025 ?", ("2025-03-01", None, None)),
        ("Quelles grèves à partir de janvier 2025 ?", ("2025-01-01", None, None)),
        ("Quelles grèves depuis le début de l'année ?", ("2025-01-01", None, None)),
        ("Quelles grèves depuis le 3 mars 2025 ?", ("2025-03-03", None, None)),
        ("Quelles grèves avant 2025 ?", (None, "2024-12-31", None)),
        ("Quelles grèves avant mars 2025 ?", (None, "2025-02-28", None)),
        ("Quelles grèves après janvier 2025 ?", ("2025-02-01", None, None)),
        ("Quelles grèves jusqu'en 2024 ?", (None, "2024-12-31", None)),
        ("Quel taux entre janvier et mars 2025 ?", ("2025-01-01", "2025-03-31", None)),
        ("Quel taux entre novembre et février ?", ("2024-11-01", "2025-02-28", None)),
        ("Quel taux entre 2023 et 2024 ?", ("2023-01-01", "2024-12-31", None)),
        ("Quel taux de novembre 2024 à janvier 2025 ?", ("2024-11-01", "2025-01-31", None)),
        ("Quel taux du 1er mars au 15 avril 2025 ?", ("2025-03-01", "2025-04-15", None)),
        ("Qu'a-t-on appris hier ?", ("2025-06-14", "2025-06-14", None)),
        ("Qu'a-t-on appris aujourd'hui ?", ("2025-06-15", "2025-06-15", None)),
        ("Qu'a-t-on appris cette semaine ?", ("2025-06-09", "2025-06-15", None)),
        ("Qu'a-t-on appris la semaine dernière ?", ("2025-06-02", "2025-06-08", None)),
        ("Qu'a-t-on appris ce mois-ci ?", ("2025-06-01", "2025-06-30", None)),
        ("Qu'a-t-on appris le mois dernier ?", ("2025-05-01", "2025-05-31", None)),
        ("Qu'a-t-on appris cette année ?", ("2025-01-01", "2025-12-31", None)),
        ("Qu'a-t-on appris l'an dernier ?", ("2024-01-01", "2024-12-31", None)),
        ("Qu'a-t-on appris l'année dernière ?", ("2024-01-01", "2024-12-31", None)),
        ("Qu'a-t-on appris l'année passée ?", ("2024-01-01", "2024-12-31", None)),
        ("Que s'est-il passé il y a 3 mois ?", ("2025-03-01", "2025-03-31", None)),
        ("Que s'est-il passé il y a deux jours ?", ("2025-06-13", "2025-06-13", None)),
        ("Que s'est-il passé il y a un an ?", ("2024-01-01", "2024-12-31", None)),
        ("Quelles annonces depuis 10 jours ?", ("2025-06-05", None, None)),
        ("Quelles annonces ces deux derniers mois ?", ("2025-04-15", None, None)),
        ("Quelles annonces depuis le mois dernier ?", ("2025-05-01", None, None)),
        ("Quels articles publiés le 27 mars 2025 ?", ("2025-03-27", "2025-03-27", None)),
        ("Que dit l'article du 3 octobre 2024 ?", ("2024-10-03", "2024-10-03", None)),
        ("Que disent les articles de 2023 ?", ("2023-01-01", "2023-12-31", None)),
        ("Quel est le taux d'inflation le plus récent ?", (None, None, "latest")),
        ("Quel est le dernier chiffre de l'inflation ?", (None, None, "latest")),
        ("Quelle est la dernière grève ?", (None, None, "latest")),
        ("Que s'est-il passé récemment ?", (None, None, "latest")),
        ("Quel est l'article le plus ancien sur le club ?", (None, None, "earliest")),
        ("Quel est le premier article sur Novalys ?", (None, None, "earliest")),
        ("Quel est le taux le plus récent en 2024 ?", ("2024-01-01", "2024-12-31", "latest")),
    ],
)
def test_a_date_phrase_becomes_its_range(question, expected):
    assert scope_of(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "Combien d'emplois Novalys va-t-elle créer ?",
        "Novalys va créer 2 000 emplois ?",
        "Le projet coûte 1,5 milliard d'euros ?",
        "Le club compte 2024 adhérents ?",
        "Combien de postes en 2026 ?",  # the future: what is planned, not when articles were published
        "Quel était le budget de 2023 ?",  # a year as a noun's complement: the subject
        "Le bureau parisien annoncé en 2024 a-t-il vu le jour ?",  # when the bureau was announced
        "Le budget a été voté quand ?",  # «a été» is no summer
        "Qui a marqué le dernier but ?",  # «dernier» of a thing, not of articles
        "Dans quelle ville OpenAI a-t-il installé son premier bureau ?",
        "Quel score en 2024-2025 ?",  # a season of sport, not a year
        "Le 27 mars 2025, qu'a annoncé OpenAI ?",  # a day alone: what happened, maybe told the day after
        "Quand la grève a-t-elle commencé ?",
        "Le club a gagné 3 à 1 ?",
    ],
)
def test_no_scope_where_the_date_is_not_one(question):
    assert scope_of(question) is None


def test_the_date_words_leave_the_searched_question():
    assert parse_scope("Quel était le taux d'inflation en octobre 2024 ?", TODAY).question == (
        "Quel était le taux d'inflation ?"
    )
    assert parse_scope("En 2024, quel budget la ville a-t-elle voté ?", TODAY).question == (
        "Quel budget la ville a-t-elle voté ?"
    )
    assert parse_scope("Combien de postes selon l'article le plus récent ?", TODAY).question == "Combien de postes ?"
    assert (
        parse_scope("Quel est le premier article sur Novalys ?", TODAY).question == "Quel est l'article sur Novalys ?"
    )
    unchanged = "Dans quelle ville OpenAI a-t-il installé son premier bureau ?"
    assert parse_scope(unchanged, TODAY).question == unchanged


@pytest.mark.parametrize(
    ("question", "label", "empty"),
    [
        (
            "Quel taux en octobre 2024 ?",
            "articles d'octobre 2024",
            "Aucun article du corpus n'est daté d'octobre 2024.",
        ),
        ("Quel taux en 2024 ?", "articles de 2024", "Aucun article du corpus n'est daté de 2024."),
        ("Quel taux depuis mars 2025 ?", "articles depuis mars 2025", None),
        ("Quel taux entre janvier et mars 2025 ?", "articles entre janvier et mars 2025", None),
        ("Quel bilan à l'été 2024 ?", "articles de l'été 2024", "Aucun article du corpus n'est daté de l'été 2024."),
        ("Quel taux le plus récent ?", "l'article le plus récent", None),
        ("Quel taux hier ?", "articles du 14 juin 2025", "Aucun article du corpus n'est daté du 14 juin 2025."),
    ],
)
def test_labels_and_empty_messages_are_french(question, label, empty):
    scope = parse_scope(question, TODAY).scope
    assert scope.label == label
    if empty:
        assert scope.empty == empty


def test_today_is_what_relative_dates_count_from():
    assert scope_of("Qu'a-t-on appris le mois dernier ?", date(2025, 1, 10)) == ("2024-12-01", "2024-12-31", None)
    assert scope_of("Qu'a-t-on appris la semaine dernière ?", date(2025, 1, 1)) == ("2024-12-23", "2024-12-29", None)
    assert scope_of("Quel taux en mars ?", date(2025, 2, 1)) == ("2024-03-01", "2024-03-31", None)


def test_a_document_date_overlaps_by_its_precision():
    october = DateScope("2024-10-01", "2024-10-31")
    assert october.contains("2024-10") and october.contains("2024") and october.contains("2024-10-15")
    assert not october.contains("2024-09-30") and not october.contains(None) and not october.contains("n/a")
    since = DateScope("2025-03-01", None)
    assert since.contains("2025-06-01") and not since.contains("2025-02")
    assert DateScope(order="latest").contains(None)  # an ordering alone filters nothing
    assert date_span("2024-13") is None


def test_a_follow_up_takes_its_own_dates_or_inherits_the_conversation_s():
    history = ["Quel budget la ville a-t-elle voté en 2025 ?"]
    scope, search = scoped_search("Et en 2024 ?", history, TODAY)
    assert (scope.start, scope.end) == ("2024-01-01", "2024-12-31")
    assert search == "Quel budget la ville a-t-elle voté ?"
    scope, search = scoped_search("Et le mois dernier ?", ["Quel était le taux d'inflation en mars 2025 ?"], TODAY)
    assert scope.label == "articles de mai 2025" and search == "Quel était le taux d'inflation ?"
    scope, search = scoped_search("Qui l'a présenté ?", history, TODAY)
    assert scope.label == "articles de 2025" and "2025" not in search
    scope, search = scoped_search("Qui l'a présenté ?", ["Quel budget la ville a-t-elle voté ?"], TODAY)
    assert scope is None


def test_the_seeds_questions_rarely_get_a_scope_and_rightly():
    import json

    from rag.config import PROJECT_ROOT

    rows = [json.loads(line) for line in (PROJECT_ROOT / "eval/gold/seeds.jsonl").read_text().splitlines() if line]
    scoped = {row["id"]: parse_scope(row["question"], TODAY).scope for row in rows}
    scoped = {key: scope for key, scope in scoped.items() if scope is not None}
    assert set(scoped) == {"seeds-39"}  # «Selon l'article de 2024, …»
    assert scoped["seeds-39"].contains("2024-10")
