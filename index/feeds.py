"""Follow RSS/Atom feeds: ``python -m index add-feed`` and ``python -m index refresh``.

Reading a feed (:mod:`rag.sources.feeds`) gives one document per entry; here they are added to the
index and the feed is registered (:mod:`index.feed_registry`):

1. the feed is fetched and parsed; a feed that cannot be used raises
   :class:`~rag.errors.FeedError` before anything is written, and is not registered;
2. entries whose link the index already holds, or that an earlier read of the feed dealt with
   (the registry keeps their links), are left alone before their page is fetched: a refresh
   reads only what is new, an entry is never indexed twice by its link, and a document the
   user removed does not come back;
3. the others become documents (full content, else the linked page, else the summary,
   marked) and go through :func:`index.update.add_read_documents`, which leaves out the same
   text under another link and near duplicates, exactly as for files;
4. the feed is recorded in the registry with the time, its entries and what was added.

With nothing new, the index is not written at all (no new version).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from index.feed_registry import FeedRegistry
from index.update import UpdateReport, add_read_documents
from rag.config import Settings
from rag.errors import DocumentError, FeedError
from rag.models.embedding import Embedder
from rag.sources.documents import Document
from rag.sources.feeds import ParsedFeed, entry_document, feed_bytes, feed_location
from rag.store.backend import indexed_sources


@dataclass
class FeedReport:
    """What reading one feed did."""

    location: str
    title: str
    entries: int = 0  # in the feed
    known: int = 0  # already indexed or dealt with by an earlier read
    summaries: list[str] = field(default_factory=list)  # entries indexed from their summary only, with why
    update: UpdateReport = field(default_factory=UpdateReport)

    @property
    def added(self) -> list[str]:
        return self.update.added

    def notes(self) -> list[str]:
        """One line per entry that needs the user's attention."""
        return [*(f"résumé seul : {line}" for line in self.summaries), *self.update.notes()]

    def summary(self) -> str:
        """``"Le Fil (https://…) : 12 entrée(s), 9 déjà lue(s) ; 3 ajouté(s), 0 mis à jour, …"``."""
        read = f"{self.entries} entrée(s), {self.known} déjà lue(s)"
        return f"{self.title} ({self.location}) : {read} ; {self.update.summary()}"


Reader = Callable[[str], ParsedFeed]  # location -> the parsed feed, or FeedError


def read_feed(location: str) -> ParsedFeed:
    """The feed at ``location`` (as :func:`rag.sources.feeds.feed_location` names it), parsed in the fence."""
    from rag.sources.readers.fence import shared_parser

    return shared_parser().parse_feed(feed_bytes(location), location)


def add_feed(
    settings: Settings,
    location: str,
    embedder: Embedder,
    *,
    keep_near_duplicates: bool = False,
    progress: bool = True,
    on_wait: Callable[[str], None] | None = print,
    read: Reader = read_feed,
    parse_page=None,
) -> FeedReport:
    """Read the feed at ``location``, index its new entries and register it (or record the
    refresh, when it is registered already); :class:`FeedError` if the feed cannot be used."""
    location = feed_location(location)
    feed = read(location)
    report = FeedReport(location=location, title=feed.title, entries=len(feed.entries))
    registry = FeedRegistry(settings.feeds_db)
    indexed = {source for _, source in indexed_sources(settings)}
    documents = _new_documents(feed, report, indexed | registry.seen(location), parse_page)
    if documents:
        add_read_documents(
            settings,
            documents,
            embedder,
            report=report.update,
            keep_near_duplicates=keep_near_duplicates,
            progress=progress,
            on_wait=on_wait,
        )
    # Dealt with: indexed now or before, or left out as a duplicate (not an entry without text:
    # it may get some later).
    dealt_with = [d.source for d in documents] + [e.source for e in feed.entries if e.source in indexed]
    registry.succeeded(location, feed.title, entries=report.entries, added=len(report.added), seen=dealt_with)
    return report


def _new_documents(feed: ParsedFeed, report: FeedReport, known: set[str], parse_page) -> list[Document]:
    """The documents of the entries whose link is not ``known`` (to the index or an earlier read)."""
    if parse_page is None:
        from rag.sources.readers.fence import shared_parser

        parse_page = shared_parser()
    this_read: set[str] = set()
    documents: list[Document] = []
    for entry in feed.entries:
        source = entry.source
        if source in known:
            report.known += 1
            continue
        if source in this_read:
            continue  # the same entry twice in one feed
        this_read.add(source)
        try:
            made = entry_document(feed, entry, parse=parse_page)
        except DocumentError as error:
            report.update.skipped.append(str(error))
            continue
        if made.summary_only is not None:
            report.summaries.append(f"{entry.label} ({made.summary_only}), marqué comme résumé.")
        documents.append(made.document)
    return documents


def refresh_feeds(
    settings: Settings,
    embedder: Embedder,
    *,
    keep_near_duplicates: bool = False,
    progress: bool = True,
    on_wait: Callable[[str], None] | None = print,
    read: Reader = read_feed,
    parse_page=None,
) -> Iterator[FeedReport | FeedError]:
    """Re-read every registered feed, adding only what is new; a feed that fails is recorded
    (its error, kept in the registry) and given as its :class:`FeedError`, and the next is read."""
    registry = FeedRegistry(settings.feeds_db)
    for registered in registry.feeds():
        try:
            yield add_feed(
                settings,
                registered.location,
                embedder,
                keep_near_duplicates=keep_near_duplicates,
                progress=progress,
                on_wait=on_wait,
                read=read,
                parse_page=parse_page,
            )
        except FeedError as error:
            registry.failed(registered.location, str(error))
            yield error
