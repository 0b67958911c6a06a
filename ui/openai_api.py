"""An OpenAI-compatible API on the chat's port: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Any OpenAI client (the ``openai`` package with ``base_url="http://127.0.0.1:7860/v1"``,
``curl``, a chat front-end) asks Dépêche as it would ask a model:

- the conversation's last message is the question; the earlier *user* messages are its
  history, and feed the follow-up handling exactly as in the chat window (:mod:`rag.search.followup`);
- the reply's ``content`` is the answer with its ``[n]`` markers, and the extra field
  ``citations`` lists the passages they cite: ``{"index": n, "doc_id", "title", "date",
  "source", "text"}``, marker ``[n]`` being the item whose ``index`` is ``n``. In a stream,
  ``citations`` comes in the final chunk, the one whose ``finish_reason`` is ``"stop"``;
- a stream (``"stream": true``, server-sent events) carries the *checked* answer only: what
  the model drafts is checked against the passages before anything is sent, so a client never
  shows a sentence the check would remove. The role comes at once, the answer when it is
  checked, then ``data: [DONE]``;
- sampling fields (``temperature``, ``max_tokens``, ``top_p``…) are accepted and ignored:
  the answer is read or checked, not sampled;
- with ``DEPECHE_AUTH`` set, the password is the API key (``Authorization: Bearer …``);
  without it, 401. A client that keeps failing waits, as on the login page (:mod:`ui.login`);
- answers pass the chat's admission gate (:mod:`ui.admission`): past it, 429 at once;
- every error is OpenAI's error object (``{"error": {"message", "type", "param", "code"}}``)
  with its status, its message one French line, never a traceback.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from rag.errors import DepecheError, EmptyQuestionError, QuestionTooLongError
from rag.pipeline import Answer, AnswerStream
from ui.admission import ServerBusyError
from ui.login import FailureThrottle, retry_after
from ui.session import AppContext

log = logging.getLogger(__name__)

MODEL_ID = "depeche"
MAX_BODY_BYTES = 1024 * 1024  # a conversation of questions, not documents
MAX_MESSAGES = 500
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class ApiError(Exception):
    """An error the client gets as OpenAI's error object, with its HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


@dataclass(frozen=True)
class ChatRequest:
    """What Dépêche takes from a chat completion request."""

    question: str
    history: list[str]  # the earlier user messages, oldest first
    stream: bool


def _text(content: Any, where: str) -> str:
    """A message's text: a string, or a list of ``{"type": "text", "text": …}`` parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for number, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise ApiError(400, f"{where}[{number}] doit être un objet avec un champ 'type'.", param=where)
            if part["type"] == "text":
                if not isinstance(part.get("text"), str):
                    raise ApiError(400, f"{where}[{number}].text doit être une chaîne.", param=where)
                texts.append(part["text"])
            elif part["type"] != "refusal":  # images, audio, files: Dépêche reads text only
                raise ApiError(
                    400, f"{where}[{number}] : seul le texte est accepté (type {part['type']!r}).", param=where
                )
        return "\n".join(texts)
    raise ApiError(400, f"{where} doit être une chaîne ou une liste de parties texte.", param=where)


def parse_chat_request(payload: Any) -> ChatRequest:
    """Validate a ``/v1/chat/completions`` body; :class:`ApiError` names the first fault.

    >>> parse_chat_request({"model": "depeche", "messages": [{"role": "user", "content": "Qui ?"}]})
    ChatRequest(question='Qui ?', history=[], stream=False)
    >>> parse_chat_request({"model": "gpt-4o", "messages": []}).question
    Traceback (most recent call last):
    ui.openai_api.ApiError: Modèle inconnu : 'gpt-4o'. Modèle disponible : depeche.
    """
    if not isinstance(payload, dict):
        raise ApiError(400, "Le corps de la requête doit être un objet JSON.")
    model = payload.get("model")
    if model is None:
        raise ApiError(400, "Le champ 'model' est requis (modèle disponible : depeche).", param="model")
    if not isinstance(model, str):
        raise ApiError(400, "Le champ 'model' doit être une chaîne.", param="model")
    if model != MODEL_ID:
        raise ApiError(
            404,
            f"Modèle inconnu : {model[:80]!r}. Modèle disponible : {MODEL_ID}.",
            param="model",
            code="model_not_found",
        )
    stream = payload.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise ApiError(400, "Le champ 'stream' doit valoir true ou false.", param="stream")
    n = payload.get("n", 1)
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n != 1):
        raise ApiError(400, "Le champ 'n' ne peut valoir que 1 : Dépêche donne une réponse par question.", param="n")
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "Le champ 'messages' doit être une liste non vide de messages.", param="messages")
    if len(messages) > MAX_MESSAGES:
        raise ApiError(400, f"Trop de messages : {len(messages)} (au plus {MAX_MESSAGES}).", param="messages")
    turns: list[tuple[str, str]] = []
    for number, message in enumerate(messages):
        where = f"messages[{number}]"
        if not isinstance(message, dict):
            raise ApiError(400, f"{where} doit être un objet {{'role', 'content'}}.", param=where)
        role = message.get("role")
        if not isinstance(role, str) or role not in ROLES:
            raise ApiError(400, f"{where}.role doit être l'un de : {', '.join(sorted(ROLES))}.", param=f"{where}.role")
        turns.append((role, _text(message.get("content"), f"{where}.content")))
    if turns[-1][0] != "user":
        raise ApiError(400, "Le dernier message doit être celui de l'utilisateur : sa question.", param="messages")
    history = [text for role, text in turns[:-1] if role == "user" and text.strip()]
    return ChatRequest(question=turns[-1][1], history=history, stream=bool(stream))


def cited_passages(answer: Answer) -> list[dict[str, Any]]:
    """The ``citations`` field: each passage a marker of the answer cites, by marker."""
    return [
        {
            "index": marker,
            "doc_id": passage.doc_id,
            "title": passage.title,
            "date": passage.date,
            "source": passage.source,
            "text": passage.text,
        }
        for marker in sorted(set(answer.citations))
        for passage in [answer.passages[marker - 1]]
    ]


def answer_content(answer: Answer) -> str:
    """The reply's text, as the chat bubble shows it: the dates searched on a line above it
    («Articles d'octobre 2024») when the question named some, the answer with its markers,
    then the dates of the articles it cites («Selon l'article du 27 mars 2025 [1].»).

    >>> from dataclasses import replace
    >>> answer = Answer("Q ?", "Munich [1].", [], [1], False, 0.1, 0.2)
    >>> answer_content(answer)
    'Munich [1].'
    >>> dated = "Selon l'article du 27 mars 2025 [1]."
    >>> print(answer_content(replace(answer, scope="articles de mars 2025", source_dates=dated)))
    Articles de mars 2025
    <BLANKLINE>
    Munich [1].
    <BLANKLINE>
    Selon l'article du 27 mars 2025 [1].
    """
    parts = [answer.scope[:1].upper() + answer.scope[1:]] if answer.scope else []
    parts.append(answer.text)
    if answer.source_dates:
        parts.append(answer.source_dates)
    return "\n\n".join(parts)


class OpenAIApi:
    """The routes, over the server's shared pipeline and admission gate.

    ``password``: the API key (``DEPECHE_AUTH``'s password), or None for an open API.
    """

    def __init__(self, context: AppContext, *, password: str | None = None, throttle: FailureThrottle | None = None):
        self.context = context
        self.admission = context.gate()
        self._key = password.encode("utf-8") if password else None
        self.throttle = throttle or FailureThrottle()
        self.started = int(time.time())

    def mount(self) -> Mount:
        """The API as a route to give the server (``launch(app_kwargs={"routes": [...]})``)."""

        async def http_error(request: Request, error: HTTPException) -> Response:
            if error.status_code == 405:
                return ApiError(405, f"Méthode {request.method} non permise sur {request.url.path}.").response()
            return ApiError(
                error.status_code, f"Pas de route {request.url.path} : /v1/chat/completions, /v1/models."
            ).response()

        app = Starlette(
            routes=[
                Route("/chat/completions", self.chat_completions, methods=["POST"]),
                Route("/models", self.models, methods=["GET"]),
                Route("/models/{model:path}", self.model, methods=["GET"]),
            ],
            exception_handlers={HTTPException: http_error},
        )
        return Mount("/v1", app=app)

    # -- access --
    def _authorize(self, request: Request) -> None:
        if self._key is None:
            return
        client = request.client.host if request.client else "?"
        wait = self.throttle.lockout(client)
        if wait > 0:
            seconds = retry_after(wait)
            raise ApiError(
                429, f"Trop de clés refusées : réessayez dans {seconds} s.", kind="rate_limit_error",
                code="too_many_attempts", headers={"Retry-After": str(seconds)},
            )  # fmt: skip
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        # Starlette decodes headers as Latin-1: back to the bytes sent, a UTF-8 password's included.
        good = scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode("latin-1"), self._key)
        self.throttle.record(client, success=good)
        if not good:
            raise ApiError(
                401, "Clé d'API absente ou fausse : passez le mot de passe de DEPECHE_AUTH en jeton Bearer.",
                code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"},
            )  # fmt: skip

    async def _json(self, request: Request) -> Any:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise _too_large()
        body = bytearray()
        try:
            async for piece in request.stream():
                body += piece
                if len(body) > MAX_BODY_BYTES:
                    raise _too_large()
        except ClientDisconnect:
            raise ApiError(400, "Requête interrompue par le client.") from None
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ApiError(400, f"Le corps de la requête n'est pas du JSON valide ({error}).") from None

    # -- routes --
    async def models(self, request: Request) -> Response:
        try:
            self._authorize(request)
        except ApiError as error:
            return error.response()
        return JSONResponse({"object": "list", "data": [self._model_card()]})

    async def model(self, request: Request) -> Response:
        try:
            self._authorize(request)
            name = request.path_params["model"]
            if name != MODEL_ID:
                raise ApiError(404, f"Modèle inconnu : {name[:80]!r}. Modèle disponible : {MODEL_ID}.",
                               param="model", code="model_not_found")  # fmt: skip
        except ApiError as error:
            return error.response()
        return JSONResponse(self._model_card())

    def _model_card(self) -> dict[str, Any]:
        return {"id": MODEL_ID, "object": "model", "created": self.started, "owned_by": "depeche"}

    async def chat_completions(self, request: Request) -> Response:
        try:
            self._authorize(request)
            chat = parse_chat_request(await self._json(request))
            stream = self._ask(chat)
            if chat.stream:
                if self.admission.full:  # the gate is checked again when the answer starts
                    raise _busy(ServerBusyError(self.admission.waiting))
                return StreamingResponse(
                    self._events(stream, _completion_id()),
                    media_type="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                )
            answer = await run_in_threadpool(self._answer, stream)
        except ApiError as error:
            return error.response()
        except Exception:  # a bug: logged here, one line for the client
            log.exception("API error on %s", request.url.path)
            return ApiError(500, "Erreur interne du serveur.", kind="server_error").response()
        return JSONResponse(self._completion(answer, _completion_id()))

    # -- answering --
    def _ask(self, chat: ChatRequest) -> AnswerStream:
        try:
            return self.context.pipeline.ask(chat.question, chat.history)
        except (EmptyQuestionError, QuestionTooLongError) as error:
            raise ApiError(400, str(error), param="messages") from None

    def _answer(self, stream: AnswerStream) -> Answer:
        try:
            with self.admission.slot():
                for _ in stream:
                    pass
        except ServerBusyError as error:
            raise _busy(error) from None
        except DepecheError as error:
            raise _unavailable(error) from None
        assert stream.answer is not None
        return stream.answer

    def _completion(self, answer: Answer, completion_id: str) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL_ID,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer_content(answer), "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "citations": cited_passages(answer),
        }

    def _events(self, stream: AnswerStream, completion_id: str) -> Iterator[str]:
        """The stream's server-sent events (iterated in a worker thread by Starlette)."""
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            body = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                **extra,
            }
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        try:
            answer = self._answer(stream)
        except ApiError as error:  # the status is sent: the error goes as an event, as OpenAI does
            yield f"data: {json.dumps(error.body(), ensure_ascii=False)}\n\n"
            return
        except Exception:
            log.exception("API stream failed")
            yield f"data: {json.dumps(ApiError(500, 'Erreur interne du serveur.', kind='server_error').body())}\n\n"
            return
        yield chunk({"content": answer_content(answer)})
        yield chunk({}, "stop", citations=cited_passages(answer))
        yield "data: [DONE]\n\n"


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def _too_large() -> ApiError:
    return ApiError(
        413, f"Requête trop grosse : au plus {MAX_BODY_BYTES // 1024} Ko.", param="messages", code="request_too_large"
    )


def _busy(error: ServerBusyError) -> ApiError:
    return ApiError(429, str(error), kind="rate_limit_error", code="server_busy", headers={"Retry-After": "1"})


def _unavailable(error: DepecheError) -> ApiError:
    """The model's process died or ran out of time, the index is unreadable…: one line, 503."""
    return ApiError(503, str(error), kind="server_error", code="unavailable")
