"""What the OpenAI-compatible API (:mod:`ui.openai_api`) adds to an answer's time.

``python -m eval api-bench [--questions 20] [--json]``: indexes the seed articles into a
temporary data folder with the real models, serves the app with its API as ``python -m ui``
does, then for each of ``--questions`` answerable seeds questions, in turn: the pipeline's
answer in process, the same question through the official ``openai`` client (one JSON
reply), and streamed (time to the first content chunk, and to ``[DONE]``). It prints the
medians and the API's overhead per question (API time minus in-process time), and checks
that the three give the same answer text.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from eval.bench.concurrency import free_port, seed_pipeline, seed_questions
from rag.config import Settings


def _p(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)) * 1000, 1)


def measure(pipeline, settings: Settings, questions: list[str]) -> dict:
    import openai

    from ui.app import build_app, launch_options
    from ui.openai_api import MODEL_ID, answer_content
    from ui.session import AppContext

    context = AppContext.of(pipeline, settings)
    app = build_app(pipeline, settings=settings, context=context)
    port = free_port()
    app.queue().launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, show_error=False,
        **launch_options(context, None),
    )  # fmt: skip
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="bench", max_retries=0, timeout=300)
    direct, whole, first, streamed, same = [], [], [], [], 0
    try:
        client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": questions[0]}])  # warm
        for question in questions:
            messages = [{"role": "user", "content": question}]
            began = time.perf_counter()
            expected = answer_content(pipeline.answer(question))
            direct.append(time.perf_counter() - began)
            began = time.perf_counter()
            reply = client.chat.completions.create(model=MODEL_ID, messages=messages).choices[0].message.content
            whole.append(time.perf_counter() - began)
            began, text, first_s = time.perf_counter(), "", None
            for chunk in client.chat.completions.create(model=MODEL_ID, messages=messages, stream=True):
                piece = chunk.choices[0].delta.content if chunk.choices else None
                if piece and first_s is None:
                    first_s = time.perf_counter() - began
                text += piece or ""
            streamed.append(time.perf_counter() - began)
            first.append(first_s if first_s is not None else streamed[-1])
            same += reply == expected == text
    finally:
        app.close()
    overhead = [api - alone for api, alone in zip(whole, direct, strict=True)]
    return {
        "questions": len(questions),
        "same_answer": same,
        "in_process_p50_ms": _p(direct, 50),
        "api_p50_ms": _p(whole, 50),
        "api_stream_first_content_p50_ms": _p(first, 50),
        "api_stream_done_p50_ms": _p(streamed, 50),
        "api_overhead_p50_ms": _p(overhead, 50),
        "api_overhead_p95_ms": _p(overhead, 95),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval api-bench", description="Coût de l'API compatible OpenAI.")
    parser.add_argument("--questions", type=int, default=20, help="questions des seeds (défaut : 20)")
    parser.add_argument("--json", action="store_true", help="un objet JSON sur la sortie standard")
    args = parser.parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    quiet = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    with quiet, tempfile.TemporaryDirectory(prefix="depeche-api-bench-") as home:
        settings = Settings.from_env().with_(home=Path(home))
        figures = measure(seed_pipeline(settings), settings, seed_questions(args.questions))
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"{figures['questions']} questions des seeds, même réponse par les trois voies : "
            f"{figures['same_answer']}/{figures['questions']}\n"
            f"  dans le processus : p50 {figures['in_process_p50_ms']} ms\n"
            f"  API (JSON) : p50 {figures['api_p50_ms']} ms ; surcoût p50 {figures['api_overhead_p50_ms']} ms, "
            f"p95 {figures['api_overhead_p95_ms']} ms\n"
            f"  API (flux) : premier contenu p50 {figures['api_stream_first_content_p50_ms']} ms, "
            f"fin p50 {figures['api_stream_done_p50_ms']} ms"
        )
    return 0 if figures["same_answer"] == figures["questions"] else 1
