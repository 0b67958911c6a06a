import pytest

from rag.config import Settings
from rag.errors import ConfigError, ModelLoadError
from rag.models.embedding import resolve_model_path
from rag.models.gguf import resolve_gguf
from rag.pipeline import Answer
from rag.store.records import Passage


def test_llm_setting_must_be_an_existing_gguf(tmp_path):
    with pytest.raises(ModelLoadError, match="introuvable"):
        resolve_gguf(tmp_path / "absent.gguf", tmp_path)
    not_gguf = tmp_path / "model.bin"
    not_gguf.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ModelLoadError, match="GGUF"):
        resolve_gguf(not_gguf, tmp_path)
    real = tmp_path / "ok.gguf"
    real.write_bytes(b"GGUF....")
    assert resolve_gguf(real, tmp_path) == real


def test_unknown_embedding_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="ni un modèle connu"):
        resolve_model_path("intfloat/not-installed-here", tmp_path)
    assert resolve_model_path(str(tmp_path), tmp_path / "cache") == tmp_path


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DEPECHE_CHUNK_SIZE", "600")
    monkeypatch.setenv("DEPECHE_CHUNK_OVERLAP", "80")
    monkeypatch.setenv("DEPECHE_TOP_K", "5")
    monkeypatch.setenv("DEPECHE_EMBED_MODEL", "/models/e5")
    settings = Settings.from_env()
    assert (settings.chunks.size, settings.chunks.overlap, settings.top_k) == (600, 80, 5)
    assert settings.embed_model == "/models/e5"
    assert settings.index_dir.parent == settings.home
    monkeypatch.setenv("DEPECHE_TOP_K", "beaucoup")
    with pytest.raises(ConfigError, match="DEPECHE_TOP_K"):
        Settings.from_env()


def _answer(text, citations):
    passage = Passage(
        7, "munich", "OpenAI à <Munich>", "2025-03-27", "/x/munich.txt", 12, 40, "Un bureau à Munich & co."
    )
    return Answer("q", text, [passage], citations, False, 0.1, 0.2)


def test_sources_markdown_escapes_and_marks_cited_passages():
    from ui.render import sources_markdown

    markdown = sources_markdown(_answer("Munich [1].", [1]))
    assert "[1] OpenAI à &lt;Munich&gt; — 2025-03-27" in markdown
    assert "✓" in markdown and "munich.txt, caractère 12" in markdown
    assert "Munich &amp; co." in markdown
