"""The date of an answer's sources, in words: «Selon l'article du 27 mars 2025 [1].»

News ages: «le budget est de 61 millions» is true of one year, and the reader must see which.
An answer that cites dated articles comes with one sentence naming their publication dates,
from the passages' metadata, never from the model: «Selon l'article d'octobre 2024 [2].», or
«Selon les articles du 3 octobre 2024 [1] et du 12 décembre 2024 [2].» It is shown right
after the answer (:func:`ui.render.answer_message`), apart from its text: the checked text,
its markers, the draft it is compared with and the short answer the eval scores stay as they
were. Undated articles are not named; an answer citing none gets no sentence.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.sources.dates import french_date
from rag.store.records import Passage


def of_date(iso: str) -> str:
    """«du 27 mars 2025», «d'octobre 2024», «de 2024»: the ISO date after «l'article».

    >>> of_date("2025-03-27"), of_date("2024-10"), of_date("2024-08"), of_date("2024"), of_date("2024-10-01")
    ('du 27 mars 2025', "d'octobre 2024", "d'août 2024", 'de 2024', 'du 1er octobre 2024')
    """
    words = french_date(iso)
    if len(iso.split("-")) == 3:
        return f"du {words}"
    return f"d'{words}" if words[:1] in "aeiouâéèêîôû" else f"de {words}"


def source_dates(passages: Sequence[Passage], citations: Sequence[int]) -> str:
    """The sentence naming the dates of the cited articles (each with its markers), or "".

    >>> p = Passage(1, "a", "Munich", "2025-03-27", "a.txt", 0, 10, "…")
    >>> q = Passage(2, "b", "Paris", "2024-10", "b.txt", 0, 10, "…")
    >>> source_dates([p, q], [1])
    "Selon l'article du 27 mars 2025 [1]."
    >>> source_dates([p, q, p], [1, 2, 3])
    "Selon les articles du 27 mars 2025 [1][3] et d'octobre 2024 [2]."
    """
    markers: dict[str, list[int]] = {}  # each dated article's markers, in order of first citation
    dates: dict[str, str] = {}
    for number in dict.fromkeys(citations):
        if not 1 <= number <= len(passages) or not passages[number - 1].date:
            continue
        passage = passages[number - 1]
        markers.setdefault(passage.doc_id, []).append(number)
        dates[passage.doc_id] = passage.date
    named = [f"{of_date(dates[doc])} {''.join(f'[{n}]' for n in numbers)}" for doc, numbers in markers.items()]
    if not named:
        return ""
    if len(named) == 1:
        return f"Selon l'article {named[0]}."
    return f"Selon les articles {', '.join(named[:-1])} et {named[-1]}."
