"""Follow-up questions made standalone for search, by plain rules (no model call).

``standalone_question(question, history)`` rewrites the user's latest question so that it can
be searched alone (BM25 and embeddings). ``history`` holds the user's earlier questions, oldest
first; each is made standalone in turn, and the *context* of a question is the one before it,
so rewritten: three-turn dialogues work.

1. A question that stands alone comes back unchanged (white space normalized). A question
   needs context when it
   - starts with «Et», «Mais» or «Alors» («Et si …» too);
   - has at most two content words (French stopwords and interrogatives removed) and no name:
     «Quel est son rôle ?»;
   - holds an anaphoric pronoun: «il(s)», «elle(s)» as subject (an inverted «-t-il» only when
     no name or determiner comes before the verb: «Quand ouvrira-t-il ?» but not «Quand OpenAI
     ouvrira-t-il ?»); «le», «la», «les», «l'», «leur», «en» before a verb (an auxiliary, an
     inverted verb, or any word after «qui», «ne» or a subject pronoun): «Qui l'a annoncé ?» but
     not «l'entreprise»; «lui»; «y» (not «il y a», «y a-t-il»); «celui», «celle(s)», «ceux»,
     «cela», «ceci», «ça», «ce dernier».
2. An ellipsis made of a preposition and a name (or a number) takes the place of the context's
   last phrase with the same kind of preposition (à, au, aux, en, dans all say where):

   >>> standalone_question("Et à Paris ?", ["Quand OpenAI ouvrira-t-il un bureau à Munich ?"])
   'Quand OpenAI ouvrira-t-il un bureau à Paris ?'

   A bare name replaces the context's main name: its first group of capitalized words, the
   question's first word counting only when clearly a name («OpenAI», «Sam Altman»):

   >>> standalone_question("Et Mistral AI ?", ["Combien d'argent OpenAI a-t-il levé ?"])
   "Combien d'argent Mistral AI a-t-il levé ?"

3. Otherwise the question is followed by its context, so that search sees the words of both:

   >>> standalone_question("Qui l'a annoncé ?", ["Quand OpenAI ouvrira-t-il un bureau à Munich ?"])
   "Qui l'a annoncé ? (à propos de : Quand OpenAI ouvrira-t-il un bureau à Munich ?)"

The result is never empty (a blank question raises :class:`~rag.errors.EmptyQuestionError`
when there is no context either) and at most ``MAX_CHARS`` long: the context is cut first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.citations import STOPWORDS, content_words
from rag.errors import EmptyQuestionError
from rag.text import fold_accents

MAX_CHARS = 2000
_INTERROGATIVES = frozenset("quel quelle quels quelles quoi quand comment combien pourquoi lequel laquelle".split())
_FUNCTION = STOPWORDS | _INTERROGATIVES | {"outre", "parmi", "selon", "depuis", "apres", "avant", "entre", "vers"}
_ACRONYMS = frozenset("IA AI PDG API RGPD UE CEO DG".split())  # capitalized common nouns, not names
_A = "['’]"
_AUX = r"(?:a|ai|as|avons|avez|ont|avait|avaient|aura|auront|aurait|est|sont|était|étaient|sera|seront|serait)\b"
_INVERTED = r"\w+-(?:t-)?(?:il|elle|ils|elles|on)\b"
_NAME_RE = re.compile(r"(?<![\w-])[A-ZÀ-ÖØ-Þ][\w-]*(?:\s+[A-ZÀ-ÖØ-Þ][\w-]*)*")
_TARGET = rf"(?:[lL]{_A}|(?:[lL][ae]|[lL]es)\s+)?(?:{_NAME_RE.pattern}|\d+)"
_PHRASE_RE = re.compile(
    rf"(?<!\w)(?P<prep>(?i:à|au|aux|en|dans|pour|chez|par|avec|sur|contre|de|du|des)\s+|(?i:d){_A})(?P<what>{_TARGET})"
)
_BARE_RE = re.compile(rf"(?P<art>[lL]{_A}|(?:[lL][ae]|[lL]es)\s+)?(?P<name>{_NAME_RE.pattern})")
_CONNECTOR_RE = re.compile(r"^(?:(?:et|mais|alors)\b[\s,]*)+", re.IGNORECASE)
_KIND = {"au": "à", "aux": "à", "en": "à", "dans": "à", "du": "de", "des": "de", "d'": "de"}
_ANAPHORA = [  # each pattern alone says "this question leans on an earlier one"
    re.compile(rf"(?i:\b(?:l{_A}|(?:le|la|les|leur|en)\s+))(?:{_AUX}|{_INVERTED})"),
    re.compile(
        rf"(?i:(?<![\w-])(?:qui|ne|je|tu|il|elle|on|nous|vous|ils|elles)\s+|\b(?:n|qu){_A})"
        rf"(?i:l{_A}|(?:le|la|les|leur|en)\s+)[a-zà-ÿœ]"
    ),
    re.compile(r"(?i)(?<![\w-])(?:lui|celui|celles?|ceux|cela|ceci|ça)\b|\b(?:ce|cette|ces)\s+derni(?:er|ère)s?\b"),
    re.compile(r"(?i)(?<!\bil\s)(?<![\w-])y\b(?!\s+(?:a|avait|aura)-t-il)"),
    re.compile(r"(?i)(?<![\w-])(?:il|elle|ils|elles)\b(?!\s+(?:y\b|faut\b|s['’]agit\b))"),
]
_SUBJECT_RE = re.compile(rf"(?i:\b(?:le|la|les|un|une|ce|cet|cette|ces|son|sa|ses|leurs?|nos|vos)\s|\bl{_A})")
_VOWEL_RE = re.compile(r"(?i)[aeiouyhàâéèêîôû]")
_CONTRACT = {("à", "le"): "au", ("à", "les"): "aux", ("de", "le"): "du", ("de", "les"): "des"}
_INVERSION_RE = re.compile(r"(?i)(?P<verb>\w+)-(?:t-)?(?:il|elle|ils|elles)\b")


def _names(text: str) -> list[re.Match[str]]:
    """Groups of capitalized words; the first word of the text only when clearly a name."""
    found = []
    for match in _NAME_RE.finditer(text):
        words = match.group().split()
        if match.start() == 0 and (
            fold_accents(words[0].lower()) in _FUNCTION or (len(words) == 1 and words[0][1:].islower())
        ):
            rest = _NAME_RE.search(text, len(words[0]), match.end())
            if rest is None:
                continue
            match = rest
        found.append(match)
    return found


def needs_context(question: str) -> bool:
    """Whether ``question`` leans on an earlier one (the rules are in the module docstring).

    >>> [needs_context(q) for q in ["Que s'est-il passé à Narbonne le 1er décembre ?", "Que se passe-t-il à Paris ?",
    ...     "Qu'est-il arrivé au préfet de La Réunion ?", "Qu'a-t-il dit ?", "Quand ouvrira-t-il ?"]]
    [False, False, False, True, True]
    """
    if _CONNECTOR_RE.match(question) or any(pattern.search(question) for pattern in _ANAPHORA):
        return True
    for inversion in _INVERSION_RE.finditer(question):
        before = question[: inversion.start()]
        if inversion["verb"].lower() in ("faut", "agit") or re.search(r"(?i)\by\s+$", before):
            continue  # «faut-il», «s'agit-il», «y a-t-il»: no one is meant
        impersonal = re.search(rf"(?i)\bqu(?:e\s+s{_A}|e\s+se\s+|{_A})$", before)
        if inversion["verb"].lower() in ("est", "passe") and impersonal:
            continue  # «Que s'est-il passé… ?», «Que se passe-t-il… ?», «Qu'est-il arrivé… ?»: impersonal
        if not _SUBJECT_RE.search(before) and not any(n.end() <= inversion.start() for n in _names(question)):
            return True
    words = content_words(question) - _INTERROGATIVES
    return len(words) <= 2 and not _names(question)


def _splice(text: str, start: int, end: int, new: str) -> str:
    """``text`` with ``[start:end]`` replaced by ``new``, fixing elision and contraction at the seam."""
    before = text[:start]
    elided = re.search(rf"(?i)\b(d|qu){_A}$", before)
    if elided and not _VOWEL_RE.match(new):  # d'OpenAI -> de Mistral AI
        before = before[: elided.start()] + elided[1] + "e "
    elif (full := re.search(r"(?i)\b(d|qu)e\s+$", before)) and _VOWEL_RE.match(new):  # de OpenAI -> d'OpenAI
        before = before[: full.start()] + full[1] + "'"
    preposition, article = re.search(r"(?i)\b(à|de)\s+$", before), re.match(r"(?i)(les?)\s+", new)
    if preposition and article:  # à le -> au, de les -> des
        word = _CONTRACT[preposition[1].lower(), article[1].lower()]
        before = before[: preposition.start()] + (word.capitalize() if preposition[1][0].isupper() else word) + " "
        new = new[article.end() :]
    joined = before + new
    if start == 0:
        joined = joined[:1].upper() + joined[1:]
    return joined + text[end:]


def _kind(phrase: re.Match[str]) -> tuple[str, bool]:
    """What a prepositional phrase says: («à», False) for «en Allemagne», («à», True) for «en 2025»."""
    preposition = phrase["prep"].strip().lower().replace("’", "'")
    return _KIND.get(preposition, preposition), phrase["what"][-1].isdigit()


def _substitute(fragment: str, context: str) -> str | None:
    """``context`` with ``fragment`` («à Paris», «Mistral AI») in place of its counterpart, or None."""
    phrase = _PHRASE_RE.fullmatch(fragment)
    if phrase:
        same = [m for m in _PHRASE_RE.finditer(context) if _kind(m) == _kind(phrase)]
        return _splice(context, same[-1].start(), same[-1].end(), fragment) if same else None
    bare = _BARE_RE.fullmatch(fragment)
    if not bare or set(bare["name"].split()) <= _ACRONYMS:
        return None
    for name in _names(context):
        if not set(name.group().split()) <= _ACRONYMS:
            article = re.search(rf"(?i)\b(?:l{_A}|(?:le|la|les)\s+)$", context[: name.start()])
            start = article.start() if article and (bare["art"] or article[0][-1] in "'’") else name.start()
            return _splice(context, start, name.end(), fragment)
    return None


CONTEXT_MARK = " (à propos de : "


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rsplit(" ", 1)[0] + "…"


def _rewrite(question: str, context: str | None) -> str:
    if not context or not needs_context(question):
        return _cut(question, MAX_CHARS)
    fragment = _CONNECTOR_RE.sub("", question).rstrip(" ?!.…")
    if fragment != question.rstrip(" ?!.…"):
        substituted = _substitute(fragment, context)
        if substituted:
            return _cut(substituted, MAX_CHARS)
    room = MAX_CHARS - len(question) - len(CONTEXT_MARK) - 1
    if room < 20:
        return _cut(question, MAX_CHARS)
    return f"{question}{CONTEXT_MARK}{_cut(context, room)})"


def own_question(search: str) -> str:
    """The question itself, without the context :func:`standalone_question` may append: what
    the reader reads (it was trained on single questions), while search and the answer check
    see both.

    >>> own_question("Qui l'a annoncé ? (à propos de : Quand OpenAI ouvrira-t-il un bureau à Munich ?)")
    "Qui l'a annoncé ?"
    """
    return search.split(CONTEXT_MARK, 1)[0]


def standalone_question(question: str, history: Sequence[str]) -> str:
    """``question`` made searchable alone, given the user's earlier questions (oldest first)."""
    context = None
    for earlier in history:
        earlier = " ".join(earlier.split())
        if earlier:
            context = _rewrite(earlier, context)
    question = " ".join(question.split())
    if not question:
        if context:
            return context
        raise EmptyQuestionError()
    return _rewrite(question, context)
