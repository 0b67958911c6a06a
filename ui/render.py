"""An answer as the chat shows it: Markdown for the API, HTML for the window.

- :func:`sources_markdown` and :func:`revision_markdown`: the answer's passages and what the
  check changed, as Markdown (the ``chat`` API endpoint, and the chat bubble's revision note);
- :func:`scope_markdown`: the dates a question was scoped to («_Articles d'octobre 2024_»),
  the line above the answer (in the bubble, and to prepend to the API's text);
- :func:`answer_message`: the bubble: the answer with each ``[n]`` a link
  (``<a class="depeche-cite" href="#depeche-source-<turn>-<n>">``), then the list of its sources;
- :func:`answer_sources_html`: the answer's passages for the sources panel, one
  ``<details class="depeche-source" data-turn="…" data-n="n">`` each, with the sentences that
  support the answer in ``<mark>``; :func:`sources_panel_html` gathers every answer's, the
  latest shown. A click on a marker opens its passage (:data:`PANEL_JS`).

Everything taken from documents or from the model is escaped here.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable, Mapping

from rag.pipeline import Answer
from rag.sources.documents import Document
from rag.store.records import Passage
from ui.highlight import supporting_spans

SOURCES = "Sources"
CLOSEST = "Passages les plus proches, à vérifier"
EMPTY_PANEL = "Les passages cités s'afficheront ici : cliquez sur un numéro [n] d'une réponse pour lire le sien."
_MARKER = re.compile(r"\[(\d+)\]")

DocumentLookup = Callable[[str], Document | None]


def revision_markdown(answer: Answer) -> str:
    """What the check changed in the streamed draft, for the reader to see."""
    if not answer.revised:
        return ""
    removed = "".join(f"\n- ~~{html.escape(s)}~~" for s in answer.dropped)
    if answer.refused:
        what = "Le brouillon n'était pas étayé par les passages : pas de réponse."
    elif any(s.origin == "quote" for s in answer.sentences):
        what = "Le brouillon n'était pas étayé par les passages : voici la phrase du passage la plus proche."
    else:
        what = "Phrases non étayées par les passages retirées."
    return (
        f"\n\n<details><summary><i>Réponse corrigée après vérification.</i></summary>\n\n{what}{removed}\n\n</details>"
    )


def scope_markdown(answer: Answer) -> str:
    """The line above an answer that says which dates were searched, with the blank line after
    it: «_Articles d'octobre 2024_\\n\\n»; "" when the question named none."""
    if not answer.scope:
        return ""
    label = html.escape(answer.scope[:1].upper() + answer.scope[1:], quote=False)
    return f"_{label}_\n\n"


def sources_markdown(answer: Answer) -> str:
    """The passages shown to the model, numbered like the answer's markers; cited ones first-class."""
    if not answer.passages:
        return ""
    heading = f"**{CLOSEST}**" if answer.refused else f"**{SOURCES}**"
    lines = ["", "---", heading, ""]
    for number, passage in enumerate(answer.passages, start=1):
        cited = " ✓" if number in answer.citations else ""
        name = html.escape(source_name(passage.source))
        heading = html.escape(f"[{number}] {passage.title} — {passage.date or 'date inconnue'}")
        lines.append(
            f"<details><summary><b>{heading}</b>{cited} · {name}, {passage.location}</summary>"
            f"\n\n{html.escape(passage.text)}\n\n</details>"
        )
    return "\n".join(lines)


def source_name(source: str) -> str:
    """How a passage's source is named: a file by its name, a web article (a feed entry) by its
    address without the scheme.

    >>> source_name("/home/ana/depeches/2025-03-27-openai-munich.txt")
    '2025-03-27-openai-munich.txt'
    >>> source_name("https://www.lefil.fr/economie/2024/10/inflation/")
    'www.lefil.fr/economie/2024/10/inflation'
    """
    if source.startswith(("http://", "https://")):
        return source.split("://", 1)[1].rstrip("/")
    return os.path.basename(source)


def source_link(source: str) -> str:
    """A link to the article online when the source is a web address (a feed entry), else ""."""
    if not source.startswith(("http://", "https://")):
        return ""
    href = html.escape(source, quote=True)
    return f' · <a class="depeche-link" href="{href}" target="_blank" rel="noopener noreferrer">lire l\'article</a>'


def outlet(passage: Passage, document: Document | None) -> str:
    """Who published the passage: the outlet or author when the document names one, else its file."""
    if document is not None and (document.site or document.author):
        return document.site or document.author or ""
    return source_name(passage.source)


def cite_link(turn: int, number: int) -> str:
    """Marker ``[number]`` of the answer in bot message ``turn``, as a link to its passage.

    The chatbot's sanitizer keeps ``class`` and ``href`` but drops ``data-`` attributes, so
    the link's target names the passage: ``#depeche-source-<turn>-<number>``."""
    return f'<a class="depeche-cite" href="#{source_id(turn, number)}">[{number}]</a>'


def source_id(turn: int, number: int) -> str:
    """The element id of passage ``number`` of the answer in bot message ``turn``, in the panel."""
    return f"depeche-source-{turn}-{number}"


def linked_markers(text: str, turn: int, count: int) -> str:
    """``text`` escaped, each marker ``[n]`` of a shown passage (1 ≤ n ≤ ``count``) made a link."""

    def link(match: re.Match) -> str:
        number = int(match.group(1))
        return cite_link(turn, number) if 1 <= number <= count else match.group(0)

    return _MARKER.sub(link, html.escape(text, quote=False))


def answer_message(answer: Answer, turn: int, lookup: DocumentLookup) -> str:
    """The chat bubble of an answer: its text with clickable markers, what the check changed,
    then one line per passage (number, title, date, outlet). The dates searched head it, and
    the dates of the articles it cites follow the answer."""
    parts = [scope_markdown(answer), linked_markers(answer.text, turn, len(answer.passages))]
    if answer.source_dates:  # «Selon l'article du 27 mars 2025 [1].»
        parts.append(f"\n\n_{linked_markers(answer.source_dates, turn, len(answer.passages))}_")
    parts.append(revision_markdown(answer))
    if answer.passages:
        heading = CLOSEST if answer.refused else SOURCES
        lines = []
        for number, passage in enumerate(answer.passages, start=1):
            cited = " ✓" if number in answer.citations else ""
            where = html.escape(outlet(passage, lookup(passage.doc_id)))
            lines.append(
                f"- {cite_link(turn, number)} {html.escape(passage.title)}{cited} · "
                f"{html.escape(passage.date or 'date inconnue')} · {where}"
            )
        parts.append(f"\n\n**{heading}**\n\n" + "\n".join(lines))
    return "".join(parts)


def highlighted(text: str, spans: list[tuple[int, int]], strong: tuple[int, int] | None = None) -> str:
    """``text`` escaped, the ``spans`` (sorted, disjoint) wrapped in ``<mark>``, and the
    ``strong`` range (the reader's answer span) in ``<strong class="depeche-span">``.

    >>> highlighted("Un bureau à Munich. Il recrutera.", [(0, 19)], (12, 18))
    '<mark>Un bureau à </mark><mark><strong class="depeche-span">Munich</strong></mark><mark>.</mark> Il recrutera.'
    """
    cuts = sorted({0, len(text), *(p for span in spans for p in span), *(strong or ())})
    out = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        piece = html.escape(text[start:end])
        if strong and strong[0] <= start and end <= strong[1]:
            piece = f'<strong class="depeche-span">{piece}</strong>'
        if any(a <= start and end <= b for a, b in spans):
            piece = f"<mark>{piece}</mark>"
        out.append(piece)
    return "".join(out)


def answer_sources_html(answer: Answer, turn: int, lookup: DocumentLookup) -> str:
    """The sources panel's section for one answer: its passages, the first cited one open."""
    if not answer.passages:
        return ""
    heading = CLOSEST if answer.refused else SOURCES
    first_cited = answer.citations[0] if answer.citations else None
    items = []
    for number, passage in enumerate(answer.passages, start=1):
        document = lookup(passage.doc_id)
        cited = number in answer.citations
        strong = next(((start, end) for n, start, end in answer.spans if n == number), None)
        classes = "depeche-source" + (" cited" if cited else "") + (" open" if number == first_cited else "")
        meta = " · ".join(
            html.escape(part) for part in (passage.date or "date inconnue", outlet(passage, document), passage.location)
        )
        badge = ' <span class="depeche-badge">cité</span>' if cited else ""
        items.append(
            f'<details class="{classes}" id="{source_id(turn, number)}" data-turn="{turn}" data-n="{number}"'
            f"{' open' if number == first_cited else ''}>"
            f'<summary><span class="depeche-num">[{number}]</span> <span class="depeche-title">'
            f"{html.escape(passage.title)}</span>{badge}"
            f'<span class="depeche-meta">{meta}{source_link(passage.source)}</span></summary>'
            f'<div class="depeche-passage">{highlighted(passage.text, supporting_spans(answer, number), strong)}</div>'
            "</details>"
        )
    question = html.escape(answer.question)
    return (
        f'<section class="depeche-answer" data-turn="{turn}">'
        f'<h3>{heading}</h3><p class="depeche-question">« {question} »</p>{confidence_html(answer)}'
        f"{''.join(items)}</section>"
    )


def confidence_html(answer: Answer) -> str:
    """How sure the reader was, for a read answer or a refusal it decided; nothing otherwise.

    >>> from rag.pipeline import Answer
    >>> confidence_html(Answer("q", "Munich.", [], [1], False, 0.1, 0.2, path="reader", confidence=0.873))
    '<p class="depeche-confidence">Réponse lue dans le passage · confiance du lecteur : 87 %</p>'
    """
    if answer.confidence is None:
        return ""
    how = {"yesno": "Oui ou non lu dans le passage", "reader": "Réponse lue dans le passage"}.get(
        answer.path, "Lecture"
    )
    if answer.refused:
        how = "Refus : le lecteur n'est pas assez sûr"
    percent = round(100 * answer.confidence)
    return f'<p class="depeche-confidence">{how} · confiance du lecteur : {percent} %</p>'


def sources_panel_html(panels: Mapping[int, str]) -> str:
    """Every answer's section (see :func:`answer_sources_html`), by the index of its message;
    only the latest is visible. Keeping them all lets a marker of an older answer open its own."""
    panels = {turn: section for turn, section in panels.items() if section}
    if not panels:
        return f'<div class="depeche-panel"><p class="depeche-empty">{EMPTY_PANEL}</p></div>'
    shown = max(panels)
    sections = "".join(
        section if turn == shown else section.replace("<section ", "<section hidden ", 1)
        for turn, section in sorted(panels.items())
    )
    return f'<div class="depeche-panel">{sections}</div>'


CSS = """
.depeche-cite { font-weight: 600; text-decoration: none !important; cursor: pointer;
  padding: 0 2px; border-radius: 4px; background: var(--color-accent-soft); color: var(--link-text-color); }
.depeche-cite:hover, .depeche-cite:focus { text-decoration: underline !important; }
#depeche-chat .message-content, #depeche-chat .message { overflow-wrap: anywhere; }
#depeche-chat .message-content ul { padding-left: 1.2em; }
#depeche-sources-column { min-width: min(320px, 100%); }
#depeche-sources .depeche-panel { overflow-x: hidden; }
@media (min-width: 768px) {  /* beside the chat: scrolls on its own; below it (narrow): the page scrolls */
  #depeche-sources .depeche-panel { max-height: 75vh; overflow-y: auto; padding-right: 4px; }
}
#depeche-sources .depeche-empty { color: var(--body-text-color-subdued); }
#depeche-sources h3 { margin: 0 0 .2em; font-size: 1.05em; }
#depeche-sources .depeche-question { margin: 0 0 .6em; color: var(--body-text-color-subdued); overflow-wrap: anywhere; }
#depeche-sources .depeche-source { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .4em .6em; margin-bottom: .5em; scroll-margin-top: 8px; }
#depeche-sources .depeche-source.open { border-color: var(--color-accent);
  box-shadow: 0 0 0 2px var(--color-accent-soft); }
#depeche-sources summary { cursor: pointer; overflow-wrap: anywhere; }
#depeche-sources .depeche-num { font-weight: 700; }
#depeche-sources .depeche-title { font-weight: 600; }
#depeche-sources .depeche-badge { font-size: .8em; padding: 0 .4em; margin-left: .3em; border-radius: 4px;
  background: var(--color-accent-soft); }
#depeche-sources .depeche-meta { display: block; font-size: .85em; color: var(--body-text-color-subdued); }
#depeche-sources .depeche-passage { white-space: pre-wrap; overflow-wrap: anywhere; margin-top: .4em;
  line-height: 1.5; max-height: 50vh; overflow-y: auto; }
#depeche-sources mark { background: #fde68a; color: #1f2937; padding: 0 1px; border-radius: 2px; }
#depeche-sources .depeche-span { text-decoration: underline 2px; text-underline-offset: 2px; }
#depeche-sources .depeche-confidence { font-size: 0.9em; opacity: 0.85; margin: 0 0 0.5em; }
"""

# Runs once, when the sources panel loads: adds the styles, and makes a click on a marker
# show its answer's section, open its passage (closing the others) and scroll to it.
PANEL_JS = (
    """
if (!window.depecheReady) {
  window.depecheReady = true;
  const style = document.createElement('style');
  style.textContent = """
    + json.dumps(CSS)
    + """;
  document.head.appendChild(style);
  document.addEventListener('click', (event) => {
    const cite = event.target.closest && event.target.closest('a.depeche-cite');
    if (!cite) return;
    event.preventDefault();
    event.stopPropagation();
    const panel = document.getElementById('depeche-sources');
    if (!panel) return;
    const found = /#depeche-source-(\\d+)-(\\d+)$/.exec(cite.getAttribute('href') || '');
    if (!found) return;
    const [, turn, number] = found;
    panel.querySelectorAll('section.depeche-answer').forEach((section) => {
      section.hidden = section.dataset.turn !== turn;
    });
    const target = panel.querySelector(`.depeche-source[data-turn="${turn}"][data-n="${number}"]`);
    if (!target) return;
    panel.querySelectorAll('.depeche-source').forEach((other) => {
      other.classList.remove('open');
      other.open = false;
    });
    target.classList.add('open');
    target.open = true;
    target.scrollIntoView({behavior: 'smooth', block: 'start'});
  }, true);
}
"""
)
