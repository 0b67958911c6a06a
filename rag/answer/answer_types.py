"""What kind of answer a question asks for, and whether a span or a sentence gives one.

«Quel est le montant…» asks for a sum of money, «Combien…» for a number, «Quand…» for a
date, «À quelle adresse…» for a street, «Comment s'appelle…» for a name. An
answer of another kind is refused (:mod:`rag.answer.reading`) and a sentence of another kind
is never quoted (:meth:`rag.answer.checking.AnswerChecker.quotation`).

Each kind has *strong* marks, which say it anywhere («2025», «mars», «douze»), and *weak*
ones, which say it only at the start of a short span: «une heure et demie», «au sixième match», «après
la guerre», «à la fin du XIXe siècle». A sentence, which always holds some «un» or «après»,
must show a strong mark. The marks were checked against PIAF's gold answers: ``python -m eval
answer-types`` counts the gold answers each kind would refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEAD_WORDS = 3  # a weak mark counts among a span's first words only,
SHORT_SPAN = 6  # and in a short span: «Un stockage des données au sein de l'Union…» is no count

_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
_WEEKDAYS = "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"


def _words(alternatives: str) -> re.Pattern:
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


@dataclass(frozen=True)
class AnswerType:
    name: str
    asks: re.Pattern  # matches a question asking for this kind
    strong: re.Pattern  # a mark of the kind anywhere
    weak: re.Pattern | None = None  # a mark of the kind at a span's start

    def in_sentence(self, text: str) -> bool:
        """Whether a sentence gives an answer of this kind (a strong mark)."""
        return bool(self.strong.search(text))

    def in_span(self, text: str) -> bool:
        """Whether a span is an answer of this kind: a strong mark, or a weak one at its start.

        >>> NUMBER.in_span("une heure et demie"), NUMBER.in_span("Xavier Niel, et un sommet")
        (True, False)
        >>> NUMBER.in_span("Un stockage des données au sein de l'Union européenne")
        False
        """
        if self.strong.search(text):
            return True
        words = text.split()
        return (
            self.weak is not None and len(words) <= SHORT_SPAN and bool(self.weak.search(" ".join(words[:LEAD_WORDS])))
        )


MONEY = AnswerType(
    "somme",
    re.compile(
        r"\bquel(?:le)?s? (?:est |sera |était |a été )?(?:le |la |l')?(?:montant|loyer|salaire|rémunération|coût)\b"
        r"|\bcombien (?:co[uû]t|gagn|rapport|vaut|valai|pay)|\bà combien s'élève",
        re.IGNORECASE,
    ),
    re.compile(
        r"[€$£¥]|\b(?:euros?|dollars?|livres?|francs?|yens?|yuans?|roubles?|roupies?|pesos?|marks?|centimes?"
        r"|cents|millions?|milliards?|M€|Md€|k€)\b",
        re.IGNORECASE,
    ),
)
NUMBER = AnswerType(
    "nombre",
    re.compile(
        r"^(?:\S+\s+){0,3}combien\b|\bquel(?:le)?s? (?:est |sera |était )?(?:le |la |l')?"
        r"(?:âge|nombre|chiffre|capacité|prix|budget|somme|taux|effectif)\b",  # a sum asked: MONEY, first
        re.IGNORECASE,
    ),
    re.compile(
        r"\d|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt"
        r"|trente|quarante|cinquante|soixante|cent|cents|mille|millions?|milliards?|milliers?|dizaines?"
        r"|centaines?)\b",
        re.IGNORECASE,
    ),
    _words(
        r"une?|aucune?|zéro|plusieurs|quelques|seule?|premier|première|\w+ièmes?"  # «au sixième match»
        r"|douzaines?|quinzaines?|vingtaines?|trentaines?|quarantaines?|cinquantaines?"
    ),
)
DATE = AnswerType(
    "date",
    re.compile(r"^(?:\S+\s+){0,2}quand\b|\bquelle date\b|\bquelle année\b|\bdepuis quand\b", re.IGNORECASE),
    re.compile(
        rf"\d|\b(?:{_MONTHS}|{_WEEKDAYS}|années?|mois|semaines?|siècles?|décennies?|antiquité|moyen âge"
        r"|prochain|prochaine|dernier|dernière|plus tard|bientôt|hier|demain|aujourd'hui)\b"
        r"|\b[IVXL]+e\b",  # «au XVIe siècle»
        re.IGNORECASE,
    ),
    _words(
        r"an|ans|jours?|journée|nuit|matin|soir|saison|été|hiver|printemps|automne|époque|moment|début|fin|milieu"
        r"|mort|naissance|avant|après|pendant|durant|lors|dès|depuis|jusqu|à partir"
    ),
)
ADDRESS = AnswerType(
    "adresse",
    re.compile(r"\bquelle adresse\b|\bl'adresse (?:du|de|des)\b", re.IGNORECASE),
    re.compile(
        r"\d|\b(?:rue|avenue|boulevard|bd|place|quai|allée|chemin|route|impasse|cours|square|esplanade|parvis)\b",
        re.IGNORECASE,
    ),
)
NAME = AnswerType(
    "nom",
    re.compile(
        r"\bcomment (?:s'appell|se nomm|s'intitul)|\bquel(?:le)?s? (?:est|était|sont|étaient) (?:le|les) noms?\b"
        r"|\bsous quel nom\b",
        re.IGNORECASE,
    ),
    re.compile(r"[A-ZÀ-ÖØ-Þ]|[«\"]"),  # a name: «Mistral AI», «Le Monde»
    re.compile(r"\w"),  # or a short span: «l'astronomie», «un triptyque»
)
SHARE = AnswerType(
    "part",
    re.compile(
        r"\bquel(?:le)? (?:est |était |sera )?(?:la |le )?(?:part|proportion|pourcentage|fraction)\b"
        r"|\bquel pourcentage\b|\bà quel pourcentage\b",
        re.IGNORECASE,
    ),
    re.compile(r"\d|%|\bpour ?cent\b|\b(?:moitié|tiers|quarts?|majorité|minorité|totalité|unanimité)\b", re.IGNORECASE),
    _words(r"aucune?|peu|quasi|presque|plupart|ensemble|tous|toutes"),
)
AGE = AnswerType(
    "âge",
    re.compile(r"\bquel âge\b|\bâgée?s? de combien\b|\bà quel âge\b", re.IGNORECASE),
    re.compile(
        r"\bans?\b|\bâgée?s?\b|\b\w+génaires?\b|\b(?:trente|quarante|cinquante|soixante)naine\b"
        r"|\b(?:jeune|adolescente?|enfant|bébé|majeure?|mineure?|retraitée?)s?\b",
        re.IGNORECASE,
    ),
)
# «Quel maire… ?», «Quel prêtre… ?»: a person named, as the passage writes the name (a capital
# past a determiner); «Un prêtre célébrera une messe» names nobody.
_PERSON_NOUNS = (
    r"maires?|ministres?|prêtres?|curés?|évêques?|commissaires?|préfète?s?|présidente?s?|députée?s?|sénateurs?"
    r"|sénatrices?|avocate?s?|juges?|procureure?s?|joueurs?|joueuses?|entraîneurs?|chanteurs?|chanteuses?"
    r"|artistes?|journalistes?|écrivaine?s?|hackers?|professeure?s?|porte-parole|leaders?"
    r"|dirigeante?s?|candidate?s?|élue?s?|personnalités?|militante?s?|syndicalistes?|policiers?|gendarmes?"
    r"|fondateurs?|fondatrices?|directeurs?|directrices?|patrons?|patronnes?|rappeurs?|rappeuses?|politologues?"
    r"|sociologues?|historiens?|historiennes?|économistes?|cinéastes?|réalisateurs?|réalisatrices?|hommes? politiques?"
    r"|femmes? politiques?|animateurs?|animatrices?|comédiens?|comédiennes?|footballeurs?|cyclistes?|pilotes?"
)
_NOT_A_NAME = (
    r"(?:Le|La|Les|L|Un|Une|Des|Du|De|D|Ce|Cet|Cette|Ces|Son|Sa|Ses|Leur|Leurs|Il|Elle|Ils|Elles|On|À|Au|Aux|En"
    r"|Dans|Selon)"
)
NAMED = AnswerType(
    "personne nommée",
    re.compile(
        rf"^\W*(?:(?:à|par|avec|pour|de|contre|selon|d'après)\s+)?quel(?:le)?s? (?:{_PERSON_NOUNS})\b"
        rf"|^\W*qui (?:est|était) (?:le|la|l') ?(?:{_PERSON_NOUNS})\b"
        r"|^\W*(?:(?:à|par|avec|pour|de|contre|selon|d'après)\s+)?quel(?:le)?s? (?:parti|syndicat|association|club"
        r"|entreprise|journal|quotidien|hebdomadaire|magazine|chaîne|agence|collectif|fédération|banque|ONG)s?\b"
        rf"|\bcomment s'appel\w*\s+(?:l'|le |la |les |ce |cette )(?:jeune |)(?:homme|femme|garçon|fille|victime"
        rf"|conducteur|conductrice|chauffeur|berger|bergère|manifestante?|suspecte?|agresseur|individu|{_PERSON_NOUNS})\b",
        re.IGNORECASE,
    ),
    re.compile(rf"(?:^|[\s(«\"'’-])(?!{_NOT_A_NAME}\b)[A-ZÀ-ÖØ-Þ]"),
)


@dataclass(frozen=True)
class NotOnly(AnswerType):
    """A kind told by what it is not: «Qui a lancé l'appel… ?» takes a name, a body or a role
    («des agriculteurs», «les puissances européennes coalisées»), never a bare quantity or
    date («Douzaine», «samedi»). ``strong`` matches the words that alone are no answer."""

    def in_sentence(self, text: str) -> bool:
        return True

    def in_span(self, text: str) -> bool:
        """
        >>> [PERSON.in_span(t) for t in ("douzaine", "une centaine", "samedi 8 décembre", "des élus", "la CGT")]
        [False, False, False, True, True]
        """
        words = [w for w in re.findall(r"[\w'-]+", text.lower()) if w not in _FILLERS]
        return bool(words) and not all(self.strong.fullmatch(w) for w in words)


_FILLERS = {"un", "une", "des", "de", "d", "du", "le", "la", "les", "l", "et", "à", "au", "en", "environ", "plus"}
PERSON = NotOnly(
    "personne",
    re.compile(
        r"^\W*(?:et\s+|mais\s+)?qui\b(?!\s+(?:est|était|sont|étaient|fut)\b)"
        r"|\b(?:par|à|avec|pour|contre|chez|selon|d'après|de) qui\b",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\d[\d\s.,]*|{NUMBER.strong.pattern}|{NUMBER.weak.pattern}|(?:{_MONTHS}|{_WEEKDAYS})"
        r"|hier|demain|aujourd'hui|matin|soir|nuit|midi|minuit|heures?|h|jours?|semaines?|mois|ans?|années?",
        re.IGNORECASE,
    ),
)
PLACE = AnswerType(
    "lieu",
    re.compile(
        r"\bdans quel(?:le)?s? (?:ville|commune|village|région|pays|département|localité|quartier|rue)s?\b"
        r"|\b(?:quel|quelle)s? (?:ville|commune|village|région|pays|localité)s?\b",
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?:^|[\s(«\"'’-])(?!{_NOT_A_NAME}\b)[A-ZÀ-ÖØ-Þ]|\d"
        r"|(?i:\b(?:rues?|places?|avenues?|boulevards?|quartiers?|villes?|villages?|communes?|régions?|pays"
        r"|départements?|provinces?|territoires?|capitales?|banlieues?|centre-ville|campagnes?|étranger)\b)"
        r"|(?i:\b\w+(?:ais|aise|ois|oise|ien|ienne|ain|aine|and|ande|ol|ole|que|an|ane)s?\b)"
    ),
)
# The first that a question asks for is the one checked.
ANSWER_TYPES = (MONEY, SHARE, AGE, NUMBER, DATE, ADDRESS, NAMED, NAME, PERSON, PLACE)


def asked_type(question: str) -> AnswerType | None:
    """The kind of answer ``question`` asks for, or None for any.

    >>> asked_type("Quel est le loyer du bureau ?").name, asked_type("À quelle adresse est le siège ?").name
    ('somme', 'adresse')
    >>> [asked_type("Quel montant réclamaient-ils ?").in_span(a) for a in ("15 millions", "2 000 euros", "800")]
    [True, True, False]
    >>> [asked_type("Comment s'appellent les syndicats ?").in_span(a) for a in ("le SNJ", "la drave")]
    [True, True]
    >>> asked_type("Comment s'appellent les syndicats ?").in_span("refusé de négocier avec deux syndicats de presse")
    False
    >>> [asked_type("Quand l'arche fut-elle bâtie ?").in_span(a) for a in ("au XVIe siècle", "Xavier Niel")]
    [True, False]
    >>> [asked_type("À quelle adresse est le siège ?").in_span(a) for a in ("12, rue de Rivoli", "À Paris")]
    [True, False]
    >>> asked_type("Qui a fondé Station F ?").name, asked_type("Qui est Sam Altman ?") is None
    ('personne', True)
    """
    return next((kind for kind in ANSWER_TYPES if kind.asks.search(question)), None)
