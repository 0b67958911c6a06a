"""A batch of documents interrupted while it is embedded resumes where it stopped: no passage
is embedded twice, nothing half-done is published, and the kept vectors go once published
(rag.models.vector_cache.kept_until_published)."""

from __future__ import annotations

import random
import sqlite3

import pytest

from index.build import build_index
from index.update import add_documents
from rag.models.vector_cache import PENDING, kept_until_published
from rag.store.backend import open_index
from tests.fakes import FakeEmbedder


def _articles(folder, count: int) -> None:
    """``count`` articles of distinct made-up words (no two near duplicates), about 8 passages each."""
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        words = ["".join(rng.choice("bcdfglmnprstv") + rng.choice("aeiou") for _ in range(3)) for _ in range(420)]
        sentences = [" ".join(words[i : i + 7]).capitalize() + "." for i in range(0, len(words), 7)]
        (folder / f"article-{n:03d}.txt").write_text(f"Titre {n}\n\n" + " ".join(sentences), encoding="utf-8")


class Recording(FakeEmbedder):
    """Remembers every text it embeds; interrupted (as by Ctrl-C) after ``stop_after`` calls."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.embedded: list[str] = []
        self.stop_after = stop_after

    def embed_passages(self, texts):
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise KeyboardInterrupt
        self.embedded.extend(texts)
        return super().embed_passages(texts)


def _pending_rows(home) -> int:
    with sqlite3.connect(home / PENDING) as db:
        return db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]


@pytest.mark.parametrize("command", ["build", "add"])
def test_an_interrupted_batch_resumes_without_embedding_a_passage_twice(command, settings, tmp_path):
    sources = tmp_path / "articles"
    _articles(sources, 40)

    def run(embedder):
        with kept_until_published(embedder, settings.home) as kept:
            if command == "build":
                return build_index(settings, [sources], kept, progress=False)
            return add_documents(settings, [sources], kept, progress=False)

    interrupted = Recording(stop_after=2)
    with pytest.raises(KeyboardInterrupt):
        run(interrupted)
    assert interrupted.embedded and _pending_rows(settings.home) == len(interrupted.embedded)
    if command == "add":  # nothing of the interrupted batch was published
        with pytest.raises(Exception):  # noqa: B017 - no index at all: whatever the store says
            open_index(settings).close()

    resumed = Recording()
    run(resumed)
    assert not set(resumed.embedded) & set(interrupted.embedded)  # no passage embedded twice
    store = open_index(settings)
    try:
        assert len(store.documents()) == 40
        assert store.counts() == (40, len(interrupted.embedded) + len(resumed.embedded))
    finally:
        store.close()
    assert _pending_rows(settings.home) == 0  # published: the kept vectors are gone
