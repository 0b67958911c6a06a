"""The «Discussion» tab: the chat, its sources panel, 👍/👎, and the ``chat`` API endpoint.

:func:`chat_tab` lays the components out inside the caller's tab; what they do lives in
:class:`ChatActions`, plain methods a test calls without a browser.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr

from rag.errors import DepecheError
from rag.store.feedback import FeedbackEntry, FeedbackStore
from ui.render import (
    PANEL_JS,
    answer_message,
    answer_sources_html,
    revision_markdown,
    scope_markdown,
    sources_markdown,
    sources_panel_html,
)
from ui.session import AppContext, Session, Turn

log = logging.getLogger(__name__)

EXAMPLES = [
    "Dans quelle ville OpenAI va-t-elle ouvrir un bureau en Allemagne ?",
    "Qui est Hubert Aiwanger ?",
    "Pourquoi OpenAI s'installe-t-elle à Paris ?",
]
SEARCHING = "_Recherche dans les articles…_"
RATINGS = {True: 1, False: -1}  # gr.LikeData.liked: True 👍, False 👎, "" when taken back

Message = dict[str, Any]


def message_text(message: Message) -> str:
    """The text of a chatbot message, whether its content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def plain(chat: list[Message] | None) -> list[Message]:
    """The chatbot's value as ``{"role", "content": str}`` messages."""
    return [{"role": m["role"], "content": message_text(m)} for m in chat or []]


def panel_html(session: Session) -> str:
    """The sources panel of a session's chat, its latest answer shown."""
    return sources_panel_html({index: turn.sources for index, turn in session.turns.items()})


class ChatActions:
    """What the Discussion tab does, with plain values in and out."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.admission = context.gate()  # shared with the API (ui.openai_api)
        self._feedback: FeedbackStore | None = None
        self._feedback_lock = threading.Lock()

    def lookup(self, doc_id: str):
        return self.context.store.document(doc_id)

    def respond(
        self, message: str, chat: list[Message] | None, session: Session
    ) -> Iterator[tuple[str, list[Message], str, Session]]:
        """Stream the draft into a new bot message, then show the checked answer and its sources.

        Yields ``(textbox, chat, sources panel, session)``."""
        chat = plain(chat)
        history = [m["content"] for m in chat if m["role"] == "user"]
        panel = panel_html(session)
        try:
            stream = session.pipeline(self.context).ask(message, history)
        except DepecheError as error:
            if message and message.strip():
                chat.append({"role": "user", "content": message})
                chat.append({"role": "assistant", "content": f"⚠️ {error}"})
            else:
                gr.Warning(str(error))
            yield "", list(chat), panel, session
            return
        chat.append({"role": "user", "content": message})
        chat.append({"role": "assistant", "content": SEARCHING})
        yield "", list(chat), panel, session
        text = ""
        try:
            with self.admission.slot():
                for piece in stream:
                    text += piece
                    chat[-1] = {"role": "assistant", "content": text}
                    yield "", list(chat), panel, session
        except DepecheError as error:
            chat[-1] = {"role": "assistant", "content": f"⚠️ {error}"}
            yield "", list(chat), panel, session
            return
        answer = stream.answer
        turn = len(chat) - 1
        sources = answer_sources_html(answer, turn, self.lookup)
        session.turns[turn] = Turn(answer, history, sources)
        chat[-1] = {"role": "assistant", "content": answer_message(answer, turn, self.lookup)}
        yield "", chat, panel_html(session), session

    @staticmethod
    def pick_example(event: gr.SelectData) -> str:
        """The question of the example clicked on the empty chat."""
        value = event.value
        return value.get("text", "") if isinstance(value, dict) else str(value)

    @staticmethod
    def new_conversation(session: Session) -> tuple[str, list[Message], str, Session, str]:
        """An empty chat and sources panel; the session keeps its settings.

        Returns ``(textbox, chat, sources panel, session, feedback note)``."""
        return "", [], sources_panel_html({}), session.cleared(), ""

    def feedback_store(self) -> FeedbackStore:
        with self._feedback_lock:
            if self._feedback is None:
                self._feedback = FeedbackStore.open(self.context.settings.feedback_db)
            return self._feedback

    def rate(self, session: Session, like: gr.LikeData) -> tuple[str, Session]:
        """Record, change or take back the reader's 👍/👎 on an answer. Returns ``(note, session)``."""
        index = like.index[0] if isinstance(like.index, (list, tuple)) else like.index
        turn = session.turns.get(index)
        if turn is None:
            return "Seules les réponses peuvent être notées.", session
        rating = RATINGS.get(like.liked) if isinstance(like.liked, bool) else None
        try:
            store = self.feedback_store()
            if rating is None:
                if turn.feedback is not None:
                    store.retract(turn.feedback)
                    turn.feedback = None
                return "Avis retiré.", session
            if turn.feedback is None or not store.update_rating(turn.feedback, rating):
                model = getattr(self.context.pipeline.generator, "name", None)
                entry = FeedbackEntry.from_answer(turn.answer, rating, history=turn.history, model=model)
                turn.feedback = store.record(entry)
        except DepecheError as error:
            return f"⚠️ Avis non enregistré : {error}", session
        return "Merci, avis enregistré.", session

    def api_answer(self, message: str, history: list[str] | None = None) -> str:
        """The answer to ``message`` (``history``: the earlier questions, for a follow-up) as
        Markdown, followed by its sources."""
        try:
            with self.admission.slot():
                answer = self.context.pipeline.answer(message, history or [])
        except DepecheError as error:
            return f"⚠️ {error}"
        dated = f"\n\n_{answer.source_dates}_" if answer.source_dates else ""
        text = scope_markdown(answer) + answer.text + dated + revision_markdown(answer)
        return text + "\n" + sources_markdown(answer)


def chat_tab(context: AppContext, session: gr.State) -> ChatActions:
    """The chat and, to its right (below it on a narrow screen), the sources panel."""
    actions = ChatActions(context)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            chatbot = gr.Chatbot(
                label="Dépêche",
                elem_id="depeche-chat",
                height="62vh",
                min_height=320,
                placeholder="**Posez une question sur les articles du corpus.**\n\n"
                "Chaque réponse cite ses passages [n] : cliquez sur un numéro pour lire le passage.",
                examples=[{"text": question} for question in EXAMPLES],
                feedback_options=("Like", "Dislike"),
                buttons=["copy"],
            )
            with gr.Row(equal_height=True):
                textbox = gr.Textbox(
                    placeholder="Votre question…",
                    show_label=False,
                    lines=1,
                    max_lines=6,
                    scale=5,
                    min_width=180,
                    elem_id="depeche-question",
                )
                send = gr.Button("Envoyer", variant="primary", scale=1, min_width=90, elem_id="depeche-send")
            with gr.Row():
                new = gr.Button("Nouvelle conversation", size="sm", scale=0, min_width=180, elem_id="depeche-new")
                note = gr.Markdown("", elem_id="depeche-feedback-note")
        with gr.Column(scale=2, min_width=320, elem_id="depeche-sources-column"):
            gr.Markdown("### Passages")
            panel = gr.HTML(sources_panel_html({}), elem_id="depeche-sources", js_on_load=PANEL_JS)

    answer_flow = dict(
        fn=actions.respond,
        inputs=[textbox, chatbot, session],
        outputs=[textbox, chatbot, panel, session],
        api_visibility="private",
        concurrency_limit=None,  # every question reaches the gate (ui.admission), which queues and refuses
        concurrency_id="answers",
        show_progress="hidden",
    )
    gr.on([textbox.submit, send.click], **answer_flow)
    chatbot.example_select(actions.pick_example, None, textbox, api_visibility="private", queue=False).then(
        **answer_flow
    )
    reset = dict(
        fn=actions.new_conversation,
        inputs=[session],
        outputs=[textbox, chatbot, panel, session, note],
        api_visibility="private",
        queue=False,
    )
    new.click(**reset)
    chatbot.clear(**reset)
    chatbot.like(actions.rate, [session], [note, session], api_visibility="private")
    gr.api(actions.api_answer, api_name="chat", concurrency_limit=None, concurrency_id="answers")
    return actions
