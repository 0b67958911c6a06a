"""What several articles have in common: the names that each article's quoted sentence holds.

«Outre Paris, quelle ville européenne apparaît dans les deux articles ?» asks for what the
articles share, not for what each one says: read article by article
(:meth:`rag.answer.reading.ReadingAnswerer._across`), one sentence says «… Bruxelles, New York
et Singapour», the other «… Paris, Bruxelles et Dublin», and the answer is the name both hold
that the question does not already give: «Bruxelles». :func:`rag.answer.routing.asks_shared` tells
such a question from one that asks what each article says («… dans chacun des deux articles ?»)
or what they say together («… dans l'ensemble des deux articles ?», «En rassemblant les deux
articles… »); :func:`shared_names` finds the names.

A name is a run of capitalised words («New York», «Google DeepMind», «Sam Altman»), its
leading elided article dropped («L'Allemagne» is «Allemagne»); a capitalised word that carries
no meaning («Cette», «Selon») names nothing. Names are compared accent- and case-folded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.citations import content_words

_NAME = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'’-]*(?:\s+(?:(?:de|du|des|la|le)\s+|d['’])?[A-ZÀ-ÖØ-Þ][\w'’-]*)*")
_ELIDED = re.compile(r"^(?:[LD]|Qu)['’]")


@dataclass(frozen=True)
class Name:
    text: str  # as written
    start: int  # characters in the text searched
    end: int

    @property
    def key(self) -> str:
        return " ".join(sorted(content_words(self.text)))


def names(text: str, start: int = 0, end: int | None = None) -> list[Name]:
    """The names in ``text[start:end]``, in order, placed in ``text`` (see the module's docstring).

    >>> [n.text for n in names("Cette décision vise Bruxelles, New York et L'Allemagne, selon Sam Altman.")]
    ['Bruxelles', 'New York', 'Allemagne', 'Sam Altman']
    """
    found = []
    for match in _NAME.finditer(text, start, len(text) if end is None else end):
        at, written = match.start(), match.group()
        elided = _ELIDED.match(written)
        if elided:
            at, written = at + elided.end(), written[elided.end() :]
        written = written.rstrip("'’-")
        if written and content_words(written):
            found.append(Name(written, at, at + len(written)))
    return found


def shared_names(ranges: Sequence[tuple[str, int, int]], question: str) -> list[list[Name]]:
    """The names that every ``text[start:end]`` of ``ranges`` holds and ``question`` does not
    give, as found in each text (one list per range, in the first one's order, placed in its
    text); empty lists when none is shared.

    >>> first = "Des bureaux à Bruxelles, New York et Singapour."
    >>> second = "Autre chose. OpenAI est déjà à Paris, Bruxelles et Dublin."
    >>> found = shared_names([(first, 0, len(first)), (second, 13, len(second))], "Outre Paris, quelle ville ?")
    >>> [[(n.text, n.start) for n in names] for names in found]
    [[('Bruxelles', 14)], [('Bruxelles', 38)]]
    >>> shared_names([(first, 0, len(first)), ("Rien en commun ici.", 0, 19)], "Quelle ville ?")
    [[], []]
    """
    asked = content_words(question)
    per_text = [{name.key: name for name in reversed(names(*where))} for where in ranges]  # first mention kept
    keys = [key for key in per_text[0] if key and not set(key.split()) <= asked]
    common = [key for key in keys if all(key in found for found in per_text[1:])]
    order = sorted(common, key=lambda key: per_text[0][key].start)
    return [[found[key] for key in order] for found in per_text]
