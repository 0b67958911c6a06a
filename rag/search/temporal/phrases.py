"""The French date phrases of a question, found by rules: where each is, and the
:class:`~rag.search.temporal.scope.DateScope` it names (:func:`find_ranges`), and the words that ask for
an ordering (:func:`find_ordering`). :mod:`rag.search.temporal` says which forms are read and which
are left alone; it cuts the phrases found here from the question it searches.

Positions are in the question as given: :func:`fold` lowers and strips accents one character
for one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from rag.search.temporal.scope import DateScope
from rag.sources.dates import MONTHS

_MONTH_NUMBERS = {
    "".join(unicodedata.normalize("NFD", c)[0] for c in name): number for number, name in enumerate(MONTHS, 1)
}
# Season: (start month, start day), (end month, end day); winter ends the next year.
_SEASONS = {
    "printemps": ((3, 20), (6, 20)),
    "ete": ((6, 21), (9, 22)),
    "automne": ((9, 23), (12, 20)),
    "hiver": ((12, 21), (3, 19)),
}
_SEASON_NAMES = {"printemps": "printemps", "ete": "été", "automne": "automne", "hiver": "hiver"}
_NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "douze": 12, "quinze": 15,
}  # fmt: skip


def fold(text: str) -> str:
    """Lower case without accents, one character for one: positions in the fold are positions
    in the question, so a phrase found in one is cut from the other."""
    return "".join(unicodedata.normalize("NFD", c.lower()[:1] or c)[:1] or c for c in text).replace("’", "'")


# -- the pieces of a date, in the folded text --
_YEAR = r"(?<![\d,.])(?<!\d\s)(?<!\d-)(?P<{n}>19[5-9]\d|20\d\d)(?![\d])(?!-\d)(?!\s\d{{3}}\b)(?![.,]\d)"
_UNITS = (
    r"\s*(?:%|€|euros?|emplois?|postes?|salaries?|habitants?|personnes?|logements?|places?|metres?|km|tonnes?"
    r"|millions?|milliards?|spectateurs?|festivaliers?|voix|dollars?|embauches?|eleves?|lits?|medecins?)\b"
)
_MONTH = r"(?P<{n}>" + "|".join(_MONTH_NUMBERS) + r")\b"
_SEASON = r"(?P<{n}>printemps|ete|automne|hiver)\b"
_DAY = r"(?P<{n}>1er|[12]\d|3[01]|0?[1-9])"


def _point_pattern(tag: str) -> str:
    """A date (day, month or season, with or without its year; a year) named ``tag``."""
    y, m, s, d = (f"{tag}_{x}" for x in ("y", "m", "s", "d"))
    return (
        rf"(?P<{tag}>(?:(?:(?:le\s+)?{_DAY.format(n=d)}\s+)?{_MONTH.format(n=m)}|(?:l'|le\s+)?{_SEASON.format(n=s)})"
        rf"(?:\s+{_YEAR.format(n=y)})?|{_YEAR.format(n=y + 'o')}(?!{_UNITS}))"
    )


def _bare_season(match: re.Match[str], tag: str) -> bool:
    """A season named with neither article nor year: «été» may be the verb's «a été»."""
    return bool(match[f"{tag}_s"]) and not match[f"{tag}_y"] and not match[tag].startswith(("l'", "le "))


@dataclass(frozen=True)
class _Point:
    """A named stretch of days: «octobre 2024», «l'été 2024», «le 27 mars 2025»."""

    start: date
    end: date
    name: str  # «octobre 2024», «l'été 2024», «le 27 mars 2025», «2024»
    of: str  # «d'octobre 2024», «de l'été 2024», «du 27 mars 2025», «de 2024»


def _of(name: str) -> str:
    """«de» before ``name``, elided or contracted: d'octobre, de l'été, du 3 mars."""
    if name.startswith("le "):
        return "du " + name[3:]
    if name[:1] in "aeiouyhéèàâAEIOUYÉ" and not name[:1].isdigit():
        return "d'" + name
    return "de " + name


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def _month_point(year: int, month: int) -> _Point:
    name = f"{MONTHS[month - 1]} {year}"
    return _Point(date(year, month, 1), _month_end(year, month), name, _of(name))


def _year_point(year: int) -> _Point:
    return _Point(date(year, 1, 1), date(year, 12, 31), str(year), f"de {year}")


def _day_point(day: date) -> _Point:
    name = f"le {'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"
    return _Point(day, day, name, _of(name))


def _season_point(season: str, year: int) -> _Point:
    (m1, d1), (m2, d2) = _SEASONS[season]
    end_year = year + 1 if season == "hiver" else year
    label = f"{year}-{end_year}" if season == "hiver" else str(year)
    article = "le " if season == "printemps" else "l'"
    name = f"{article}{_SEASON_NAMES[season]} {label}"
    return _Point(date(year, m1, d1), date(end_year, m2, d2), name, _of(name))


def _span_point(start: date, end: date) -> _Point:
    """A run of days: «la semaine du 2 au 8 juin 2025»."""
    first = f"{'1er' if start.day == 1 else start.day}"
    if start.month != end.month:
        first += f" {MONTHS[start.month - 1]}"
    if start.year != end.year:
        first += f" {start.year}"
    name = f"la semaine du {first} au {end.day} {MONTHS[end.month - 1]} {end.year}"
    return _Point(start, end, name, "de " + name)


def _point(match: re.Match[str], tag: str, today: date, year_hint: int | None = None) -> _Point | None:
    """The :class:`_Point` a match of :func:`_point_pattern` names, or None (no such day).

    A month, day or season without a year takes ``year_hint`` (the other end of a range), or
    else the latest one begun by ``today`` (the finder's anchor: the corpus's newest article)."""
    group = match.groupdict()
    year_text = group.get(f"{tag}_y") or group.get(f"{tag}_yo")
    year = int(year_text) if year_text else None
    month = _MONTH_NUMBERS.get(group.get(f"{tag}_m") or "")
    season, day = group.get(f"{tag}_s"), group.get(f"{tag}_d")
    try:
        if season:
            if year is None:
                year = year_hint if year_hint is not None else today.year
                if year_hint is None and _season_point(season, year).start > today:
                    year -= 1
            return _season_point(season, year)
        if month and day:
            number = 1 if day == "1er" else int(day)
            if year is None:
                year = year_hint if year_hint is not None else today.year
                if year_hint is None and date(year, month, number) > today:
                    year -= 1
            return _day_point(date(year, month, number))
        if month:
            if year is None:
                year = year_hint if year_hint is not None else today.year
                if year_hint is None and date(year, month, 1) > today:
                    year -= 1
            return _month_point(year, month)
        return _year_point(year) if year is not None else None
    except ValueError:  # «31 février»
        return None


def _relative(text: str, today: date) -> _Point | None:
    """The :class:`_Point` of a phrase relative to today («le mois dernier»), or None."""
    if re.fullmatch(r"(?:d')?hier", text):
        return _day_point(today - timedelta(days=1))
    if re.fullmatch(r"(?:d')?avant-hier", text):
        return _day_point(today - timedelta(days=2))
    if re.fullmatch(r"(?:d')?aujourd'hui", text):
        return _day_point(today)
    monday = today - timedelta(days=today.weekday())
    if re.fullmatch(r"(?:de\s+)?cette\s+semaine", text):
        return _span_point(monday, monday + timedelta(days=6))
    if re.fullmatch(r"(?:de\s+)?la\s+semaine\s+(?:derniere|passee)", text):
        return _span_point(monday - timedelta(days=7), monday - timedelta(days=1))
    if re.fullmatch(r"(?:de\s+|du\s+)?ce\s+mois(?:-ci)?|(?:du|le)\s+mois\s+en\s+cours", text):
        return _month_point(today.year, today.month)
    if re.fullmatch(r"(?:le|du)\s+mois\s+(?:dernier|passe)", text):
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        return _month_point(year, month)
    if re.fullmatch(r"(?:de\s+)?cette\s+annee(?:-ci)?|(?:de\s+)?l'annee\s+en\s+cours", text):
        return _year_point(today.year)
    if re.fullmatch(r"(?:de\s+)?l'(?:an|annee)\s+(?:derniere?|passee?)", text):
        return _year_point(today.year - 1)
    if found := re.fullmatch(r"(?:cet|ce)\s+(?P<s>printemps|ete|automne|hiver)", text):
        point = _season_point(found["s"], today.year)
        return point if point.start <= today else _season_point(found["s"], today.year - 1)
    if found := re.fullmatch(r"(?:l'|le\s+)(?P<s>printemps|ete|automne|hiver)\s+(?:derniere?|passee?)", text):
        point = _season_point(found["s"], today.year)
        return point if point.end < today else _season_point(found["s"], today.year - 1)
    if found := re.fullmatch(r"il\s+y\s+a\s+(?P<n>\d+|\w+)\s+(?P<u>jours?|semaines?|mois|ans?|annees?)", text):
        n = _count(found["n"])
        if n is None:
            return None
        unit = found["u"]
        if unit.startswith("jour"):
            return _day_point(today - timedelta(days=n))
        if unit.startswith("semaine"):
            start = monday - timedelta(days=7 * n)
            return _span_point(start, start + timedelta(days=6))
        if unit == "mois":
            months = today.year * 12 + today.month - 1 - n
            return _month_point(months // 12, months % 12 + 1)
        return _year_point(today.year - n)
    return None


def _count(word: str) -> int | None:
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word)


def _ago(n: int, unit: str, today: date) -> date:
    """The day ``n`` days, weeks, months or years before ``today``."""
    if unit.startswith("jour"):
        return today - timedelta(days=n)
    if unit.startswith("semaine"):
        return today - timedelta(weeks=n)
    if unit == "mois":
        months = today.year * 12 + today.month - 1 - n
        year, month = months // 12, months % 12 + 1
        return date(year, month, min(today.day, _month_end(year, month).day))
    return date(today.year - n, today.month, min(today.day, 28 if today.month == 2 else today.day))


_WHEN = r"(?:au\s+cours\s+de|au\s+mois\s+d(?:e\s+|')|en|courant|durant|pendant|au|a|d'|de)"
_RELATIVE = (
    r"(?:d')?(?:avant-hier|hier|aujourd'hui)\b"
    r"|(?:de\s+)?(?:cette\s+semaine|la\s+semaine\s+(?:derniere|passee))\b"
    r"|(?:le|du)\s+mois\s+(?:dernier|passe|en\s+cours)\b|(?:de\s+|du\s+)?ce\s+mois(?:-ci)?\b"
    r"|(?:de\s+)?cette\s+annee(?:-ci)?\b|(?:de\s+)?l'annee\s+en\s+cours\b|(?:de\s+)?l'(?:an|annee)\s+(?:derniere?|passee?)\b"
    r"|(?:cet|ce)\s+(?:printemps|ete|automne|hiver)\b"
    r"|(?:l'|le\s+)(?:printemps|ete|automne|hiver)\s+(?:derniere?|passee?)\b"
    r"|il\s+y\s+a\s+(?:\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|quinze)\s+"
    r"(?:jours?|semaines?|mois|ans?|annees?)\b"
)
_LATEST = re.compile(
    r"(?<=est\s|ont\s)\s*(?:le|la|les)\s+(?P<cut3>plus\s+recent(?:e|s|es)?)(?=\s+[a-z])"
    r"|\b(?P<cut>(?:l'article\s+)?(?:le|la|les)\s+plus\s+recent(?:e|s|es)?|le\s+plus\s+recemment"
    r"|recemment|dernierement|ces\s+derniers\s+temps)\b"
    r"|\b(?:le|la|les|l')\s*(?P<cut2>derni(?:er|ere|ers|eres))\s+(?=(?:article|nouvelle|chiffre|annonce|bilan"
    r"|resultat|match|information|publication|donnee|estimation|greve|rencontre|edition|mesure|point|releve"
    r"|actualite|taux|indice|montant|budget|accord|contrat|decision|recrutement|embauche)s?\b)"
)
_EARLIEST = re.compile(
    r"\b(?P<cut>(?:l'article\s+)?(?:le|la|les)\s+plus\s+ancien(?:ne|s|nes)?|le\s+plus\s+tot)\b"
    r"|\b(?:le|la|les)\s+(?P<cut2>premi(?:er|ere|ers|eres))\s+(?=(?:article|publication|nouvelle|annonce)s?\b)"
)


# A past participle after a noun, not after an auxiliary: «le bureau annoncé en 2024», but not
# «la ville a-t-elle voté en 2024», «le budget a été voté en 2024», «que s'est-il passé en 2024».
_PARTICIPLE = re.compile(r"(?i)(?<![\w'-])(?P<before>[\w'-]+)\s+\w+(?:é|ée|és|ées)\s+$")
_AUXILIARY = re.compile(
    r"(?i)(?:[nsl]'|qu')?(?:a|ai|as|avons|avez|ont|avait|avaient|aura|auront|est|sont|été|était|étaient|sera|seront"
    r"|y|ne|pas|bien|déjà|jamais|plus)(?:-t-\w+|-\w+)?"
)


def _after_noun(before: str) -> bool:
    """Whether ``before`` ends with a past participle that follows a noun (not an auxiliary)."""
    found = _PARTICIPLE.search(before)
    return bool(found) and not _AUXILIARY.fullmatch(found["before"])


def _day_before(day: date) -> str:
    return (day - timedelta(days=1)).isoformat()


class _Finder:
    """Finds the date phrases of one folded question."""

    def __init__(self, question: str, today: date, anchor: date | None = None) -> None:
        self.question = question.replace("’", "'")
        self.text = fold(question)
        self.today = today
        # What a month, day or season without its year counts back from: the corpus's newest
        # article (an archive of 2019 asked «en janvier» means January 2019), never past today.
        self.anchor = min(anchor, today) if anchor is not None else today

    def ranges(self) -> list[tuple[int, int, DateScope]]:
        """Every (start, end, scope) of a range in the text, leftmost first, not overlapping."""
        found: list[tuple[int, int, DateScope]] = []
        taken: list[tuple[int, int]] = []

        def free(start: int, end: int) -> bool:
            return all(end <= s or start >= e for s, e in taken)

        for finder in (self._between, self._since_count, self._open, self._relative, self._when):
            for start, end, scope in finder():
                if scope is not None and free(start, end):
                    found.append((start, end, scope))
                    taken.append((start, end))
        return sorted(found, key=lambda item: item[0])

    # -- «entre … et …», «du … au …», «de … à … »
    def _between(self):
        a, b = _point_pattern("a"), _point_pattern("b")
        patterns = (rf"\bentre\s+{a}\s+et\s+{b}", rf"\b(?:du|de|d')\s*{a}\s+(?:au|a|jusqu'(?:au|a|en))\s+{b}")
        for match in (m for pattern in patterns for m in re.finditer(pattern, self.text)):
            if _bare_season(match, "a") or _bare_season(match, "b"):
                continue
            last = _point(match, "b", self.anchor)
            if last is None:
                continue
            first = _point(match, "a", self.anchor, year_hint=last.start.year)
            if first is None:
                continue
            if first.start > last.end and not match["a_y"]:
                first = _point(match, "a", self.anchor, year_hint=last.start.year - 1)
            if first is None or first.start > last.end or first.start > self.today:
                continue
            label = f"entre {first.name} et {last.name}"
            if (
                first.name.endswith(str(last.end.year))
                and last.name.endswith(str(last.end.year))
                and match["a_m"]
                and not match["a_d"]
            ):
                label = f"entre {first.name[: -len(str(last.end.year))].strip()} et {last.name}"
            yield (
                match.start(),
                match.end(),
                DateScope(
                    first.start.isoformat(),
                    last.end.isoformat(),
                    label=f"articles {label}",
                    empty=f"Aucun article du corpus n'est daté {label}.",
                ),
            )

    # -- «depuis 10 jours», «ces 3 derniers mois», «au cours des deux dernières semaines»
    def _since_count(self):
        number = r"(?P<n>\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|quinze)"
        unit = r"(?P<u>jours?|semaines?|mois|ans?|annees?)"
        patterns = (
            rf"\bdepuis\s+{number}\s+{unit}",
            rf"\b(?:ces|les|au\s+cours\s+des|durant\s+les|pendant\s+les)\s+(?:{number}\s+)?(?:derniers|dernieres)\s+{unit}",
        )
        for pattern in patterns:
            for match in re.finditer(pattern, self.text):
                n = _count(match["n"]) if match["n"] else 7 if match["u"].startswith("jour") else 1
                if n is None:
                    continue  # «ces derniers jours»: a week; «ces derniers mois»: one
                since = _ago(n, match["u"], self.today)
                name = _day_point(since).name
                yield (
                    match.start(),
                    match.end(),
                    DateScope(
                        since.isoformat(),
                        None,
                        label=f"articles depuis {name}",
                        empty=f"Aucun article du corpus n'est daté {_day_point(since).of} ou d'après.",
                    ),
                )

    # -- «depuis …», «à partir de …», «avant …», «après …», «jusqu'en …»
    def _open(self):
        point = _point_pattern("p")
        since_start = r"depuis\s+le\s+debut\s+de\s+(?:l'annee|cette\s+annee)"
        for match in re.finditer(rf"\b{since_start}\b", self.text):
            first = date(self.today.year, 1, 1)
            yield (
                match.start(),
                match.end(),
                DateScope(
                    first.isoformat(),
                    None,
                    label=f"articles depuis le début de {self.today.year}",
                    empty=f"Aucun article du corpus n'est daté de {self.today.year}.",
                ),
            )
        words = r"(?P<w>depuis|a\s+partir\s+d(?:e\s+|')|a\s+compter\s+d(?:e\s+|')|avant|apres|jusqu'(?:en|a|au))"
        pattern = rf"\b{words}\s*(?:(?P<rel>{_RELATIVE})|{point})"
        for match in re.finditer(pattern, self.text):
            if match["rel"]:
                found = _relative(match["rel"], self.today)
            elif _bare_season(match, "p"):
                continue
            else:
                found = _point(match, "p", self.anchor)
            if found is None or found.start > self.today:
                continue
            word = match["w"].split()[0]
            if word in ("depuis", "a"):
                scope = DateScope(
                    found.start.isoformat(),
                    None,
                    label=f"articles depuis {found.name}",
                    empty=f"Aucun article du corpus n'est daté {found.of} ou d'après.",
                )
            elif word == "avant":
                scope = DateScope(
                    None,
                    _day_before(found.start),
                    label=f"articles d'avant {found.name}",
                    empty=f"Aucun article du corpus n'est antérieur à {found.name}.",
                )
            elif word == "apres":
                scope = DateScope(
                    (found.end + timedelta(days=1)).isoformat(),
                    None,
                    label=f"articles d'après {found.name}",
                    empty=f"Aucun article du corpus n'est postérieur à {found.name}.",
                )
            else:  # jusqu'en
                scope = DateScope(
                    None,
                    found.end.isoformat(),
                    label=f"articles jusqu'à {found.name}",
                    empty=f"Aucun article du corpus n'est daté {found.of} ou d'avant.",
                )
            yield match.start(), match.end(), scope

    # -- «le mois dernier», «l'an dernier», «cet été», «hier»
    def _relative(self):
        for match in re.finditer(rf"\b(?:{_RELATIVE})", self.text):
            found = _relative(match.group(), self.today)
            if found is not None:
                yield match.start(), match.end(), _point_scope(found)

    # -- «en 2024», «en octobre 2024», «d'octobre 2024», «au printemps 2025», «l'été 2024»
    def _when(self):
        point = _point_pattern("p")
        for match in re.finditer(rf"(?<![\w'])(?P<pre>{_WHEN})?\s*{point}", self.text):
            pre = (match["pre"] or "").strip()
            year_only = bool(match["p_yo"])
            day = match["p_d"]
            before = self.text[: match.start("p")]
            if day and not re.search(r"(?:publie|paru|date|article)(?:e|s|es)?\s+(?:le\s+|du\s+)?$", before):
                continue  # «le 3 octobre»: when it happened (told maybe the day after), not a scope
            if not pre and not day and not (match["p_s"] and match["p_y"]):
                continue  # a date without a preposition of time: «l'été 2024» only
            if year_only and pre not in ("en", "au cours de", "courant", "durant", "pendant"):
                if pre != "de" or not re.search(r"articles?\s+de\s*$", before):
                    continue  # «le budget de 2023»: the subject; «en 2023», «les articles de 2023»: a scope
            if not day and _after_noun(self.question[: match.start()]):
                continue  # «le bureau annoncé en 2024»: when the bureau was announced, not which articles
            if pre in ("a", "au") and not match["p_s"]:
                continue  # «à 2024» is not French for a time; «au printemps» is
            if _bare_season(match, "p") and pre not in ("en", "au"):
                continue  # «a été», «d'été»: not a time; «en été», «au printemps»: one
            if match["p_s"] and pre in ("d'", "de") and not match["p"].startswith(("l'", "le ")):
                continue  # «les soldes d'hiver 2019», «les vacances d'été»: a kind of thing, not a time
            found = _point(match, "p", self.anchor)
            if found is None or found.start > self.today:
                continue  # a future date is what the question is about, not when articles were published
            yield match.start(), match.end(), _point_scope(found)


def _point_scope(point: _Point) -> DateScope:
    return DateScope(
        point.start.isoformat(),
        point.end.isoformat(),
        label=f"articles {point.of}",
        empty=f"Aucun article du corpus n'est daté {point.of}.",
    )


def _ordering(folded: str) -> tuple[str | None, list[tuple[int, int]]]:
    """The ordering a question asks for, and the spans of the words that ask it."""
    for order, pattern in (("latest", _LATEST), ("earliest", _EARLIEST)):
        spans = []
        for match in pattern.finditer(folded):
            group = next(g for g in ("cut", "cut2", "cut3") if match.groupdict().get(g))
            spans.append((match.start(group), match.end(group)))
        if spans:
            return order, spans
    return None, []


_ORDER_LABELS = {"latest": "l'article le plus récent", "earliest": "l'article le plus ancien"}


def find_ranges(question: str, today: date, anchor: date | None = None) -> list[tuple[int, int, DateScope]]:
    """Every date range named in ``question`` as (start, end, scope), leftmost first, not
    overlapping; relative ones count from ``today``, a month or a season without its year from
    ``anchor`` (the corpus's newest article; default ``today``).

    >>> [(s, e, scope.label) for s, e, scope in find_ranges("Quel taux en octobre 2024 ?", date(2025, 6, 15))]
    [(10, 25, "articles d'octobre 2024")]
    >>> [scope.label for _, _, scope in find_ranges("Qui occupait le rond-point en janvier ?", date(2026, 12, 7),
    ...                                               anchor=date(2019, 2, 17))]
    ['articles de janvier 2019']
    >>> find_ranges("Quand les soldes d'hiver 2019 commencent-ils ?", date(2026, 12, 7))
    []
    """
    return _Finder(question, today, anchor).ranges()


def find_ordering(question: str) -> tuple[str | None, list[tuple[int, int]]]:
    """The ordering ``question`` asks for ("latest", "earliest" or None) and where its words are.

    >>> find_ordering("Quel est le taux d'inflation le plus récent ?")
    ('latest', [(29, 43)])
    """
    return _ordering(fold(question))


def ordering_label(order: str) -> str:
    """What an answer to a question that asks only for an ordering is headed with."""
    return _ORDER_LABELS[order]
