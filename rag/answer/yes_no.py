"""Yes/no questions answered from a sentence: «oui» or «non» when the sentence says it in so
many words, else whether it denies what the question does not; the small model, when asked to
judge (``DEPECHE_YES_NO=llm``), is shown :data:`YES_NO_PROMPT`.

Used by :meth:`rag.answer.reading.ReadingAnswerer._yes_no` and by the eval's yes/no scoring.
"""

from __future__ import annotations

import re

# Two made-up examples (not from any evaluation set): the small model answers in their form.
YES_NO_PROMPT = """Réponds par oui ou par non, d'après l'extrait seulement.

Extrait : « La mairie a fermé la piscine pour travaux jusqu'en juin. »
Question : La piscine est-elle ouverte en mai ?
Réponse : non

Extrait : « Le nouveau train relie Lyon à Turin en quatre heures. »
Question : Le train va-t-il jusqu'à Turin ?
Réponse : oui

Extrait : « {sentence} »
Question : {question}
Réponse :"""


# A sentence that answers yes or no in so many words («Oui, votre assurance auto peut vous
# couvrir…»): the passage says it, nobody guesses it.
_SAYS_YES_OR_NO = re.compile(r"\W*(oui|non)\b(?!-)", re.IGNORECASE)
# Otherwise the sentence answers «non» when it denies what the question does not («ne … pas»,
# «aucun», «impossible», «a refusé»): «A-t-il refusé… ?» is answered «oui» by «il a refusé…».
_NEGATION = re.compile(
    r"\bn(?:e\b|['’])[^.;:]*?\b(?:pas|plus|jamais|rien|aucune?|guère|personne|nullement)\b"
    r"|\b(?:aucune?|jamais|impossible|interdite?s?|refus\w*|rejet\w*|rejett\w*|renonc\w*|dément\w*|démenti\w*)\b",
    re.IGNORECASE,
)


def opening_yes_no(text: str) -> str | None:
    """«oui» or «non» when ``text`` opens with the word, else None.

    >>> opening_yes_no("Oui, votre assurance auto peut vous couvrir."), opening_yes_no("Nonobstant la loi…")
    ('oui', None)
    """
    said = _SAYS_YES_OR_NO.match(text)
    return said.group(1).lower() if said else None


def denies(sentence: str, question: str) -> bool:
    """Whether ``sentence`` denies in words that ``question`` does not use.

    >>> denies("OpenAI a refusé d'entamer des négociations.", "OpenAI a-t-il accepté de négocier ?")
    True
    >>> denies("OpenAI a refusé d'entamer des négociations.", "OpenAI a-t-il refusé de négocier ?")
    False
    >>> denies("Les contrats restent valables jusqu'à leur terme.", "Les contrats restent-ils valables ?")
    False
    """
    asked = {m.group(0).lower() for m in _NEGATION.finditer(question)}
    return any(m.group(0).lower() not in asked for m in _NEGATION.finditer(sentence))
