"""RSS 2.0 and Atom feeds: fetched, parsed, and each entry turned into a :class:`~rag.sources.documents.Document`.

A feed is named by an ``http(s)://`` address or a local file. Its bytes are fetched here
(:mod:`rag.sources.fetch`: a time limit, :data:`MAX_FEED_BYTES`, a User-Agent naming Dépêche) and
only then given to feedparser, which is never let fetch anything itself: it would follow
redirects and read without our limits. feedparser runs in the fenced child of
:mod:`rag.sources.readers.fence`, like every file parser: a feed is data from anywhere.

A feed that cannot be used raises :class:`~rag.errors.FeedError`, one French line, before
anything is written: unreachable (refused, unknown host, timeout, HTTP 4xx/5xx), malformed
(broken XML and no entry to be read) or not a feed at all (an HTML page, a text file).

An entry's body is, the first that applies:

1. its full content (``content:encoded``, Atom ``<content>``), HTML turned into paragraphs,
   when it is more than the summary again (:func:`is_full_content`); ``kind="feed"``;
2. the page its link points to, fetched here and read by the HTML reader (trafilatura) in the
   fence, when it answers with an article; ``kind="feed"``;
3. its summary, marked as such: ``kind="feed-summary"`` and a body that starts with
   :data:`SUMMARY_MARK` («Résumé du flux : »), so that the passages the chat cites say that
   they are a summary, not the article.

Each document keeps the entry's date (as written in the feed, at its precision), author,
outlet (``site``: the feed's title) and link (``source``; the entry's id when it has no link,
:func:`entry_source`).

Nothing here imports feedparser or lxml at import time (the doctests import every module).
"""

from __future__ import annotations

import hashlib
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_tz
from pathlib import Path
from urllib.parse import urlsplit

from rag.errors import DocumentError, FeedError, printable
from rag.sources.dates import parse_french_date
from rag.sources.documents import Document, fallback_title, slugify
from rag.sources.fetch import Unreachable, http_get
from rag.sources.readers.source import SourceFile

MAX_FEED_BYTES = 10 * 1024 * 1024
MAX_PAGE_BYTES = 5 * 1024 * 1024
MIN_FULL_CHARS = 500  # content no longer than the summary counts as full only from this length
MAX_ID_CHARS = 80
SUMMARY_MARK = "Résumé du flux : "
FEED_KIND = "feed"
SUMMARY_KIND = "feed-summary"
_MB = 1024 * 1024
_ISO_PARTIAL = re.compile(r"^\s*(\d{4}(?:-\d{2}(?:-\d{2})?)?)\s*$")  # W3C-DTF "2024", "2024-10", "2024-10-02"
_ISO_STAMP = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[T ]")
_BLANK_LINES = re.compile(r"\n\s*\n")
_AUTHOR_IN_PARENTHESES = re.compile(r"^\s*\S+@\S+\s*\((.*)\)\s*$")  # "redaction@journal.fr (Karim Haddad)"
_EMAIL = re.compile(r"\S+@[^\s>)]+")
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr "
    "li main ol p pre section table td th tr ul".split()
)


# -- what a feed holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEntry:
    """One entry, as plain text (what the fenced child sends back)."""

    title: str | None
    link: str | None  # http(s) address of the article, if any
    source: str  # what Document.source records: the link, else the entry's id (see entry_source)
    date: str | None  # ISO, at the feed's precision
    author: str | None
    tags: tuple[str, ...]
    content: str  # the full content as text, "" when the feed carries none
    summary: str  # the summary (description) as text

    @property
    def label(self) -> str:
        """How messages name the entry."""
        return f"« {self.title} »" if self.title else self.source


@dataclass(frozen=True)
class ParsedFeed:
    location: str  # the address or the absolute path, as registered
    title: str  # the outlet: the feed's title, else its host or file name
    version: str  # feedparser's: "rss20", "atom10"…
    entries: tuple[FeedEntry, ...]


# -- fetching --------------------------------------------------------------------------------


def is_url(location: str) -> bool:
    """``is_url("https://example.fr/rss")`` is True; a path, ``"ftp://…"`` or ``"file:…"`` is not."""
    return location.strip().lower().startswith(("http://", "https://"))


def feed_location(location: str) -> str:
    """The feed's name in the registry: the address as given, or the file's absolute path."""
    location = location.strip()
    if is_url(location):
        return location
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", location):
        raise FeedError(f"Flux {location} : adresse non prise en charge (http:// ou https:// seulement), ignoré.")
    return str(Path(location).expanduser().resolve())


def feed_bytes(location: str) -> bytes:
    """The raw feed at ``location`` (see :func:`feed_location`); :class:`FeedError` if unreachable."""
    if is_url(location):
        try:
            return http_get(
                location,
                max_bytes=MAX_FEED_BYTES,
                accept="application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1",
            )[0]
        except Unreachable as error:
            raise FeedError(f"Flux {location} : injoignable ({error.reason}), rien n'a été ajouté.") from None
    path = Path(location)
    try:
        if not path.is_file():
            raise FeedError(f"Flux {location} : fichier introuvable, rien n'a été ajouté.")
        if path.stat().st_size > MAX_FEED_BYTES:
            raise FeedError(f"Flux {location} : plus de {MAX_FEED_BYTES // _MB} Mo, rien n'a été ajouté.")
        return path.read_bytes()
    except OSError as error:
        why = error.strerror or error
        raise FeedError(f"Flux {location} : lecture impossible ({why}), rien n'a été ajouté.") from None


# -- parsing (in the fenced child) -----------------------------------------------------------


def parse_feed_here(raw: bytes, location: str) -> ParsedFeed:
    """The feed in ``raw``, parsed in this process (:func:`rag.sources.readers.fence.FencedParser.parse_feed` runs it
    in the child); :class:`FeedError` when it is malformed or not a feed."""
    import feedparser

    headers = {"content-location": location} if is_url(location) else {}  # relative links resolve against it
    parsed = feedparser.parse(io.BytesIO(raw), response_headers=headers)
    version = parsed.get("version") or ""
    entries = [entry for entry in (_entry(e, location) for e in parsed.entries) if entry is not None]
    if not entries:  # a feed may be empty; a broken one is refused rather than read as empty
        broken = parsed.get("bozo_exception")
        if version and broken is not None and not isinstance(broken, feedparser.ThingsNobodyCaresAboutButMe):
            why = _bozo_reason(broken)
            raise FeedError(f"Flux {location} : flux mal formé ({why}), rien n'a été ajouté.")
        if not version:
            raise FeedError(f"Flux {location} : ce n'est pas un flux RSS ou Atom, rien n'a été ajouté.")
    title = html_text(parsed.feed.get("title") or "") or _fallback_feed_title(location)
    return ParsedFeed(location=location, title=title, version=version, entries=tuple(entries))


def _bozo_reason(error: object) -> str:
    """``SAXParseException('<unknown>:3:0: mismatched tag')`` -> ``"ligne 3 : mismatched tag"``."""
    text = str(error or "XML illisible")
    if match := re.match(r"^<unknown>:(\d+):\d+: (.*)$", text):
        return f"ligne {match[1]} : {match[2]}"
    return text[:120]


def _fallback_feed_title(location: str) -> str:
    return urlsplit(location).hostname or location if is_url(location) else Path(location).name


def entry_source(location: str, link: str | None, entry_id: str | None, title: str | None) -> str:
    """An entry's name in the index, the same at every read of the feed: its link; else its id,
    within its feed unless it is a URI already; else its title, within its feed.

    >>> entry_source("https://a.fr/rss", None, "1234", None), entry_source("/f.rss", None, "urn:uuid:42", None)
    ('https://a.fr/rss#1234', 'urn:uuid:42')
    """
    if link:
        return link
    if entry_id:
        return entry_id if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S", entry_id) else f"{location}#{entry_id}"
    return f"{location}#{slugify(title or '')}"


def _entry(entry, location: str) -> FeedEntry | None:
    link = entry.get("link") or None
    if link and not is_url(link):
        link = None
    entry_id = (entry.get("id") or "").strip() or None
    summary = html_text(entry.get("summary") or "")
    content = ""
    for part in entry.get("content") or []:
        value = part.get("value") or ""
        text = html_text(value) if "html" in (part.get("type") or "text/html") else _plain(value)
        if len(text) > len(content):
            content = text
    if content == summary and content:  # feedparser copies a lone <content> into the summary
        summary = ""
    title = html_text(entry.get("title") or "") or None
    if not (link or entry_id or title) or not (content or summary or link):
        return None
    return FeedEntry(
        title=title,
        link=link,
        source=printable(entry_source(location, link, entry_id, title)),
        date=entry_date(entry),
        author=_author(entry),
        tags=tuple(dict.fromkeys(t["term"].strip() for t in entry.get("tags") or [] if (t.get("term") or "").strip())),
        content=content,
        summary=summary,
    )


def _author(entry) -> str | None:
    """The names of the entry's authors (Atom ``<author>``s, ``dc:creator``, RSS ``<author>``)."""
    names = [(a.get("name") or "").strip() for a in entry.get("authors") or []]
    if "@" in (raw := entry.get("author") or ""):  # RSS: an address, perhaps with the name
        names = [author_name(raw) or ""]
    return ", ".join(dict.fromkeys(n for n in names if n)) or None


def author_name(raw: str) -> str | None:
    """The name in an RSS ``<author>``, which holds an e-mail address first.

    >>> author_name("redaction@journal.fr (Karim Haddad)"), author_name("Karim Haddad <k@journal.fr>")
    ('Karim Haddad', 'Karim Haddad')
    >>> author_name("redaction@journal.fr") is None
    True
    """
    if match := _AUTHOR_IN_PARENTHESES.match(raw):
        return match[1].strip() or None
    name = _EMAIL.sub("", raw).strip(" <>()\t")
    return name or None


def entry_date(entry) -> str | None:
    """The entry's publication (else update) date, as written in the feed: the outlet's own day,
    not feedparser's UTC one, and a month stays a month."""
    for key in ("published", "updated", "created"):
        if (raw := entry.get(key)) and (iso := iso_date(raw)):
            return iso
    for key in ("published_parsed", "updated_parsed"):
        if parsed := entry.get(key):
            return time.strftime("%Y-%m-%d", parsed)
    return None


def iso_date(raw: str) -> str | None:
    """A feed date (RFC 822 in RSS, RFC 3339 in Atom, or French words) as an ISO date.

    >>> iso_date("Thu, 27 Mar 2025 00:30:00 +0100"), iso_date("2025-03-27T08:30:00+01:00"), iso_date("2024-10")
    ('2025-03-27', '2025-03-27', '2024-10')
    >>> iso_date("pas une date") is None
    True
    """
    if match := _ISO_PARTIAL.match(raw) or _ISO_STAMP.match(raw):
        return match[1]
    if (parts := parsedate_tz(raw)) is not None:
        year, month, day = parts[:3]
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return parse_french_date(raw)


def _plain(text: str) -> str:
    """Plain text with its paragraphs kept and the spaces inside them collapsed.

    >>> _plain("  Un   deux\\n trois\\n\\n\\nQuatre ")
    'Un deux trois\\n\\nQuatre'
    """
    paragraphs = (" ".join(p.split()) for p in _BLANK_LINES.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def html_text(fragment: str) -> str:
    """The text of an HTML fragment (an entry's content or summary), one paragraph per block.

    >>> html_text("<p>Mistral AI <b>lève</b> 600&nbsp;M€.</p><p>Suite.<br>Fin</p>")
    'Mistral AI lève 600 M€.\\n\\nSuite.\\n\\nFin'
    >>> html_text("Déjà du texte &amp; rien d'autre")
    "Déjà du texte & rien d'autre"
    """
    if "<" not in fragment:
        import html

        return _plain(html.unescape(fragment))
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return _plain(re.sub(r"<[^>]*>", " ", fragment))
    for element in list(root.iter("script", "style", "noscript")):
        element.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            element.tail = "\n\n" + (element.tail or "")
            if element.tag.lower() != "br":
                element.text = "\n\n" + (element.text or "")
    return _plain(root.text_content())


# -- entries to documents --------------------------------------------------------------------


def is_full_content(content: str, summary: str) -> bool:
    """Whether the entry's content is its article: clearly more than its summary, or, with no
    distinct summary, long enough not to be one (:data:`MIN_FULL_CHARS`).

    >>> is_full_content("x" * 900, "x" * 200), is_full_content("x" * 200, ""), is_full_content("", "abc")
    (True, False, False)
    """
    if not content:
        return False
    if summary and len(content) >= 1.5 * len(summary) and len(content) >= len(summary) + 200:
        return True
    return len(content) >= MIN_FULL_CHARS and len(content) >= len(summary)


def document_id(entry: FeedEntry, fallback: str) -> str:
    """A doc id like the files': the date and the title, slugified, at most :data:`MAX_ID_CHARS`.

    >>> document_id(FeedEntry("Mistral AI lève 600 M€", None, "x", "2024-06-11", None, (), "", ""), "x")
    '2024-06-11-mistral-ai-leve-600-m'
    """
    slug = slugify(f"{entry.date or ''} {entry.title or fallback}")
    if len(slug) > MAX_ID_CHARS:
        slug = slug[:MAX_ID_CHARS].rsplit("-", 1)[0]
    return slug


PageParser = Callable[[str, SourceFile], Document]  # rag.sources.files.Parser: (kind, source) -> document


@dataclass(frozen=True)
class EntryDocument:
    """An entry's document, and why it holds only the summary (None when it holds the article)."""

    document: Document
    summary_only: str | None = None


def entry_document(feed: ParsedFeed, entry: FeedEntry, *, parse: PageParser, fetch_pages: bool = True) -> EntryDocument:
    """The document of ``entry`` (see the module's docstring for where its body comes from);
    :class:`~rag.errors.DocumentError` when there is no text at all."""
    doc_id = document_id(entry, fallback=entry.source)
    base = {
        "doc_id": doc_id,
        "title": entry.title,
        "date": entry.date,
        "source": entry.source,
        "rubric": " · ".join(entry.tags) or None,
        "author": entry.author,
        "site": feed.title,
    }
    if is_full_content(entry.content, entry.summary):
        return EntryDocument(_document(base, entry.content, FEED_KIND))
    text = entry.summary if len(entry.summary) >= len(entry.content) else entry.content
    page, why = _article_page(entry, doc_id, parse, longer_than=len(text), fetch=fetch_pages)
    if page is not None:
        merged = {
            **base,
            "title": entry.title or page.title,
            "date": entry.date or page.date,
            "author": entry.author or page.author,
            "rubric": base["rubric"] or page.rubric,
        }
        return EntryDocument(_document(merged, page.body, FEED_KIND))
    if not text:
        raise DocumentError(f"{entry.label} : ni contenu, ni page liée lisible, ni résumé ({why}), entrée ignorée.")
    return EntryDocument(_document(base, SUMMARY_MARK + text, SUMMARY_KIND), summary_only=why)


def _article_page(
    entry: FeedEntry, doc_id: str, parse: PageParser, *, longer_than: int, fetch: bool
) -> tuple[Document | None, str]:
    """The linked page read as an article, or None and why not: unreachable, not HTML, no
    article in it, or less text than the summary (a page of menus and a cookie banner)."""
    if not entry.link:
        return None, "pas de lien vers l'article"
    if not fetch:
        return None, "page liée non lue"
    try:
        page = linked_page(entry.link, doc_id, parse)
    except Unreachable as error:
        return None, f"page liée non lue ({error.reason})"
    except DocumentError as error:
        return None, f"page liée non lue ({_page_reason(error)})"
    if len(page.body) <= longer_than:
        return None, "page liée sans article (moins de texte que le résumé)"
    return page, ""


def _page_reason(error: DocumentError) -> str:
    """``"x.html : aucun texte d'article trouvé dans la page, fichier ignoré."`` -> the middle."""
    text = str(error)
    text = text.split(" : ", 1)[-1]
    return text.removesuffix(", fichier ignoré.").removesuffix(".")


def _document(fields: dict, body: str, kind: str) -> Document:
    title = fields["title"] or fallback_title(body.removeprefix(SUMMARY_MARK))
    return Document(
        **{**fields, "title": title},
        body=body,
        sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        kind=kind,
    )


def linked_page(url: str, doc_id: str, parse: PageParser) -> Document:
    """The article at ``url``, read by the HTML reader through ``parse`` (the fence)."""
    raw, content_type = http_get(
        url, max_bytes=MAX_PAGE_BYTES, accept="text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
    )
    if content_type and "html" not in content_type.lower():
        raise Unreachable(f"pas une page HTML ({content_type.split(';')[0].strip()})")
    if not raw.strip():
        raise Unreachable("vide")
    return parse("html", SourceFile(path=Path(f"{doc_id}.html"), raw=raw, doc_id=doc_id))


__all__ = [
    "SUMMARY_KIND",
    "SUMMARY_MARK",
    "EntryDocument",
    "FeedEntry",
    "ParsedFeed",
    "entry_document",
    "feed_bytes",
    "feed_location",
    "parse_feed_here",
]
