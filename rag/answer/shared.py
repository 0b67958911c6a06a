"""What several articles have in common: the names that each article's quoted sentence holds.

«Outre Paris, quelle ville européenne apparaît dans les deux articles ?» asks for what the
articles share, not for what each one says: read article by article
(:meth:`rag.answer.reading.ReadingAnswerer._across`), one sentence says «… Bruxelles, New York
et Singapour», the other «… Paris, Bruxelles et Dublin», and the answer is the name both hold
that the question does not already give: «Bruxelles». :func:`asks_shared` tells such a question
from one that asks what each article says («… dans chacun des deux articles ?») or what they
say together («… dans l'ensemble des deux articles ?», «En rassemblant les deux articles… »);
:func:`shared_names` finds the names.

A name is a run of capitalised words («New York», «Google DeepMind», «Sam Altman»), its
leading elided article dropped («L'Allemagne» is «Allemagne»); a capitalised word that carries
no meaning («Cette», «Selon») names nothing. Names are compared accent- and case-folded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.citations import content_words
from rag.text import fold_accents

# «… apparaît / figure / est cité(e)(s) / mentionné / évoqué / nommé dans les deux articles»,
# «… à la fois dans…», «… commun(e)(s) aux deux articles», «… en commun». Not «dans chacun des
# deux articles» (each its own) nor «dans l'ensemble des deux articles» (all of them).
_SHARED = re.compile(
    r"\b(?:apparai\w*|apparaiss\w*|figur\w*|cite[es]?|mentionne[es]?|evoque[es]?|nomme[es]?|present\w*"
    r"|retrouv\w*)\s+(?:a la fois\s+)?dans\s+les\s+deux\s+(?:articles|textes)\b"
    r"|\ba la fois dans\b|\bcommun(?:e|s|es)? aux (?:deux )?(?:articles|textes)\b|\ben commun\b"
)
_NAME = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'’-]*(?:\s+(?:(?:de|du|des|la|le)\s+|d['’])?[A-ZÀ-ÖØ-Þ][\w'’-]*)*")
_ELIDED = re.compile(r"^(?:[LD]|Qu)['’]")


def asks_shared(question: str) -> bool:
    """Whether ``question`` asks for what the articles have in common.

    >>> [asks_shared(q) for q in ["Quelle ville apparaît dans les deux articles ?",
    ...     "Quel dirigeant est cité dans les deux articles ?", "Que les deux articles ont-ils en commun ?",
    ...     "Comment Sam Altman est-il présenté dans chacun des deux articles ?",
    ...     "Quels concurrents sont cités dans l'ensemble des deux articles ?",
    ...     "En rassemblant les deux articles, dans quelles villes OpenAI est-il implanté ?"]]
    [True, True, True, False, False, False]
    """
    return bool(_SHARED.search(fold_accents(question.lower().replace("’", "'"))))


@dataclass(frozen=True)
class Name:
    text: str  # as written in the sentence
    start: int  # characters in the text searched
    end: int

    @property
    def key(self) -> str:
        return " ".join(sorted(content_words(self.text)))


def names(text: str) -> list[Name]:
    """The names in ``text``, in order (see the module's docstring).

    >>> [n.text for n in names("Cette décision vise Bruxelles, New York et L'Allemagne, selon Sam Altman.")]
    ['Bruxelles', 'New York', 'Allemagne', 'Sam Altman']
    """
    found = []
    for match in _NAME.finditer(text):
        start, written = match.start(), match.group()
        elided = _ELIDED.match(written)
        if elided:
            start, written = start + elided.end(), written[elided.end() :]
        written = written.rstrip("'’-")
        if written and content_words(written):
            found.append(Name(written, start, start + len(written)))
    return found


def shared_names(texts: Sequence[str], question: str) -> list[list[Name]]:
    """The names every one of ``texts`` holds and ``question`` does not give, as found in each
    text (one list per text, in the first text's order); empty lists when none is shared.

    >>> first = "Des bureaux à Bruxelles, New York et Singapour."
    >>> second = "OpenAI est déjà à Paris, Bruxelles et Dublin."
    >>> [[n.text for n in found] for found in shared_names([first, second], "Outre Paris, quelle ville ?")]
    [['Bruxelles'], ['Bruxelles']]
    >>> shared_names([first, "Rien en commun ici."], "Quelle ville ?")
    [[], []]
    """
    asked = content_words(question)
    per_text = [{name.key: name for name in reversed(names(text))} for text in texts]  # first mention kept
    keys = [key for key in per_text[0] if key and not set(key.split()) <= asked]
    common = [key for key in keys if all(key in found for found in per_text[1:])]
    order = sorted(common, key=lambda key: per_text[0][key].start)
    return [[found[key] for key in order] for found in per_text]
