from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, ChunkSettings, Settings
from tests.fakes import FakeEmbedder

SEEDS = PROJECT_ROOT / "seeds"
MUNICH_SEED = SEEDS / "2025-03-27-openai-munich.txt"
PARIS_SEED = SEEDS / "2024-10-openai-paris.txt"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the checkout's data/: DEPECHE_HOME points at a temporary folder."""
    home = tmp_path / "depeche-home"
    monkeypatch.setenv("DEPECHE_HOME", str(home))
    return home


@pytest.fixture
def settings(isolated_home: Path) -> Settings:
    return Settings.from_env().with_(chunks=ChunkSettings(size=400, overlap=60))


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()
