"""The app in a real browser: Playwright drives Debian's Chromium against ``python -m ui``.

The server runs as a user starts it, on a free port, over an index of the seeds built by
``python -m index build`` in a temporary data folder, with the real models. Never skipped:
without Playwright or Chromium these tests fail and say how to install them (``make browser``).

The three-answer test also takes the README's screenshot (``docs/screenshot.png``): a read
answer, a yes/no answer and a refusal, with a source open, so the picture follows the app.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT
from tests.test_integration import _cli, _free_port

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = "lancez `make browser` (apt-get install -y chromium ; pip install -r requirements.txt)"
SCREENSHOT = PROJECT_ROOT / "docs" / "screenshot.png"
QUESTION = "Dans quelle ville OpenAI va-t-elle ouvrir un bureau en Allemagne ?"
SUMMARY_QUESTION = "Résume l'article sur le bureau de Munich."  # the LLM path: its draft streams
YES_NO_QUESTION = "OpenAI a-t-elle ouvert son premier bureau d'Europe continentale à Paris ?"
ABSENT_QUESTION = "Combien de salariés OpenAI compte-t-elle embaucher à Madrid ?"
LYON_TITLE = "Tramway à Lyon"
LYON_ARTICLE = f"{LYON_TITLE}\n\nLa ligne de tramway T10 relie Gerland à Vénissieux depuis samedi.\n"
LYON_QUESTION = "Quelle ligne de tramway relie Gerland à Vénissieux ?"
SERVER_START_S = 300  # models load before the port opens; the machine may be busy
ANSWER_S = 240  # a streamed answer from the small CPU model
INDEX_S = 180  # an upload embedded and published
UI_S = 30  # the page reacting to a click

BOT = "#depeche-chat .message-row.bot-row"
SOURCES = "#depeche-sources"

TIMES: dict[str, float] = {}


def _playwright():
    """The sync API, or a failure that says how to install it (never a skip)."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail(f"Playwright (le paquet Python) manque : {INSTALL_HINT}.", pytrace=False)
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium de Debian manque ({CHROMIUM}) : {INSTALL_HINT}.", pytrace=False)
    return sync_playwright, expect


# -- the server and the browser ---------------------------------------------------------------


@pytest.fixture(scope="module")
def timings(request):
    """Prints how long the browser tests took (server start included), past pytest's capture."""
    started = time.perf_counter()
    yield TIMES
    TIMES["total"] = time.perf_counter() - started
    capture = request.config.pluginmanager.getplugin("capturemanager")
    lines = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in TIMES.items())
    with capture.global_and_fixture_disabled():
        print(f"\nTests navigateur : {lines}")


@pytest.fixture(scope="module")
def server(tmp_path_factory, timings) -> str:
    """``python -m ui`` on a free port over a fresh index of the seeds; its URL."""
    _playwright()  # fail before building anything if the browser is missing
    started = time.perf_counter()
    home = tmp_path_factory.mktemp("browser-home")
    built = _cli("-m", "index", "build", home=home)
    assert built.returncode == 0, built.stderr
    with serving(home) as url:
        timings["démarrage (index + modèles)"] = time.perf_counter() - started
        yield url


@contextlib.contextmanager
def serving(home: Path):
    """``python -m ui`` on a free port over the index in ``home``, as a user starts it; its URL."""
    port = _free_port()
    log_path = home / "ui.log"
    env = {**os.environ, "DEPECHE_HOME": str(home), "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ui", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"python -m ui s'est arrêté ({process.returncode}) :\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"python -m ui ne répond pas après {SERVER_START_S} s :\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def browser(server):
    sync_playwright, _ = _playwright()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server, request, timings):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(UI_S * 1000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server)
    page.locator("#depeche-question textarea").wait_for(state="visible")
    started = time.perf_counter()
    yield page
    timings[request.node.name.removeprefix("test_")] = time.perf_counter() - started
    context.close()
    assert not errors, f"erreurs JavaScript dans la page : {errors}"


# -- helpers -------------------------------------------------------------------------------------


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=re.compile(name)).click()


def ask(page, question: str, *, cited: bool = True):
    """Ask in the chat; wait for the checked answer (its markers are links; for ``cited=False``,
    a refusal) and return its bubble.

    The states the answer went through are recorded in the page (``window.depecheStates``)
    by a MutationObserver, to check that it streamed."""
    _, expect = _playwright()
    answers_before = page.locator(BOT).count()
    page.evaluate(
        """(selector) => {
        window.depecheStates = [];
        const chat = document.querySelector('#depeche-chat');
        const record = () => {
            const rows = chat.querySelectorAll(selector.replace('#depeche-chat ', ''));
            const text = rows.length ? rows[rows.length - 1].innerText : '';
            const states = window.depecheStates;
            if (text && states[states.length - 1] !== text) states.push(text);
        };
        window.depecheObserver && window.depecheObserver.disconnect();
        window.depecheObserver = new MutationObserver(record);
        window.depecheObserver.observe(chat, {subtree: true, childList: true, characterData: true});
    }""",
        BOT,
    )
    page.locator("#depeche-question textarea").fill(question)
    page.locator("#depeche-send").click()
    bubble = page.locator(BOT).nth(answers_before)
    if cited:
        expect(bubble.locator("a.depeche-cite").first).to_be_visible(timeout=ANSWER_S * 1000)
    else:
        expect(bubble).to_contain_text("Je ne trouve pas", timeout=ANSWER_S * 1000)
    return bubble


# -- the tests -----------------------------------------------------------------------------------


def cited_source_selector(cite) -> str:
    """The CSS selector of the panel item a marker points to: its ``href`` (``#depeche-source-1-2``;
    the chat's sanitizer keeps it), else its ``data-turn`` and ``data-n``."""
    href = cite.get_attribute("href") or ""
    if re.fullmatch(r"#depeche-source-\d+-\d+", href):
        return href
    turn, number = cite.get_attribute("data-turn"), cite.get_attribute("data-n")
    return f'.depeche-source[data-turn="{turn}"][data-n="{number}"]'


def test_a_read_answer_cites_its_passage_and_underlines_the_span(page):
    _, expect = _playwright()
    bubble = ask(page, QUESTION)
    text = bubble.inner_text()
    short = text.split(". Selon [")[0]
    assert "Munich" in short and "Selon [" in text, text  # the span, then the quoted sentence

    cite = bubble.locator("a.depeche-cite").first
    source = page.locator(f"{SOURCES} {cited_source_selector(cite)}")
    # The first cited passage opens with the answer: close it, so that the click is what opens it.
    source.evaluate("el => { el.open = false; el.classList.remove('open'); }")
    expect(source.locator(".depeche-passage")).to_be_hidden()
    cite.click()
    expect(source).to_have_attribute("open", "")
    passage = source.locator(".depeche-passage")
    expect(passage).to_be_visible()
    expect(passage.locator("strong.depeche-span").first).to_contain_text("Munich")  # the reader's span, underlined
    assert passage.bounding_box()["height"] > 20
    # No other passage is left open: the click showed this one.
    expect(page.locator(f"{SOURCES} .depeche-source[open]")).to_have_count(1)
    expect(page.locator(f"{SOURCES} section.depeche-answer:not([hidden]) .depeche-confidence")).to_contain_text(
        "confiance du lecteur"
    )


def test_a_written_answer_streams(page):
    """A summary goes to the LLM, whose checked draft grows in the bubble as it is written."""
    bubble = ask(page, SUMMARY_QUESTION)
    states = page.evaluate("window.depecheStates")
    assert len(states) >= 3, states  # « Recherche… », a part of the draft, …, the checked answer
    assert len(states[1]) < len(states[-1]), states  # it grew while the model wrote
    assert "Munich" in bubble.inner_text()


def test_three_answers_read_yes_no_and_refused(page):
    """A read answer, a yes/no answer and a refusal in one conversation: the README's screenshot."""
    _, expect = _playwright()
    ask(page, QUESTION)
    yes = ask(page, YES_NO_QUESTION)
    assert yes.inner_text().startswith("Oui. Selon ["), yes.inner_text()
    ask(page, ABSENT_QUESTION, cited=False)
    expect(page.locator(BOT)).to_have_count(3)

    cite = page.locator(BOT).nth(1).locator("a.depeche-cite").first
    cite.click()  # the yes/no answer's passage, its sentence highlighted
    expect(page.locator(f"{SOURCES} {cited_source_selector(cite)}")).to_have_attribute("open", "")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 1500})  # tall enough for the three answers
    page.wait_for_timeout(800)  # the smooth scroll to the passage
    page.locator(BOT).nth(0).scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000


def test_uploaded_article_is_indexed_then_cited(page, tmp_path):
    _, expect = _playwright()
    article = tmp_path / "Tramway à Lyon.txt"
    article.write_text(LYON_ARTICLE, encoding="utf-8")

    open_tab(page, "Corpus")
    table = page.locator("#depeche-corpus-table")
    expect(table).to_contain_text("2025-03-27")
    expect(page.locator("#depeche-corpus-counts")).to_contain_text("2 documents")
    page.locator("#depeche-upload input[type=file]").set_input_files(str(article))
    expect(page.locator("#depeche-upload")).to_contain_text("Tramway")  # the upload is done
    page.locator("#depeche-index").click()
    report = page.locator("#depeche-corpus-report")
    expect(report).to_contain_text("1 ajouté(s)", timeout=INDEX_S * 1000)
    expect(table).to_contain_text(LYON_TITLE)
    expect(page.locator("#depeche-corpus-counts")).to_contain_text("3 documents")

    open_tab(page, "Discussion")
    bubble = ask(page, LYON_QUESTION)
    assert "T10" in bubble.inner_text(), bubble.inner_text()
    cited = page.locator(f"{SOURCES} section.depeche-answer:not([hidden]) .depeche-source.cited .depeche-title")
    expect(cited.filter(has_text=LYON_TITLE)).to_have_count(1)
    page.reload()  # a page opened now shows the new counts in its header
    expect(page.locator("#depeche-header")).to_contain_text("3 documents", timeout=INDEX_S * 1000)


def test_removal_asks_for_a_confirmation(page):
    """Runs after the upload: the Lyon article is removed, after «Annuler» then «Confirmer»."""
    _, expect = _playwright()
    open_tab(page, "Corpus")
    table = page.locator("#depeche-corpus-table")
    expect(table).to_contain_text(LYON_TITLE)
    confirm_row = page.locator("#depeche-remove-confirm")
    expect(confirm_row).to_be_hidden()

    choose(page, LYON_TITLE)
    page.locator("#depeche-remove").click()
    expect(confirm_row).to_be_visible()
    expect(confirm_row).to_contain_text(f"Retirer « {LYON_TITLE} » de l'index ?")
    page.locator("#depeche-remove-no").click()
    expect(confirm_row).to_be_hidden()
    expect(page.locator("#depeche-corpus-report")).to_contain_text("Retrait annulé.")
    expect(table).to_contain_text(LYON_TITLE)

    choose(page, LYON_TITLE)
    page.locator("#depeche-remove").click()
    page.locator("#depeche-remove-yes").click()
    expect(page.locator("#depeche-corpus-report")).to_contain_text("1 retiré(s)", timeout=INDEX_S * 1000)
    expect(confirm_row).to_be_hidden()
    expect(table).not_to_contain_text(LYON_TITLE)
    expect(page.locator("#depeche-corpus-counts")).to_contain_text("2 documents")


def choose(page, title: str) -> None:
    """Pick a document in the removal dropdown, by its title."""
    page.locator("#depeche-remove-choice input").click()
    page.get_by_role("option", name=re.compile(re.escape(title))).click()


def test_narrow_screen_has_no_horizontal_scroll(browser, server, timings):
    started = time.perf_counter()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server)
        page.locator("#depeche-question textarea").wait_for(state="visible", timeout=UI_S * 1000)
        overflow = "document.scrollingElement.scrollWidth <= window.innerWidth + 1"
        widths = "[document.scrollingElement.scrollWidth, window.innerWidth]"
        assert page.evaluate(overflow), page.evaluate(widths)
        open_tab(page, "Corpus")
        page.locator("#depeche-corpus-table").wait_for(state="visible", timeout=UI_S * 1000)
        assert page.evaluate(overflow), page.evaluate(widths)
    finally:
        context.close()
    timings["narrow_screen"] = time.perf_counter() - started
