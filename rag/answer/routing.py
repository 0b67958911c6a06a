"""Which path answers a question: the reader, a yes/no reading, the metadata, a reading
article by article, or the LLM.

The extractive reader (:mod:`rag.answer.reader`) is good at a fact stated in one place: a
name, a number, a place, a date. Some questions ask for something else, and rules on the
question's words send them to a path that suits them:

- ``metadata``: what a question asks about the article itself: when it was published («De
  quand date l'article… ?»), who signed it («Qui a écrit l'article… ?»), its rubric («Dans
  quelle rubrique… ?») or its outlet («Quel journal a publié l'article… ?»)
  (:func:`asked_field`). The answer is in the article's metadata, not in its words;
- ``yesno``: no interrogative word («Le bureau de Paris est-il le premier… ?»). The reader
  finds the sentence, and oui or non is read from it (:mod:`rag.answer.yes_no`; with
  ``DEPECHE_YES_NO=llm`` the LLM chooses, by its logits);
- ``across``: a question across articles («En rassemblant les deux articles…», «… dans
  chacun des deux articles ?»). The reader reads each article's passages apart, and the
  answer joins what it found in each, every part with its own quotation (a yes/no question
  across articles goes to the LLM);
- ``open``: a summary («Résume…», «Que disent les articles sur… ?»), a list («Quels sont
  les… ?», «Cite…»), a cause, a manner, an event or a definition («Pourquoi… ?», «Comment… ?»,
  «Que s'est-il passé… ?», «Qu'est-ce que… ?»: :func:`asks_explanation`). No single span
  answers these: the sentences that do are gathered across articles
  (:mod:`rag.answer.gathering`) and they are the answer, quoted (``DEPECHE_OPEN=quote``, the
  default), or the LLM writes from them, checked (:mod:`rag.answer.writing`);
- ``llm``: a yes/no question across articles: the LLM writes from the evidence, checked
  (:mod:`rag.answer.checking`);
- ``reader``: everything else.

>>> [route(q) for q in ["Dans quelle ville OpenAI ouvre-t-elle un bureau ?",
...                      "Le bureau de Paris est-il le premier en Europe ?",
...                      "Résume l'article sur Munich.",
...                      "De quand date l'article sur Paris ?",
...                      "Quels sont les concurrents d'OpenAI cités ?",
...                      "Comment Sam Altman est-il présenté dans chacun des deux articles ?",
...                      "Cite les villes où OpenAI s'installe.",
...                      "Quel quotidien est cité à propos du conflit ?",
...                      "Qui a écrit l'article sur Munich ?"]]
['reader', 'yesno', 'open', 'metadata', 'open', 'across', 'open', 'reader', 'metadata']

«ou» (or) is no «où» (where), and «qui», «quand» joining a clause ask nothing:

>>> [route(q) for q in ["Peut-on filmer ou prendre des photos depuis le ciel ?",
...                      "Où OpenAI ouvre-t-elle un bureau ?", "ou se trouve le bureau ?",
...                      "Un étranger qui s'installe en France doit-il immatriculer son véhicule ?",
...                      "A-t-on droit au PTZ quand on est déjà propriétaire ?",
...                      "À qui OpenAI a-t-elle confié le bureau ?", "Le bureau a ouvert quand ?"]]
['yesno', 'reader', 'reader', 'yesno', 'yesno', 'reader', 'reader']
"""

from __future__ import annotations

import re

from rag.text import fold_accents

PATHS = ("reader", "yesno", "metadata", "across", "open", "llm")

_INTERROGATIVE = re.compile(
    r"\b(quoi|quel|quelle|quels|quelles|lequel|laquelle|lesquels|lesquelles|comment|combien|pourquoi)\b"
    # «qui», «que» and «quand» also join a clause («Un étranger qui s'installe en France doit-il… ?»,
    # «A-t-on droit au PTZ quand on est propriétaire ?»): they ask only where a question opens,
    # after a preposition («À qui… ?», «Depuis quand… ?»), after «:» or «,», or at its end
    # («… a été découvert quand ?»).
    r"|(?:^|[:,;]|\d|\b(?:a|de|d'|pour|avec|par|chez|sur|contre|selon|depuis|jusqu'a|vers|envers|entre))\s*"
    r"(?:qui|que|qu|quand)\b|\b(?:qui|quand)\s*\??\s*$"
)
# «où» once folded is «ou»: where, only with its accent, or unaccented where «or» cannot stand
# (first, or after a preposition: «Ou se trouve… ?», «d'ou vient… ?»). «Peut-on filmer ou
# prendre des photos… ?» asks yes or no.
_WHERE = re.compile(r"où|^\s*ou\b|(?:\bd'|\bjusqu'|\bpar |\bvers )ou\b")
_SUMMARY = re.compile(r"\b(resume[rz]?|resumer|en resume|synthese|synthetise[rz]?|que disent|que dit)\b")
_ACROSS = re.compile(
    r"\b(les deux articles|deux articles|en rassemblant|d'un article a l'autre|les articles|chaque article"
    r"|chacun des articles|entre les)\b"
)
# «Quels sont…», or an order at the start: «Cite…» (not «… est cité»)
_LIST = re.compile(r"^\s*(quels|quelles) sont\b|^\s*(cite[rz]?|enumere[rz]?|liste[rz]?)\b")
# «Quels ont été les principaux…», «Quelles sont les grandes étapes…»: a list, whatever its verb
_PRINCIPAL = re.compile(r"^\s*(quels|quelles)\b.{0,25}\b(principa(?:l|le|les|ux)|grand(?:e|s|es)? (?:etapes|lignes))\b")
_PUBLICATION = re.compile(
    r"\b(de quand date|date de publication|quand (l'|cet )?article|publie[es]? quand|quelle est la date de l'article)\b"
)


# What a question asks about the article itself (:func:`asked_field`), on folded text.
_ARTICLE = r"(?:l'|cet |cette |ce |le |la )(?:article|texte|papier|depeche|chronique|tribune)"
_FIELDS = (
    ("date", _PUBLICATION),
    (
        "author",
        re.compile(
            rf"\bqui (?:a|l'a) (?:ecrit|redige|signe)(?: {_ARTICLE}|\s*\??\s*$)|\bqui signe {_ARTICLE}"
            r"|\b(?:qui|quel|quelle) (?:est|etait) (?:l'auteur|l'autrice|son auteur|son autrice)"
            r"(?:\s*\??\s*$| (?:de l'|de cet |de cette |de ce |du )(?:article|texte|papier|depeche))"
            r"|\bpar qui\b.*\b(?:ecrit|redige|signe)"
        ),
    ),
    ("rubric", re.compile(r"\brubrique\b")),
    (
        "site",
        re.compile(
            rf"\b(?:quel|quelle|quels) (?:journal|media|site|quotidien|magazine|hebdomadaire|publication|titre)"
            rf"(?: de presse)? (?:a publie|publie|a diffuse|diffuse)\b|\bdans quel (?:journal|media|quotidien|"
            rf"magazine|site)(?: de presse)? (?:{_ARTICLE} )?(?:a-t-il ete |est-il |a ete |est )?(?:publie|paru)"
        ),
    ),
)


def asked_field(question: str) -> str | None:
    """The article's field a question asks for: ``date``, ``author``, ``rubric``, ``site``, or None.

    >>> [asked_field(q) for q in ["De quand date l'article sur Paris ?", "Qui a écrit l'article sur Munich ?",
    ...     "Quel est l'auteur de cet article ?", "Dans quelle rubrique l'article est-il paru ?",
    ...     "Quel journal a publié l'article sur Munich ?", "Qui a fondé Station F ?",
    ...     "Quel quotidien est cité à propos du conflit ?", "Qui a écrit la lettre au ministre ?",
    ...     "Quel est l'auteur du rapport cité ?", "Quelle expérience l'auteur de l'article a-t-il ?"]]
    ['date', 'author', 'author', 'rubric', 'site', None, None, None, None, None]
    """
    text = _folded(question)
    return next((field for field, pattern in _FIELDS if pattern.search(text)), None)


def _folded(question: str) -> str:
    return fold_accents(question.lower().replace("’", "'"))


def route(question: str) -> str:
    """The path for ``question`` (one of :data:`PATHS`); see the module's docstring."""
    text = _folded(question)
    interrogative = bool(
        _INTERROGATIVE.search(text.replace("-", " ")) or _WHERE.search(question.lower().replace("’", "'"))
    )
    if asked_field(text):
        return "metadata"
    if _SUMMARY.search(text):
        return "open"
    if _ACROSS.search(text):  # a yes/no across articles is for the LLM: no one sentence says it
        return "across" if interrogative else "llm"
    if _LIST.search(text) or _PRINCIPAL.search(text) or asks_explanation(question):
        return "open"
    if text.startswith("est-ce qu") or not interrogative:
        return "yesno"
    return "reader"


# «… apparaît / figure / est cité(e)(s) / mentionné / évoqué / nommé dans les deux articles»,
# «… à la fois dans…», «… commun(e)(s) aux deux articles», «… en commun». Not «dans chacun des
# deux articles» (each its own) nor «dans l'ensemble des deux articles» (all of them).
_SHARED = re.compile(
    r"\b(?:apparai\w*|apparaiss\w*|figur\w*|cite[es]?|mentionne[es]?|evoque[es]?|nomme[es]?|present\w*"
    r"|retrouv\w*)\s+(?:a la fois\s+)?dans\s+les\s+deux\s+(?:articles|textes)\b"
    r"|\ba la fois dans\b|\bcommun(?:e|s|es)? aux (?:deux )?(?:articles|textes)\b|\ben commun\b"
)


def asks_shared(question: str) -> bool:
    """Whether ``question`` asks for what the articles have in common.

    >>> [asks_shared(q) for q in ["Quelle ville apparaît dans les deux articles ?",
    ...     "Quel dirigeant est cité dans les deux articles ?", "Que les deux articles ont-ils en commun ?",
    ...     "Comment Sam Altman est-il présenté dans chacun des deux articles ?",
    ...     "Quels concurrents sont cités dans l'ensemble des deux articles ?",
    ...     "En rassemblant les deux articles, dans quelles villes OpenAI est-il implanté ?"]]
    [True, True, True, False, False, False]
    """
    return bool(_SHARED.search(_folded(question)))


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


# Questions no phrase of a sentence answers: a cause, a manner, an event, what a thing or a
# person is. Their answer is the sentence itself, quoted (:func:`rag.answer.compose.compose_sentence`).
_EXPLANATION = re.compile(
    r"\bpourquoi\b|\bpour quelle(?:s)? raison|\bcomment\b(?!\s+(?:s'appell|se nomm|s'intitul|appelle-t|nomme-t))"
    r"|\bde quelle (?:maniere|facon)\b|\bpar quel moyen\b|\bque s'est-il passe\b|\bque se passe-t-il\b"
    r"|\bqu'est-il (?:arrive|advenu)\b|\bqu'est-ce qu(?:e|')|\bque (?:designe|signifie|veut dire|recouvre)\b"
    r"|\bc'est quoi\b"
)
_WHO_IS = re.compile(r"^\W*[Qq]ui (?:est|était|etait|sont|étaient|etaient)\s+(?!Le |La |Les |L')[A-ZÀ-ÖØ-Þ]")


def asks_explanation(question: str) -> bool:
    """Whether ``question`` asks for a cause, a manner, an event or a definition: no short span answers it.

    >>> [asks_explanation(q) for q in ["Pourquoi le match a-t-il été reporté ?", "Comment s'appelle le maire ?",
    ...     "Que s'est-il passé à Bandol ?", "Qu'est-ce que le RIC ?", "Que désigne le sigle Fugea ?",
    ...     "Comment la police a-t-elle identifié les casseurs ?", "Qui est Éric Drouet ?", "Qui a lancé l'appel ?"]]
    [True, False, True, True, True, True, True, False]
    """
    return bool(_EXPLANATION.search(_folded(question)) or _WHO_IS.search(question))
