"""The answer composed from a reading: the short answer, then the sentence it came from, quoted.

«Munich. Selon [1] : « La décision d’ouvrir un bureau à Munich, prévue pour 2025, marque une
étape clé… »»

The short answer is the reader's span (:mod:`rag.answer.reader`): what the eval scores
with F1. The quotation is the passage's sentence that holds the span, word for word, with the
passage's marker: what the reader can check, and what the eval's recall and citations look
at. The pipeline never writes a word the passage does not hold. Two other compositions
follow the same form:

- a yes/no answer read from the span's sentence: «Oui. Selon [2] : « … »»;
- an answer across articles, one span per article, each with its quotation: «Cofondateur
  d'OpenAI [1] ; PDG d'OpenAI [2]. Selon [1] : « … » Selon [2] : « … »»;
- a publication date from the passage's metadata: «Octobre 2024. L'article « … » [1] est
  daté d'octobre 2024.»; likewise its author, rubric or outlet (:func:`compose_field`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer.checking import AnswerSentence
from rag.answer.shared import Name
from rag.search.evidence import sentence_spans
from rag.sources.dates import french_date
from rag.sources.documents import Document
from rag.store.records import Passage


@dataclass(frozen=True)
class Composition:
    text: str
    short: str  # the short answer: the span, a date, or for a yes/no the word with its sentence
    sentences: list[AnswerSentence]
    citations: list[int]
    spans: tuple[tuple[int, int, int], ...]  # (marker, start, end) of each span in that passage's text


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence of ``text`` that holds characters ``start``-``end`` (or the sentences, if
    the span crosses one's end).

    >>> text = "Le ministre salue le projet. OpenAI ouvrira un bureau à Munich. Il recrutera."
    >>> s, e = sentence_around(text, text.index("Munich"), text.index("Munich") + 6); text[s:e]
    'OpenAI ouvrira un bureau à Munich.'
    """
    spans = sentence_spans(text) or [(0, len(text))]
    first = next((s for s in spans if s[1] > start), spans[-1])
    last = next((s for s in spans if s[1] >= end), spans[-1])
    return first[0], max(last[1], first[1])


MAX_ANNOUNCED = 400  # characters of what a sentence ending with «:» announces, quoted with it


def with_announced(text: str, start: int, end: int) -> int:
    r"""The end of the sentence ``text[start:end]``; when it ends with a colon («… les
    conditions suivantes :»), the end of what it announces: the sentences after it, up to a
    paragraph break or ``MAX_ANNOUNCED`` characters. A quotation that stops at «:» says nothing.

    >>> text = "Il faut remplir ces conditions :\nêtre majeur ;\nrésider en France.\n\nAutre chose."
    >>> text[0:with_announced(text, 0, 32)]
    'Il faut remplir ces conditions :\nêtre majeur ;\nrésider en France.'
    >>> with_announced("Le bureau ouvre. Il recrute.", 0, 16)
    16
    """
    if not text[start:end].rstrip().endswith(":"):
        return end
    stop = text.find("\n\n", end)
    stop = len(text) if stop < 0 else stop
    extended = end
    for s, e in sentence_spans(text):
        if s < end:
            continue
        if e > stop or e - end > MAX_ANNOUNCED:
            break
        extended = e
    return extended


def quoted_range(text: str, start: int, end: int) -> tuple[int, int]:
    """Where a quotation of the span ``text[start:end]`` lies in ``text``: its sentence, and what
    that sentence announces when it ends with a colon (:func:`with_announced`)."""
    s, e = sentence_around(text, start, end)
    return s, with_announced(text, s, e)


def quoted_sentence(text: str, start: int, end: int) -> str:
    """What a quotation of the span ``text[start:end]`` shows (:func:`quoted_range`)."""
    s, e = quoted_range(text, start, end)
    return text[s:e].strip()


def tidy_span(span: str, *, capitalize: bool = True) -> str:
    """The span as a short answer: stripped of surrounding punctuation and quotes, capitalized
    unless told otherwise.

    >>> tidy_span(" à Munich, "), tidy_span(" à Munich, ", capitalize=False)
    ('À Munich', 'à Munich')
    """
    span = span.strip().strip(',;:«»"“”()').strip()
    span = span.rstrip(".").strip()
    return span[:1].upper() + span[1:] if span and capitalize else span


def _quoted(sentence: str) -> str:
    return f"« {sentence.strip()} »"


def compose_span(span: str, passage: Passage, number: int, start: int, end: int) -> Composition:
    """«{span}. Selon [n] : « {the sentence holding it} »» (the sentence alone if it is the span)."""
    short = tidy_span(span)
    sentence = quoted_sentence(passage.text, start, end)
    quote = AnswerSentence(sentence, (number,), 1.0, None, origin="quote")
    where = ((number, start, end),)
    if not short or len(short) >= 0.8 * len(sentence):  # the span is the sentence: quote it once
        return Composition(f"{_quoted(sentence)} [{number}]", short or sentence, [quote], [number], where)
    reader = AnswerSentence(short, (number,), 1.0, None, origin="reader")
    return Composition(f"{short}. Selon [{number}] : {_quoted(sentence)}", short, [reader, quote], [number], where)


def compose_sentence(passage: Passage, number: int, start: int, end: int) -> Composition:
    """«« {the sentence holding the span} » [n]»: the answer to a cause, a manner, an event or a
    definition (:func:`rag.answer.routing.asks_explanation`), which no phrase of it gives alone.
    The span stays marked, for the sources panel.

    >>> p = Passage(1, "d", "T", None, "", 0, 60, "Le match est reporté. La neige tombe trop fort sur le stade.")
    >>> compose_sentence(p, 1, 25, 30).text
    '« La neige tombe trop fort sur le stade. » [1]'
    """
    sentence = quoted_sentence(passage.text, start, end)
    quote = AnswerSentence(sentence, (number,), 1.0, None, origin="quote")
    return Composition(f"{_quoted(sentence)} [{number}]", sentence, [quote], [number], ((number, start, end),))


def compose_yes_no(yes: bool, passage: Passage, number: int, start: int, end: int) -> Composition:
    """«Oui. Selon [n] : « … »» or «Non. …», the sentence being the one the reader found."""
    s, e = sentence_around(passage.text, start, end)
    sentence = passage.text[s:e].strip()
    word = "Oui" if yes else "Non"
    quote = AnswerSentence(sentence, (number,), 1.0, None, origin="quote")
    text = f"{word}. Selon [{number}] : {_quoted(sentence)}"
    return Composition(
        text,
        text,  # the short answer: «Oui» alone does not answer; the sentence says why
        [AnswerSentence(word, (number,), 1.0, None, origin="reader"), quote],
        [number],
        ((number, start, end),),
    )


def compose_date(passage: Passage, number: int) -> Composition | None:
    """The publication date of the passage's article, from its metadata; None without one."""
    if not passage.date:
        return None
    spoken = french_date(passage.date)
    short = spoken[:1].upper() + spoken[1:]
    elided = "de " if spoken.isdigit() else "d'" if spoken[:1] in "aeiou" else "du "
    sentence = f"L'article « {passage.title} » est daté {elided}{spoken}."
    return Composition(
        f"{short}. L'article « {passage.title} » [{number}] est daté {elided}{spoken}.",
        short,
        [AnswerSentence(sentence, (number,), 1.0, None, origin="metadata")],
        [number],
        (),
    )


# What the answer says of an article's field (:func:`rag.answer.routing.asked_field`).
_FIELD_SENTENCES = {
    "author": "L'article « {title} »{cite} est signé {value}.",
    "rubric": "L'article « {title} »{cite} est paru dans la rubrique « {value} ».",
    "site": "L'article « {title} »{cite} a été publié par {value}.",
}


def compose_field(field: str, value: str, passage: Passage, number: int) -> Composition:
    """The article's ``field`` (author, rubric or site) from its metadata: «News. L'article
    « … » [1] est paru dans la rubrique « News ».»"""
    template = _FIELD_SENTENCES[field]
    sentence = template.format(title=passage.title, cite="", value=value)
    return Composition(
        f"{value}. " + template.format(title=passage.title, cite=f" [{number}]", value=value),
        value,
        [AnswerSentence(sentence, (number,), 1.0, None, origin="metadata")],
        [number],
        (),
    )


def closing_passage(document: Document, size: int) -> Passage | None:
    """The article's last paragraph (at most ``size`` characters, cut at a sentence's start),
    as a passage: where an article's author box sits («Passionné par …, Olivier Verot
    décrypte …»). None for an empty body."""
    body = document.body.rstrip()
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    if not paragraphs:
        return None
    text = paragraphs[-1].strip()
    if len(text) > size:
        starts = [s for s, _ in sentence_spans(text) if len(text) - s <= size]
        text = text[starts[0] :] if starts else text[-size:]
    start = body.rindex(text)
    return Passage(
        chunk_id=-1,
        doc_id=document.doc_id,
        title=document.title,
        date=document.date,
        source=document.source,
        start=start,
        end=start + len(text),
        text=text,
        page=document.page_at(start),
    )


@dataclass(frozen=True)
class Part:
    """One article's share of an answer across articles: its span in passage [number]."""

    span: str
    passage: Passage
    number: int
    start: int
    end: int


def compose_across(parts: list[Part]) -> Composition:
    """«{span 1} [1] ; {span 2} [2]. Selon [1] : « … » Selon [2] : « … »»: what each article
    says, in the order given, each span with the sentence that holds it quoted.

    >>> from rag.store.records import Passage
    >>> a = Passage(1, "paris", "Paris", "2024-10", "", 0, 40, "Sam Altman, cofondateur d'OpenAI, parle.")
    >>> b = Passage(2, "munich", "Munich", "2025-03-27", "", 0, 35, "Sam Altman, PDG d'OpenAI, confirme.")
    >>> composed = compose_across([Part("cofondateur d'OpenAI", a, 1, 12, 32), Part("PDG d'OpenAI", b, 2, 12, 24)])
    >>> for piece in composed.text.split(" Selon "): print(piece)
    Cofondateur d'OpenAI [1] ; PDG d'OpenAI [2].
    [1] : « Sam Altman, cofondateur d'OpenAI, parle. »
    [2] : « Sam Altman, PDG d'OpenAI, confirme. »
    >>> composed.short, composed.citations, composed.spans
    ("Cofondateur d'OpenAI ; PDG d'OpenAI", [1, 2], ((1, 12, 32), (2, 12, 24)))
    """
    shorts, said = [], []
    for i, part in enumerate(parts):
        short = tidy_span(part.span, capitalize=not i)  # past the first, «; cofondateur», «; Bruxelles»
        shorts.append(short)
        said.append(AnswerSentence(short, (part.number,), 1.0, None, origin="reader"))
    quotes, tail = _part_quotes(parts)
    head = " ; ".join(f"{short} [{part.number}]" for short, part in zip(shorts, parts, strict=True))
    return Composition(
        f"{head}. {tail}",
        " ; ".join(shorts),
        said + quotes,
        [part.number for part in parts],
        tuple((part.number, part.start, part.end) for part in parts),
    )


def _part_quotes(parts: list[Part]) -> tuple[list[AnswerSentence], str]:
    """Each part's quoted sentence, and «Selon [1] : « … » Selon [2] : « … »»."""
    quotes = [
        AnswerSentence(quoted_sentence(p.passage.text, p.start, p.end), (p.number,), 1.0, None, origin="quote")
        for p in parts
    ]
    return quotes, " ".join(f"Selon [{q.citations[0]}] : {_quoted(q.text)}" for q in quotes)


def compose_shared(parts: list[Part], found: list[list[Name]]) -> Composition:
    """«{the names every article's sentence holds} [1] [2]. Selon [1] : « … » Selon [2] : « … »»:
    what the articles have in common (:mod:`rag.answer.shared`). ``found`` holds, for each
    part, the shared names as found in its passage's text (their positions, the highlights).

    >>> from rag.answer.shared import Name
    >>> a = Passage(1, "paris", "Paris", "2024-10", "", 0, 35, "Des bureaux à Bruxelles et New York.")
    >>> b = Passage(2, "munich", "Munich", "2025-03-27", "", 0, 32, "OpenAI est à Paris et Bruxelles.")
    >>> parts = [Part("New York", a, 1, 27, 35), Part("Paris et Bruxelles", b, 3, 13, 31)]
    >>> composed = compose_shared(parts, [[Name("Bruxelles", 14, 23)], [Name("Bruxelles", 22, 31)]])
    >>> for piece in composed.text.split(" Selon "): print(piece)
    Bruxelles [1] [3].
    [1] : « Des bureaux à Bruxelles et New York. »
    [3] : « OpenAI est à Paris et Bruxelles. »
    >>> composed.short, composed.citations, composed.spans
    ('Bruxelles', [1, 3], ((1, 14, 23), (3, 22, 31)))
    """
    short = tidy_span(", ".join(name.text for name in found[0]))
    numbers = tuple(part.number for part in parts)
    quotes, tail = _part_quotes(parts)
    cited = " ".join(f"[{n}]" for n in numbers)
    return Composition(
        f"{short} {cited}. {tail}",
        short,
        [AnswerSentence(short, numbers, 1.0, None, origin="reader"), *quotes],
        list(numbers),
        tuple((part.number, name.start, name.end) for part, names in zip(parts, found, strict=True) for name in names),
    )
