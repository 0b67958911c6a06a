"""SQuAD-format datasets as documents to index and gold questions to ask.

Each article (``data[i]``) becomes one :class:`~rag.sources.documents.Document` whose body is its
paragraphs joined by blank lines; each question keeps its gold answer texts and the id of
the document that holds them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError
from rag.sources.documents import Document, slugify


@dataclass(frozen=True)
class GoldQuestion:
    qid: str
    question: str
    answers: tuple[str, ...]
    doc_id: str


def load_squad(path: Path) -> tuple[list[Document], list[GoldQuestion]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise DocumentError(f"{path.name} : jeu de données SQuAD illisible ({error}).") from None
    return squad_articles(data, path.name)


def squad_articles(data: list[dict], name: str) -> tuple[list[Document], list[GoldQuestion]]:
    """The documents and questions of SQuAD ``data`` (its articles), from the file ``name``."""
    documents: list[Document] = []
    questions: list[GoldQuestion] = []
    seen: set[str] = set()
    for number, article in enumerate(data):
        title = str(article.get("title") or f"article {number}")
        doc_id = slugify(title)
        if doc_id in seen:
            doc_id = f"{doc_id}-{number}"
        seen.add(doc_id)
        paragraphs = article.get("paragraphs", [])
        body = "\n\n".join(p["context"].strip() for p in paragraphs)
        documents.append(
            Document(
                doc_id=doc_id,
                title=title,
                date=None,
                source=f"{name}#{title}",
                body=body,
                sha256=hashlib.sha256(body.encode()).hexdigest(),
            )
        )
        for paragraph in paragraphs:
            for qa in paragraph.get("qas", []):
                answers = tuple(a["text"] for a in qa.get("answers", []) if a.get("text"))
                questions.append(GoldQuestion(str(qa.get("id", len(questions))), qa["question"], answers, doc_id))
    return documents, questions
