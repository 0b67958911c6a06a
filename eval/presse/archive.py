"""The press archive: 3,977 real French-language articles (2018-2019), read as documents.

The archive lives outside the project (``../shared/data/presse/articles.jsonl``, one JSON
object per line: ``id``, ``outlet``, ``country``, ``topic``, ``title``, ``date``, ``url``,
``text``); its README forbids copying article text into the project, so the eval reads it
there. Each article becomes a :class:`~rag.sources.documents.Document` whose id is the archive's
(``presse-00042``), whose site is its outlet and whose source is its URL.

An eval indexes a fixed subset (:func:`subset`): every article the gold set needs, then
articles drawn at random with a fixed seed until the subset has the size asked for.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.config import PROJECT_ROOT
from rag.errors import DocumentError
from rag.sources.documents import Document

ARCHIVE = PROJECT_ROOT.parent / "shared" / "data" / "presse" / "articles.jsonl"
SUBSET_SEED = 0


@dataclass(frozen=True)
class Article:
    id: str
    outlet: str
    country: str
    topic: str
    title: str
    date: str  # ISO YYYY-MM-DD, or "" where the source gave none
    url: str
    text: str

    def document(self) -> Document:
        """The article as the product indexes it: title, date, outlet, URL and body."""
        body = self.text.strip()
        return Document(
            doc_id=self.id,
            title=self.title.strip() or self.id,
            date=self.date or None,
            source=self.url or self.outlet,
            body=body,
            sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
            site=self.outlet or None,
        )


def load_archive(path: Path = ARCHIVE) -> dict[str, Article]:
    """The archive's articles by id; a missing or unreadable file stops with one line naming it."""
    if not path.is_file():
        raise DocumentError(f"Archive de presse introuvable : {path} (attendue à côté du projet, dans ../shared).")
    articles: dict[str, Article] = {}
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    article = Article(**{name: str(row.get(name) or "") for name in Article.__dataclass_fields__})
                except (ValueError, TypeError) as error:
                    raise DocumentError(f"{path}, ligne {number} : article illisible ({error}).") from None
                if not article.id or not article.text.strip():
                    raise DocumentError(f"{path}, ligne {number} : article sans identifiant ou sans texte.")
                articles[article.id] = article
    except (OSError, UnicodeDecodeError) as error:
        raise DocumentError(f"Archive de presse illisible : {path} ({error}).") from None
    return articles


def subset(articles: dict[str, Article], needed: Iterable[str], size: int | None, seed: int = SUBSET_SEED) -> list[str]:
    """The ids to index, in archive order: every ``needed`` id, then the archive's others in one
    fixed random order (``seed``: the same whatever is needed, so a bigger subset holds a
    smaller one's draw) until there are ``size`` (None: the whole archive).

    >>> arts = {f"a{i}": None for i in range(10)}
    >>> subset(arts, ["a7"], 3) == subset(arts, ["a7"], 3) and "a7" in subset(arts, ["a7"], 3)
    True
    >>> len(subset(arts, ["a7"], 3)), len(subset(arts, [], None))
    (3, 10)
    >>> set(subset(arts, [], 3)) <= set(subset(arts, ["a7"], 5))
    True
    """
    needed = list(dict.fromkeys(needed))
    unknown = [i for i in needed if i not in articles]
    if unknown:
        raise DocumentError(f"Article inconnu de l'archive : {unknown[0]}.")
    if size is None or size >= len(articles):
        return list(articles)
    chosen = set(needed)
    drawn = sorted(articles)
    random.Random(seed).shuffle(drawn)
    for article_id in drawn:
        if len(chosen) >= size:
            break
        chosen.add(article_id)
    return [i for i in articles if i in chosen]


def documents(articles: dict[str, Article], ids: Sequence[str]) -> list[Document]:
    return [articles[i].document() for i in ids]
