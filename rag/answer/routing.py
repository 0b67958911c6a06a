"""Which path answers a question: the reader, a yes/no reading, the metadata, a reading
article by article, or the LLM.

The extractive reader (:mod:`rag.answer.reader`) is good at a fact stated in one place: a
name, a number, a place, a date. Some questions ask for something else, and rules on the
question's words send them to a path that suits them:

- ``metadata``: when an article was published («De quand date l'article… ?»). The answer is
  in the passage's metadata, not in its words;
- ``yesno``: no interrogative word («Le bureau de Paris est-il le premier… ?»). The reader
  finds the sentence, and the LLM chooses oui or non from it, by its logits;
- ``across``: a question across articles («En rassemblant les deux articles…», «… dans
  chacun des deux articles ?»). The reader reads each article's passages apart, and the
  answer joins what it found in each, every part with its own quotation (a yes/no question
  across articles goes to the LLM);
- ``llm``: a summary («Résume…»), a list («Quels sont les… ?»). No single span answers
  these, so the LLM writes from the evidence, checked as before (:mod:`rag.answer.checking`);
- ``reader``: everything else.

>>> [route(q) for q in ["Dans quelle ville OpenAI ouvre-t-elle un bureau ?",
...                      "Le bureau de Paris est-il le premier en Europe ?",
...                      "Résume l'article sur Munich.",
...                      "De quand date l'article sur Paris ?",
...                      "Quels sont les concurrents d'OpenAI cités ?",
...                      "Comment Sam Altman est-il présenté dans chacun des deux articles ?",
...                      "Cite les villes où OpenAI s'installe.",
...                      "Quel quotidien est cité à propos du conflit ?"]]
['reader', 'yesno', 'llm', 'metadata', 'llm', 'across', 'llm', 'reader']
"""

from __future__ import annotations

import re

from rag.text import fold_accents

PATHS = ("reader", "yesno", "metadata", "across", "llm")

_INTERROGATIVE = re.compile(
    r"\b(qui|que|qu|quoi|quel|quelle|quels|quelles|lequel|laquelle|lesquels|lesquelles|ou|quand|comment|combien"
    r"|pourquoi)\b"
)
_SUMMARY = re.compile(r"\b(resume[rz]?|resumer|en resume|synthese|synthetise[rz]?|que disent|que dit)\b")
_ACROSS = re.compile(
    r"\b(les deux articles|deux articles|en rassemblant|d'un article a l'autre|les articles|chaque article"
    r"|chacun des articles|entre les)\b"
)
# «Quels sont…», or an order at the start: «Cite…» (not «… est cité»)
_LIST = re.compile(r"^\s*(quels|quelles) sont\b|^\s*(cite[rz]?|enumere[rz]?|liste[rz]?)\b")
_PUBLICATION = re.compile(
    r"\b(de quand date|date de publication|quand (l'|cet )?article|publie[es]? quand|quelle est la date de l'article)\b"
)


def _folded(question: str) -> str:
    return fold_accents(question.lower().replace("’", "'"))


def route(question: str) -> str:
    """The path for ``question`` (one of :data:`PATHS`); see the module's docstring."""
    text = _folded(question)
    interrogative = bool(_INTERROGATIVE.search(text.replace("-", " ")))
    if _PUBLICATION.search(text):
        return "metadata"
    if _SUMMARY.search(text):
        return "llm"
    if _ACROSS.search(text):  # a yes/no across articles is for the LLM: no one sentence says it
        return "across" if interrogative else "llm"
    if _LIST.search(text):
        return "llm"
    if text.startswith("est-ce qu") or not interrogative:
        return "yesno"
    return "reader"


_SCOPE = re.compile(
    r"(?:\b(?:dans|de|des|selon|d'après)\s+)?(?:chacun des |l'ensemble des |les |ces )?(?:deux )?articles\b,?"
    r"|\ben rassemblant\b|\bd'un article à l'autre\b|\b(?:dans )?chaque article\b",
    re.IGNORECASE,
)


def without_scope(question: str) -> str:
    """The question less the words that say it spans articles: what the articles must hold.

    >>> without_scope("Comment Sam Altman est-il présenté dans chacun des deux articles ?")
    'Comment Sam Altman est-il présenté ?'
    >>> without_scope("En rassemblant les deux articles, dans quelles villes OpenAI est-il implanté ?")
    'dans quelles villes OpenAI est-il implanté ?'
    """
    return " ".join(_SCOPE.sub(" ", question.replace("’", "'")).split())
