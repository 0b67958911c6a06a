"""Exported model folders (rag.models.exports): trusted only while their manifest matches."""

from __future__ import annotations

import json

from rag.models.exports import file_entries, manifest_matches


def test_a_folder_is_trusted_while_its_manifest_and_files_match(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"0123456789")
    manifest = {"format": 2, "sources": {"weights": "abc"}, "files": file_entries(tmp_path)}
    (tmp_path / "export.json").write_text(json.dumps(manifest))
    assert manifest["files"]["model.bin"]["size"] == 10 and len(manifest["files"]["model.bin"]["sha256"]) == 64
    assert manifest_matches(tmp_path, "export.json", {"format": 2, "sources": {"weights": "abc"}})
    assert not manifest_matches(tmp_path, "export.json", {"format": 3})  # another recipe
    assert not manifest_matches(tmp_path, "export.json", {"sources": {"weights": "xyz"}})  # other weights
    (tmp_path / "model.bin").write_bytes(b"0123")  # truncated
    assert not manifest_matches(tmp_path, "export.json", {"format": 2})
    (tmp_path / "model.bin").unlink()
    assert not manifest_matches(tmp_path, "export.json", {"format": 2})
    for broken in ("{pas du json", "[1, 2]"):
        (tmp_path / "export.json").write_text(broken)
        assert not manifest_matches(tmp_path, "export.json", {})
