from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, ChunkSettings, Settings
from tests.fakes import FakeEmbedder
from tests.milvus_server import LiteServer

# The fuzz harness (``make fuzz``) needs atheris, which only ``make fuzz`` installs.
collect_ignore = ["fuzz"]

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


# Where a store-level test runs: the embedded store, Milvus Lite in process, and Milvus Lite
# served over gRPC (the code path of a Milvus server). See on_backend().
BACKENDS = ("embedded", "embedded-segments", "milvus-lite", "milvus-server")


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory):
    server = LiteServer(tmp_path_factory.mktemp("milvus-server")).start()
    yield server
    server.stop()


def on_backend(backend: str, settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """``settings`` with its index on ``backend`` (one of :data:`BACKENDS`), empty.

    ``embedded-segments`` is the embedded store as it writes past ``SEGMENTS_FROM`` passages:
    every write adds a delta segment or hides documents, and a third delta merges the deltas.
    """
    if backend == "embedded":
        return settings
    if backend == "embedded-segments":
        from rag.store import embedded

        patch = pytest.MonkeyPatch()
        patch.setattr(embedded, "SEGMENTS_FROM", 0)
        patch.setattr(embedded, "MERGE_SHARE", 0)
        patch.setattr(embedded, "MAX_DELTAS", 2)
        request.addfinalizer(patch.undo)
        return settings
    from rag.store.milvus import disconnect

    if backend == "milvus-lite":
        uri = str(settings.home / "milvus.db")
    else:
        server = request.getfixturevalue("milvus_server")
        server.clear()
        uri = server.uri
    request.addfinalizer(lambda: disconnect(uri))
    return settings.with_(milvus_uri=uri)
