"""Agency wires: the same text in several outlets, kept once among the passages an answer reads.

A newsroom archive runs an AFP wire in Le Point, La Libre and La DH with a new headline and a
word changed. Ranked side by side, three copies would fill the three passages the reader reads
and hide every other article. So the search ranks a few more passages than it reads, and a
passage that *repeats* one ranked above it (:data:`REPEAT_SHARE` of the word 5-grams of the
shorter of the two are the other's) is set aside: the reader reads distinct passages, and an answer
quoting a passage names its repeats after the quotation, «(aussi dans [4], [5])», each cited.

>>> said = "Vingt personnes ont été interpellées samedi à Paris, a indiqué la préfecture."
>>> a = Passage(1, "point", "T", None, "x", 0, 60, said)
>>> b = Passage(2, "libre", "T", None, "x", 0, 60, "Samedi, " + said[0].lower() + said[1:])
>>> c = Passage(3, "dh", "T", None, "x", 0, 40, "Le match a été reporté à cause de la neige.")
>>> kept, repeats = distinct([a, b, c], 2)
>>> [p.doc_id for p in kept], {k: [p.doc_id for p in v] for k, v in repeats.items()}
(['point', 'dh'], {0: ['libre']})
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.citations import content_words
from rag.answer.compose import Composition
from rag.search.evidence import split_sentences
from rag.store.records import Passage
from rag.text import fold_accents

# A passage repeats another when this share of its word 5-grams (of the shorter of the two) are
# the other's: a wire's copies share its phrasing even where their chunks start apart, and two
# articles on one event share its words, not its sentences.
REPEAT_SHARE = 0.4
SHINGLE = 5
# Passages ranked past the ones read, so that repeats set aside leave room for others.
SEARCHED_PAST = 4


def shingles(text: str) -> set[tuple[str, ...]]:
    """The runs of :data:`SHINGLE` words of ``text`` (lowercased, accents and punctuation aside)."""
    words = re.findall(r"\w+", fold_accents(text.lower()))
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def is_repeat(passage: Passage, earlier: Passage) -> bool:
    """Whether ``passage`` repeats ``earlier``: another article, and :data:`REPEAT_SHARE` of the
    shorter one's word 5-grams are the other's."""
    if passage.doc_id == earlier.doc_id:
        return False
    mine, other = shingles(passage.text), shingles(earlier.text)
    if len(mine) < SHINGLE or len(other) < SHINGLE:
        return False
    return len(mine & other) >= REPEAT_SHARE * min(len(mine), len(other))


def distinct(passages: Sequence[Passage], k: int) -> tuple[list[Passage], dict[int, list[Passage]]]:
    """The first ``k`` passages that repeat no passage kept before them, and for each kept one
    (by its index among them) the passages set aside as its repeats, in rank order."""
    kept: list[Passage] = []
    repeated: dict[int, list[Passage]] = {}
    for passage in passages:
        original = next((i for i, other in enumerate(kept) if is_repeat(passage, other)), None)
        if original is not None:
            repeated.setdefault(original, []).append(passage)
        elif len(kept) < k:
            kept.append(passage)
    return kept, repeated


# A sentence repeats the quotation when it holds the answer and this share of the quotation's
# content words: agency wires run in several outlets with small edits («ont été effectuées»
# becomes «a procédé»), and a figure that differs is another fact, not a repeat.
SENTENCE_REPEAT_SHARE = 0.75


def repeats(sentence: str, text: str, answer: str = "") -> bool:
    """Whether a sentence of ``text`` says ``sentence`` again: it holds ``answer`` and
    :data:`SENTENCE_REPEAT_SHARE` of ``sentence``'s content words.

    >>> said = "Vingt personnes ont été interpellées samedi à Paris."
    >>> repeats(said, "Bilan. Samedi, vingt personnes ont été interpellées à Paris, selon la police.", "Vingt")
    True
    >>> repeats(said, "Vingt personnes ont manifesté à Lyon.", "Vingt")
    False
    >>> repeats("Samedi, 450 personnes ont été arrêtées.", "Samedi, 400 personnes ont été arrêtées.", "450")
    False
    """
    words = content_words(sentence)
    if len(words) < 3:
        return False
    wanted = " ".join(fold_accents(answer.lower()).split())
    for other in split_sentences(text):
        if wanted and wanted not in " ".join(fold_accents(other.lower()).split()):
            continue
        if len(words & content_words(other)) >= SENTENCE_REPEAT_SHARE * len(words):
            return True
    return False


def cite_repeats(
    composed: Composition, passages: list[Passage], repeated: dict[int, list[Passage]]
) -> tuple[Composition, list[Passage]]:
    """The answer with the repeats of its quoted passage named after the quotation and cited
    (appended to ``passages``, which the markers index): a fact several outlets ran is cited
    once, with the others named. Only a repeat that holds the quoted sentence (and the short
    answer) is named."""
    quotes = [s for s in composed.sentences if s.origin == "quote"]
    if len(quotes) != 1 or not quotes[0].citations:
        return composed, passages
    quote, number = quotes[0], quotes[0].citations[0]
    answer = composed.short if len(composed.short) < len(quote.text) else ""
    cited = {passages[n - 1].doc_id for n in composed.citations if 0 < n <= len(passages)}
    also, shown = [], list(passages)
    for repeat in repeated.get(number - 1, []):
        if repeat.doc_id in cited or not repeats(quote.text, repeat.text, answer):
            continue
        shown.append(repeat)
        cited.add(repeat.doc_id)
        also.append(len(shown))
    if not also:
        return composed, passages
    named = ", ".join(f"[{n}]" for n in also)
    return (
        Composition(
            f"{composed.text} (aussi dans {named})",
            composed.short,
            composed.sentences,
            [*composed.citations, *also],
            composed.spans,
        ),
        shown,
    )
