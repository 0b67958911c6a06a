"""The open questions' gold set and the rule that says whether an answer states a key point."""

from __future__ import annotations

from eval.open.gold import GOLD, KINDS, load_open_gold
from eval.open.points import states


def test_the_gold_set_is_checked_split_in_halves_and_covers_every_kind():
    items = load_open_gold(GOLD)  # every evidence in its article, every key in its evidence
    assert len(items) >= 80 and {i.kind for i in items} == set(KINDS)
    assert {i.corpus for i in items} == {"seeds", "presse"}
    assert all(2 <= len(i.points) <= 6 for i in items)
    halves = [i.half for i in items]
    assert set(halves) == {1, 2} and abs(halves.count(1) - halves.count(2)) <= len(items) // 10
    first = {d for i in items if i.half == 1 for d in i.doc_ids}
    assert not first & {d for i in items if i.half == 2 for d in i.doc_ids}  # split by article


def test_a_key_point_is_stated_when_the_answer_holds_each_key_in_one_of_its_forms():
    keys = ("taxe", "carburant|gazole")
    assert states("Ils dénoncent les taxes sur le gazole [1].", keys)  # plural, the other form
    assert not states("Ils dénoncent les taxes [1].", keys)  # one key missing
    assert not states("Ils dénoncent la surtaxe sur le gazole.", keys)  # a word's end, never its start
    assert states("Plus de 282 000 manifestants.", ("282.000", "manifestant"))  # figures, thousands aside
    assert states("L'IGPN a été saisie.", ("igpn",)) and states("Le RÉFÉRENDUM.", ("référendum",))
    assert not states("", ("taxe",)) and not states("Une taxe.", ())
