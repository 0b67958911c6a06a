"""RSS/Atom feeds (``python -m index add-feed`` / ``refresh``), offline: feed files in
tests/fixtures/feeds/ and a loopback HTTP server for feeds and linked pages."""

from __future__ import annotations

import socket
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from index.build import build_index
from index.feed_registry import FeedRegistry
from index.feeds import FeedReport, add_feed, refresh_feeds
from index.update import rebuild_index, remove_documents
from rag.config import PROJECT_ROOT
from rag.errors import FeedError
from rag.sources.feeds import SUMMARY_KIND, SUMMARY_MARK
from rag.sources.fetch import USER_AGENT
from rag.store.backend import indexed_sources, open_index
from rag.store.live import LiveIndex
from rag.store.versions import current_version
from tests.conftest import SEEDS

FEEDS = PROJECT_ROOT / "tests" / "fixtures" / "feeds"
ARTICLE_PAGE = PROJECT_ROOT / "tests" / "fixtures" / "article-presse.html"
FULL = FEEDS / "plein-texte.rss"
TRAMWAY = "https://fil-numerique.example/2025/03/27/tramway-t10"
DATACENTER = "https://fil-numerique.example/2025/03/20/datacenter-marseille"
QUIET = {"progress": False, "on_wait": None}


class Site:
    """A web server on 127.0.0.1 whose pages a test sets: ``site.pages[path] = (status, type, body)``."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        self.agents: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                site.agents.append(self.headers.get("User-Agent", ""))
                status, content_type, body = site.pages.get(self.path, (404, "text/plain", b"introuvable"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def feed(self, path: str, text: str | Path) -> str:
        """Serve a feed (a fixture, or its text) at ``path``; its ``http://depeche.test`` links point here."""
        text = text.read_text(encoding="utf-8") if isinstance(text, Path) else text
        body = text.replace("http://depeche.test", self.base).encode("utf-8")
        self.pages[path] = (200, "application/rss+xml; charset=utf-8", body)
        return self.url(path)

    def page(self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> str:
        self.pages[path] = (200, content_type, body)
        return self.url(path)


@pytest.fixture
def site():
    served = Site()
    served.thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


@pytest.fixture
def indexed(settings, fake_embedder):
    """An index of the seeds."""
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    return settings


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/rss"


def state(settings) -> tuple:
    """What a refused feed must not change: the index version, its documents, the registry."""
    return (
        current_version(settings.index_dir),
        sorted(indexed_sources(settings)),
        FeedRegistry(settings.feeds_db).feeds(),
    )


def rss(title: str, items: list[dict[str, str]]) -> str:
    """A small RSS 2.0 feed; each item: title, link, date (RFC 822), content (full text) or summary."""
    parts = []
    for item in items:
        body = (
            f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>"
            if "content" in item
            else f"<description>{item['summary']}</description>"
        )
        parts.append(
            f"<item><title>{item['title']}</title><link>{item['link']}</link>"
            f"<pubDate>{item.get('date', 'Mon, 02 Jun 2025 10:00:00 +0200')}</pubDate>{body}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{title}</title><link>http://depeche.test/</link>{''.join(parts)}</channel></rss>"
    )


def long_text(seed: str, words: int = 220) -> str:
    return " ".join(f"{seed}{i}" for i in range(words)) + "."


def by_source(settings) -> dict:
    store = open_index(settings)
    return {source: store.document(doc_id) for doc_id, source in indexed_sources(settings)}


# -- bodies, metadata ------------------------------------------------------------------------


def test_full_content_is_indexed_with_date_author_outlet_and_link(indexed, fake_embedder):
    report = add_feed(indexed, str(FULL), fake_embedder, **QUIET)
    assert isinstance(report, FeedReport)
    assert report.added == [
        "2025-03-27-lyon-inaugure-sa-ligne-de-tramway-t10",
        "2025-03-20-marseille-accueille-un-centre-de-donnees-souterrain",
    ]
    assert report.summaries == [] and report.notes() == []
    assert report.summary().startswith(f"Le Fil Numérique ({FULL}) : 2 entrée(s), 0 déjà lue(s) ; 2 ajouté(s)")

    documents = by_source(indexed)
    tramway = documents[TRAMWAY]
    assert tramway.title == "Lyon inaugure sa ligne de tramway T10"
    assert tramway.date == "2025-03-27"  # the outlet's day (00:30 +01:00), not feedparser's UTC one
    assert tramway.author == "Sophie Bernard" and tramway.site == "Le Fil Numérique"
    assert tramway.rubric == "Transports" and tramway.kind == "feed"
    assert tramway.body.startswith("La métropole de Lyon a inauguré jeudi la ligne de tramway T10")
    assert "\n\nLe chantier, commencé il y a trois ans" in tramway.body  # paragraphs kept
    assert "<p>" not in tramway.body and not tramway.body.startswith(SUMMARY_MARK)
    datacenter = documents[DATACENTER]
    assert datacenter.author == "Karim Haddad"  # RSS <author>: the name, not the address
    assert datacenter.date == "2025-03-20"

    (feed,) = FeedRegistry(indexed.feeds_db).feeds()
    assert (feed.location, feed.title, feed.entries, feed.added, feed.error) == (
        str(FULL),
        "Le Fil Numérique",
        2,
        2,
        None,
    )
    assert feed.refreshed_at and feed.added_at


def test_atom_keeps_a_month_date_and_every_author(settings, fake_embedder):
    report = add_feed(settings, str(FEEDS / "atom.xml"), fake_embedder, **QUIET)  # no index yet: made
    assert report.added == ["2024-10-un-nouveau-satellite-pour-observer-les-oceans"]
    document = by_source(settings)["https://sciences-ouest.example/satellite-oceans"]
    assert document.date == "2024-10"
    assert document.author == "Louise Garnier, Marc Le Goff"
    assert document.site == "Sciences Ouest" and document.kind == "feed"
    assert document.body.startswith("Le centre spatial de Brest pilotera")


def test_a_summary_feed_reads_the_linked_page_else_marks_the_summary(indexed, fake_embedder, site):
    url = site.feed("/resumes.rss", FEEDS / "resumes.rss")
    site.page("/articles/mistral-ai", ARTICLE_PAGE.read_bytes())  # /articles/greve-sncf: 404
    report = add_feed(indexed, url, fake_embedder, **QUIET)
    assert len(report.added) == 2
    assert report.summaries == [
        "« Grève à la SNCF : le trafic perturbé jeudi » (page liée non lue (réponse HTTP 404)), marqué comme résumé."
    ]
    assert report.notes() == [f"résumé seul : {report.summaries[0]}"]

    documents = by_source(indexed)
    mistral = documents[site.url("/articles/mistral-ai")]
    assert mistral.kind == "feed"
    assert "Mistral AI a annoncé mardi avoir levé 600 millions d’euros" in mistral.body  # the page's article
    assert "cookies" not in mistral.body  # read by trafilatura: no boilerplate
    assert (mistral.title, mistral.date, mistral.author) == (
        "Mistral AI lève 600 millions d'euros",
        "2024-06-11",
        "Claire Martin",
    )
    assert mistral.site == "L'Écho du Numérique"

    strike = documents[site.url("/articles/greve-sncf")]
    assert strike.kind == SUMMARY_KIND
    assert (
        strike.body
        == f"{SUMMARY_MARK}Un TGV sur deux circulera jeudi sur l'axe Paris-Lyon, annonce la direction de la SNCF."
    )
    assert strike.title == "Grève à la SNCF : le trafic perturbé jeudi" and strike.date == "2024-06-12"
    assert site.agents and all(agent == USER_AGENT for agent in site.agents)


def test_a_linked_page_that_is_not_an_article_leaves_the_summary(indexed, fake_embedder, site):
    items = [
        {"title": "Un PDF", "link": "http://depeche.test/rapport.pdf", "summary": "Le rapport annuel, en résumé."},
        {"title": "Une page vide", "link": "http://depeche.test/vide", "summary": "Une page sans article."},
        {"title": "Injoignable", "link": closed_port_url(), "summary": "Un serveur éteint."},
    ]
    site.page("/rapport.pdf", b"%PDF-1.4 ...", "application/pdf")
    site.page("/vide", b"<html><body><nav>Menu</nav></body></html>")
    report = add_feed(indexed, site.feed("/f.rss", rss("Divers", items)), fake_embedder, **QUIET)
    assert len(report.added) == 3
    assert "pas une page HTML (application/pdf)" in report.summaries[0]
    assert "page liée sans article" in report.summaries[1]
    assert "connexion refusée" in report.summaries[2]
    assert {d.kind for d in by_source(indexed).values() if d.site == "Divers"} == {SUMMARY_KIND}


# -- what is new, what is not ----------------------------------------------------------------


def test_adding_again_and_refreshing_add_nothing_and_write_nothing(indexed, fake_embedder):
    add_feed(indexed, str(FULL), fake_embedder, **QUIET)
    before = state(indexed)[:2]
    again = add_feed(indexed, str(FULL), fake_embedder, **QUIET)
    assert again.added == [] and again.known == 2 and again.notes() == []
    (refreshed,) = refresh_feeds(indexed, fake_embedder, **QUIET)
    assert isinstance(refreshed, FeedReport) and refreshed.added == [] and refreshed.known == 2
    assert state(indexed)[:2] == before  # no new version of the index
    (feed,) = FeedRegistry(indexed.feeds_db).feeds()
    assert (feed.entries, feed.added) == (2, 0)


def test_refresh_adds_a_new_entry_of_a_served_feed(indexed, fake_embedder, site):
    first = {"title": "Premier article", "link": "http://depeche.test/1", "content": f"<p>{long_text('alpha')}</p>"}
    second = {"title": "Second article", "link": "http://depeche.test/2", "content": f"<p>{long_text('beta')}</p>"}
    url = site.feed("/fil.rss", rss("Le Fil", [first]))
    assert len(add_feed(indexed, url, fake_embedder, **QUIET).added) == 1
    site.feed("/fil.rss", rss("Le Fil", [second, first]))
    (report,) = refresh_feeds(indexed, fake_embedder, **QUIET)
    assert report.added == ["2025-06-02-second-article"] and report.known == 1
    assert site.url("/2") in by_source(indexed)


def test_the_same_text_under_another_link_is_left_out(indexed, fake_embedder, site):
    text = long_text("gamma")
    original = {"title": "Original", "link": "http://depeche.test/original", "content": f"<p>{text}</p>"}
    add_feed(indexed, site.feed("/a.rss", rss("Agence", [original])), fake_embedder, **QUIET)
    copies = [
        {"title": "Copie", "link": "http://depeche.test/copie", "content": f"<p>{text}</p>"},
        {
            "title": "Reprise",
            "link": "http://depeche.test/reprise",
            "content": f"<p>{text.replace('gamma7 ', 'delta7 ')}</p>",
        },
    ]
    url = site.feed("/b.rss", rss("Reprises", copies))
    report = add_feed(indexed, url, fake_embedder, **QUIET)
    assert report.added == []
    exact, near = report.notes()
    assert exact == f"doublon : {site.url('/copie')} : même texte que « 2025-06-02-original », non indexé."
    assert near.startswith(f"quasi-doublon : {site.url('/reprise')} : proche de « 2025-06-02-original » (similarité")
    # Dealt with: a refresh does not read them again, nor report them again.
    (again,) = [r for r in refresh_feeds(indexed, fake_embedder, **QUIET) if r.location == url]
    assert again.known == 2 and again.notes() == []


def test_an_entry_without_a_link_is_known_by_its_id(settings, fake_embedder, tmp_path):
    feed = tmp_path / "guid.rss"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Brèves</title><item><title>Sans lien</title>'
        f'<guid isPermaLink="false">1234</guid><description>{long_text("zeta")}</description></item>'
        "</channel></rss>",
        encoding="utf-8",
    )
    first = add_feed(settings, str(feed), fake_embedder, **QUIET)
    assert first.added == ["sans-lien"] and first.summaries == [
        "« Sans lien » (pas de lien vers l'article), marqué comme résumé."
    ]
    assert f"{feed}#1234" in by_source(settings)
    assert add_feed(settings, str(feed), fake_embedder, **QUIET).known == 1


def test_a_removed_document_does_not_come_back(indexed, fake_embedder):
    report = add_feed(indexed, str(FULL), fake_embedder, **QUIET)
    remove_documents(indexed, [report.added[0]], on_wait=None)
    (refreshed,) = refresh_feeds(indexed, fake_embedder, **QUIET)
    assert refreshed.added == [] and TRAMWAY not in by_source(indexed)


def test_rebuild_keeps_feed_documents_without_a_word(indexed, fake_embedder):
    add_feed(indexed, str(FULL), fake_embedder, **QUIET)
    report = rebuild_index(indexed, fake_embedder, progress=False, on_wait=None)
    assert report.from_store == []  # the seeds are re-read; a feed entry's text is its stored one
    assert {TRAMWAY, DATACENTER} <= set(by_source(indexed))
    assert FeedRegistry(indexed.feeds_db).feeds()[0].location == str(FULL)  # the registry outlives versions


# -- feeds that cannot be used ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "expected"),
    [
        ("closed-port", "injoignable (connexion refusée)"),
        ("http-500", "injoignable (réponse HTTP 500)"),
        ("malformed", "flux mal formé (ligne 7 : not well-formed (invalid token))"),
        ("html-page", "ce n'est pas un flux RSS ou Atom"),
        ("missing-file", "fichier introuvable"),
        ("ftp", "adresse non prise en charge"),
    ],
)
def test_an_unusable_feed_is_one_line_and_changes_nothing(indexed, fake_embedder, site, tmp_path, what, expected):
    location = {
        "closed-port": closed_port_url(),
        "http-500": site.url("/erreur"),
        "malformed": str(FEEDS / "mal-forme.xml"),
        "html-page": site.page("/page.html", ARTICLE_PAGE.read_bytes()),
        "missing-file": str(tmp_path / "absent.rss"),
        "ftp": "ftp://depeche.test/rss",
    }[what]
    site.pages["/erreur"] = (500, "text/plain", b"panne")
    before = state(indexed)
    with pytest.raises(FeedError) as raised:
        add_feed(indexed, location, fake_embedder, **QUIET)
    message = str(raised.value)
    assert "\n" not in message and expected in message and location in message
    assert state(indexed) == before


def test_a_feed_failing_in_refresh_does_not_stop_the_others(indexed, fake_embedder, site):
    item = {"title": "Brève", "link": "http://depeche.test/breve", "content": f"<p>{long_text('epsilon')}</p>"}
    broken = site.feed("/casse.rss", rss("Cassé", []))
    add_feed(indexed, broken, fake_embedder, **QUIET)
    working = site.feed("/marche.rss", rss("Marche", []))
    add_feed(indexed, working, fake_embedder, **QUIET)
    site.pages["/casse.rss"] = (503, "text/plain", b"maintenance")
    site.feed("/marche.rss", rss("Marche", [item]))

    failed, report = refresh_feeds(indexed, fake_embedder, **QUIET)
    assert isinstance(failed, FeedError) and "réponse HTTP 503" in str(failed)
    assert isinstance(report, FeedReport) and report.added == ["2025-06-02-breve"]
    feeds = {feed.location: feed for feed in FeedRegistry(indexed.feeds_db).feeds()}
    assert feeds[broken].error == str(failed) and feeds[broken].failed_at
    assert feeds[working].error is None and feeds[working].added == 1


# -- the command line ------------------------------------------------------------------------


@dataclass
class Run:
    code: int
    out: list[str]
    err: list[str]


@pytest.fixture
def command(indexed, fake_embedder, monkeypatch, capsys):
    import index.__main__ as cli
    import rag.components

    monkeypatch.setattr(rag.components, "lazy_embedder", lambda settings: fake_embedder)

    def run(*args: str) -> Run:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["python -m index", *args])
        code = cli.main()
        captured = capsys.readouterr()
        errors = [line for line in captured.err.splitlines() if line.startswith("Erreur")]  # not the progress bar
        return Run(code, captured.out.splitlines(), errors)

    return run


def test_the_commands(command, indexed, site):
    done = command("add-feed", str(FULL))
    assert done.code == 0 and done.err == []
    assert done.out[-1].startswith(f"Le Fil Numérique ({FULL}) : 2 entrée(s), 0 déjà lue(s) ; 2 ajouté(s)")

    before = state(indexed)
    refused = command(
        "add-feed", closed_port_url(), str(FEEDS / "mal-forme.xml"), site.page("/p", b"<html><p>x</p></html>")
    )
    assert refused.code == 1 and refused.out == []
    assert len(refused.err) == 3 and all(line.startswith("Erreur : Flux ") for line in refused.err)
    assert state(indexed) == before

    url = site.feed("/resumes.rss", FEEDS / "resumes.rss")  # no page served: both entries are summaries
    added = command("add-feed", url)
    assert added.code == 0 and sum(line.startswith("  résumé seul : ") for line in added.out) == 2

    listed = command("feeds")
    assert listed.out[0].startswith(f"{FULL}\tLe Fil Numérique\tlu le ") and listed.out[-1] == "2 flux enregistré(s)."

    again = command("refresh")
    assert again.code == 0 and again.out[-1] == "2 flux relu(s) : 0 document(s) ajouté(s), 0 flux en échec."
    site.pages.pop("/resumes.rss")
    failing = command("refresh")
    assert failing.code == 1 and len(failing.err) == 1 and "réponse HTTP 404" in failing.err[0]
    assert failing.out[-1] == "2 flux relu(s) : 0 document(s) ajouté(s), 1 flux en échec."
    assert "erreur le " in command("feeds").out[1]

    assert command("remove-feed", url).out == [f"Flux retiré : {url} (ses documents restent dans l'index)."]
    assert command("remove-feed", url).code == 1
    assert command("feeds").out[-1] == "1 flux enregistré(s)."


def test_refresh_with_no_feed_says_how_to_add_one(command):
    assert command("refresh").out == ["Aucun flux enregistré : ajoutez-en un avec `python -m index add-feed URL`."]


# -- the Corpus tab --------------------------------------------------------------------------


@dataclass
class TabContext:  # what ui.session.AppContext gives the tab
    settings: Any
    embedder: Any
    store: LiveIndex


def test_the_corpus_tab_lists_the_feeds(indexed, fake_embedder, site):
    import gradio as gr

    from ui.corpus import FEED_HEADERS, CorpusTab, corpus_tab

    context = TabContext(indexed, fake_embedder, LiveIndex(indexed.index_dir, embed_model=fake_embedder.name))
    tab = CorpusTab(context)
    assert tab.feed_rows() == []  # a fresh install: no feed, and no database created for it
    assert not indexed.feeds_db.exists()

    add_feed(indexed, str(FULL), fake_embedder, **QUIET)
    broken = site.feed("/casse.rss", rss("Cassé", []))
    add_feed(indexed, broken, fake_embedder, **QUIET)
    site.pages.pop("/casse.rss")
    list(refresh_feeds(indexed, fake_embedder, **QUIET))

    rows = tab.feed_rows()
    assert len(FEED_HEADERS) == len(rows[0])
    title, location, refreshed, entries, added, error = rows[0]
    assert (title, location, entries, added, error) == ("Le Fil Numérique", str(FULL), 2, 0, "")
    assert refreshed[:2] == "20" and len(refreshed) == len("2025-06-02 10:00")
    assert rows[1][0] == "Cassé" and "réponse HTTP 404" in rows[1][-1]
    sources = {row[-1]: row[2] for row in tab.rows()}
    assert sources["2025-03-27-lyon-inaugure-sa-ligne-de-tramway-t10"] == "Le Fil Numérique (tramway-t10)"

    with gr.Blocks() as demo, gr.Tab("Corpus") as corpus:
        corpus_tab(context, tab=tab)
    triggers = {target for fn in demo.fns.values() for target in fn.targets if fn.name == "feed_rows"}
    assert {(demo._id, "load"), (corpus._id, "select")} <= triggers
    assert "depeche-corpus-feeds" in {getattr(block, "elem_id", None) for block in demo.blocks.values()}
