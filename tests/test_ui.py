"""The chat window without a browser or models: rendering, the tab's actions, settings, feedback."""

from __future__ import annotations

import re

import gradio as gr
import pytest

from index.build import build_index
from rag.answer.checking import AnswerSentence
from rag.errors import ConfigError
from rag.pipeline import Answer, Pipeline
from rag.search.evidence import sentence_spans
from rag.search.retrieval import DenseRetriever, HybridRetriever, KeywordRetriever
from rag.sources.documents import Document
from rag.store.feedback import FeedbackStore
from rag.store.live import LiveIndex
from rag.store.records import Passage
from tests.conftest import SEEDS
from tests.fakes import FakeGenerator
from ui.chat import SEARCHING, ChatActions, message_text
from ui.highlight import supporting_spans
from ui.render import (
    CLOSEST,
    EMPTY_PANEL,
    answer_message,
    answer_sources_html,
    linked_markers,
    sources_panel_html,
)
from ui.session import AppContext, Session
from ui.settings_panel import facts_markdown, set_mode, set_top_k, size_text

MINISTER = "Quel ministre bavarois de l'Économie a salué l'arrivée d'OpenAI ?"
TEXT = "Le ministre salue le projet. OpenAI ouvrira un bureau à Munich. Il recrutera <vite> & bien."


def _passage(text: str = TEXT, title: str = "OpenAI à <Munich>", date: str | None = "2025-03-27") -> Passage:
    return Passage(7, "munich", title, date, "/corpus/munich.txt", 12, 12 + len(text), text)


def _answer(sentences, *, refused=False, passages=None) -> Answer:
    passages = passages or [_passage()]
    text = "Je ne sais pas." if refused else " ".join(s.render() for s in sentences)
    citations = sorted({n for s in sentences for n in s.citations})
    return Answer(
        "Où OpenAI ouvre-t-elle un bureau ?", text, passages, citations, refused, 0.1, 0.2, sentences=sentences
    )


def _no_document(doc_id):
    return None


# -- which sentences to highlight ------------------------------------------------------------


def test_sentence_spans_cover_each_sentence():
    spans = sentence_spans(TEXT)
    assert [TEXT[a:b] for a, b in spans] == [
        "Le ministre salue le projet.",
        "OpenAI ouvrira un bureau à Munich.",
        "Il recrutera <vite> & bien.",
    ]


def test_supporting_spans_finds_the_sentence_a_model_sentence_paraphrases():
    sentence = AnswerSentence("OpenAI va ouvrir un bureau à Munich.", (1,), 0.8, None)
    spans = supporting_spans(_answer([sentence]), 1)
    assert [TEXT[a:b] for a, b in spans] == ["OpenAI ouvrira un bureau à Munich."]


def test_supporting_spans_finds_a_quotation_word_for_word():
    quote = AnswerSentence("Il recrutera <vite> & bien.", (1,), 1.0, None, origin="quote")
    spans = supporting_spans(_answer([quote]), 1)
    assert [TEXT[a:b] for a, b in spans] == ["Il recrutera <vite> & bien."]


def test_supporting_spans_ignores_other_markers_weak_matches_and_bad_numbers():
    other = Passage(8, "paris", "Paris", None, "/corpus/paris.txt", 0, 20, "OpenAI s'installe à Paris.")
    sentences = [
        AnswerSentence("OpenAI s'installe à Paris.", (2,), 1.0, None),  # cites the other passage
        AnswerSentence("Le temps sera pluvieux demain.", (1,), 0.0, None),  # matches nothing
    ]
    answer = _answer(sentences, passages=[_passage(), other])
    assert supporting_spans(answer, 1) == []
    assert [other.text[a:b] for a, b in supporting_spans(answer, 2)] == ["OpenAI s'installe à Paris."]
    assert supporting_spans(answer, 0) == [] and supporting_spans(answer, 3) == []


# -- rendering -------------------------------------------------------------------------------


def test_markers_become_links_to_their_passage_and_text_is_escaped():
    html = linked_markers("Munich [1] <b>gras</b> [2] [9].", turn=3, count=2)
    assert '<a class="depeche-cite" href="#depeche-source-3-1">[1]</a>' in html
    assert '<a class="depeche-cite" href="#depeche-source-3-2">[2]</a>' in html
    assert "[9]" in html and "depeche-source-3-9" not in html  # no such passage: left as text
    assert "&lt;b&gt;gras&lt;/b&gt;" in html


def test_answer_message_lists_sources_with_outlet_and_links():
    sentence = AnswerSentence("OpenAI ouvrira un bureau à Munich.", (1,), 1.0, None)
    document = Document("munich", "t", None, "/corpus/munich.txt", "", "", site="Le Monde")
    message = answer_message(_answer([sentence]), 1, lambda doc_id: document)
    assert message.startswith('OpenAI ouvrira un bureau à Munich <a class="depeche-cite" href="#depeche-source-1-1">')
    assert "**Sources**" in message
    assert "OpenAI à &lt;Munich&gt; ✓ · 2025-03-27 · Le Monde" in message


def test_sources_panel_escapes_text_marks_support_and_names_the_file():
    sentence = AnswerSentence("OpenAI ouvrira un bureau à Munich.", (1,), 1.0, None)
    html = answer_sources_html(_answer([sentence]), 1, _no_document)
    assert 'class="depeche-source cited open" id="depeche-source-1-1" data-turn="1" data-n="1" open' in html
    assert "<mark>OpenAI ouvrira un bureau à Munich.</mark>" in html
    assert "Il recrutera &lt;vite&gt; &amp; bien." in html and "<vite>" not in html
    assert "OpenAI à &lt;Munich&gt;" in html
    assert "2025-03-27 · munich.txt · caractère 12" in html


def test_a_refusal_shows_the_closest_passages_with_unknown_dates():
    answer = _answer([], refused=True, passages=[_passage(date=None)])
    html = answer_sources_html(answer, 1, _no_document)
    assert f"<h3>{CLOSEST}</h3>" in html and "date inconnue" in html and "<mark>" not in html
    assert "depeche-source open" not in html  # nothing cited: nothing opened
    assert f"**{CLOSEST}**" in answer_message(answer, 1, _no_document)


def test_the_panel_shows_the_latest_answer_and_keeps_the_others_hidden():
    assert EMPTY_PANEL in sources_panel_html({})
    panel = sources_panel_html({1: '<section class="a">1</section>', 3: '<section class="a">3</section>', 5: ""})
    sections = '<section hidden class="a">1</section><section class="a">3</section>'
    assert panel == f'<div class="depeche-panel">{sections}</div>'


# -- the Discussion tab's actions ------------------------------------------------------------


@pytest.fixture
def store(settings, fake_embedder):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    return LiveIndex(settings.index_dir, embed_model=fake_embedder.name)


def make_context(settings, store, embedder, pieces=("Hubert", " Aiwanger.")) -> AppContext:
    pipeline = Pipeline(DenseRetriever(store, embedder), FakeGenerator(pieces), top_k=3)
    return AppContext.of(pipeline, settings)


def test_respond_streams_the_draft_then_shows_the_cited_answer_and_its_sources(settings, store, fake_embedder):
    context = make_context(settings, store, fake_embedder)
    actions, session = ChatActions(context), context.new_session()
    updates = list(actions.respond(MINISTER, [], session))
    textbox, chat, panel, session = updates[0]
    assert textbox == "" and chat[-1]["content"] == SEARCHING and chat[0]["content"] == MINISTER
    assert updates[1][1][-1]["content"] == "Hubert"
    textbox, chat, panel, session = updates[-1]
    final = chat[-1]["content"]
    assert final.startswith('Hubert Aiwanger <a class="depeche-cite" href="#depeche-source-1-')
    assert "**Sources**" in final
    turn = session.turns[1]
    assert turn.answer.text.startswith("Hubert Aiwanger [") and turn.history == []
    cited = turn.answer.citations[0]
    assert f'id="depeche-source-1-{cited}"' in panel and "<mark>" in panel


def test_a_follow_up_is_asked_with_the_earlier_questions(settings, store, fake_embedder):
    context = make_context(settings, store, fake_embedder)
    actions, session = ChatActions(context), context.new_session()
    *_, (_, chat, _, session) = actions.respond(MINISTER, [], session)
    # The chatbot gives its value back with contents as lists of parts.
    chat = [{"role": m["role"], "content": [{"type": "text", "text": m["content"]}]} for m in chat]
    *_, (_, chat, panel, session) = actions.respond("Et à Paris ?", chat, session)
    assert sorted(session.turns) == [1, 3] and session.turns[3].history == [MINISTER]
    assert message_text(chat[2]) == "Et à Paris ?"
    assert panel.count("<section hidden ") == 1  # the first answer's passages, kept for its markers


def test_an_empty_question_adds_nothing_and_a_long_one_says_why(settings, store, fake_embedder):
    context = make_context(settings, store, fake_embedder)
    actions, session = ChatActions(context), context.new_session()
    with pytest.warns(UserWarning, match="question est vide"):
        assert list(actions.respond("   ", [], session))[-1][1] == []
    chat = list(actions.respond("pourquoi " * 1000, [], session))[-1][1]
    assert chat[-1]["content"].startswith("⚠️ La question est trop longue") and not session.turns


def test_a_new_conversation_clears_everything_but_the_settings(settings, store, fake_embedder):
    context = make_context(settings, store, fake_embedder)
    actions, session = ChatActions(context), context.new_session()
    session.mode, session.top_k = "bm25", 5
    *_, (_, chat, _, session) = actions.respond(MINISTER, [], session)
    textbox, chat, panel, fresh, note = actions.new_conversation(session)
    assert (textbox, chat, note) == ("", [], "") and EMPTY_PANEL in panel
    assert not fresh.turns and (fresh.mode, fresh.top_k) == ("bm25", 5)


def test_the_api_endpoint_returns_the_answer_then_its_sources(settings, store, fake_embedder):
    actions = ChatActions(make_context(settings, store, fake_embedder))
    reply = actions.api_answer(MINISTER)
    assert reply.startswith("Hubert Aiwanger [") and "**Sources**" in reply and "[1]" in reply
    assert actions.api_answer("  ") == "⚠️ La question est vide : écrivez une question."


def test_build_app_exposes_only_the_chat_endpoint(settings, store, fake_embedder):
    from ui.app import build_app

    context = make_context(settings, store, fake_embedder)
    app = build_app(context.pipeline, settings=settings)
    public = [fn.api_name for fn in app.fns.values() if fn.api_visibility == "public"]
    assert public == ["chat"]
    assert any(getattr(block, "elem_id", None) == "depeche-sources" for block in app.blocks.values())


# -- settings --------------------------------------------------------------------------------


def test_session_settings_build_their_own_pipeline_over_the_shared_parts(settings, store, fake_embedder):
    context = make_context(settings, store, fake_embedder)
    session = set_top_k(6.0, set_mode("bm25", context.new_session()))
    pipeline = session.pipeline(context)
    assert isinstance(pipeline.retriever, KeywordRetriever) and pipeline.top_k == 6
    assert pipeline.generator is context.pipeline.generator and pipeline.checker is context.pipeline.checker
    assert pipeline.reading is context.pipeline.reading  # the reader answers in the chat window too
    assert isinstance(context.pipeline.retriever, DenseRetriever) and context.pipeline.top_k == 3  # untouched
    assert isinstance(set_mode("hybrid", session).pipeline(context).retriever, HybridRetriever)
    assert isinstance(set_mode("dense", session).pipeline(context).retriever, DenseRetriever)
    answer = set_mode("bm25", session).pipeline(context).answer(MINISTER)
    assert len(answer.passages) == 6


def test_a_session_pipeline_reads_with_the_shared_reader(settings, store, fake_embedder):
    from rag.answer.checking import AnswerChecker
    from rag.answer.reading import ReadingAnswerer
    from tests.fakes import FakeReader

    checker = AnswerChecker()
    reading = ReadingAnswerer(FakeReader("Munich"), FakeGenerator(), checker, min_confidence=0.5)
    pipeline = Pipeline(
        DenseRetriever(store, fake_embedder), FakeGenerator(), top_k=3, checker=checker, reading=reading
    )
    context = AppContext.of(pipeline, settings)
    answer = (
        context.new_session().pipeline(context).answer("Dans quelle ville OpenAI ouvre-t-elle un bureau en Allemagne ?")
    )
    assert answer.path == "reader" and answer.text.startswith("Munich. Selon [")


def test_without_an_embedder_only_keyword_search_is_offered(settings, store):
    pipeline = Pipeline(KeywordRetriever(store), FakeGenerator(), top_k=2)
    context = AppContext.of(pipeline, settings)
    assert context.embedder is None and context.modes == ("bm25",)
    assert context.new_session() == Session(mode="bm25", top_k=2)


def test_facts_name_the_models_the_data_folder_and_the_index(settings, store, fake_embedder):
    facts = facts_markdown(make_context(settings, store, fake_embedder))
    assert "fake-generator" in facts and f"`{settings.embed_model}`, 256 dimensions" in facts
    assert str(settings.home) in facts and "2 documents" in facts and "feedback.sqlite" in facts
    assert re.search(r"\d+ passages \(passages de 400 caractères, chevauchement 60\)", facts)
    assert size_text(250 * 1024**2) == "250 Mo" and size_text(3 * 1024**3 // 2) == "1,5 Go"


# -- feedback --------------------------------------------------------------------------------


def _like(index: int, liked) -> gr.LikeData:
    return gr.LikeData(None, {"index": index, "value": [], "liked": liked})


def test_a_rating_is_stored_changed_and_taken_back(settings, store, fake_embedder):
    context = make_context(settings, store, fake_embedder)
    actions, session = ChatActions(context), context.new_session()
    *_, (_, chat, _, session) = actions.respond(MINISTER, [], session)
    *_, (_, chat, _, session) = actions.respond("Et à Paris ?", chat, session)

    note, session = actions.rate(session, _like(3, True))
    assert note == "Merci, avis enregistré."
    with FeedbackStore.open(settings.feedback_db) as feedback:
        [entry] = feedback.entries()
    assert (entry.rating, entry.question, entry.history) == (1, "Et à Paris ?", [MINISTER])
    assert entry.answer == session.turns[3].answer.text and entry.model == "fake-generator"
    assert entry.citations and entry.citations[0]["number"] == session.turns[3].answer.citations[0]

    actions.rate(session, _like(3, False))
    with FeedbackStore.open(settings.feedback_db) as feedback:
        assert [e.rating for e in feedback.entries()] == [-1]
    note, session = actions.rate(session, _like(3, ""))
    assert note == "Avis retiré." and session.turns[3].feedback is None
    with FeedbackStore.open(settings.feedback_db) as feedback:
        assert feedback.entries() == []
    assert actions.rate(session, _like(0, True))[0] == "Seules les réponses peuvent être notées."


# -- the command ------------------------------------------------------------------------------


def test_login_comes_from_depeche_auth():
    from ui.__main__ import parse_auth

    assert parse_auth(None) is None and parse_auth("  ") is None
    assert parse_auth("redaction:mot:de:passe") == ("redaction", "mot:de:passe")
    for bad in ("redaction", "redaction:", ":secret"):
        with pytest.raises(ConfigError, match="DEPECHE_AUTH"):
            parse_auth(bad)
