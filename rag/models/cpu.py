"""What this CPU can do, for the choices and caches that depend on it.

The project's machines differ from one session to the next: Xeons with AVX-512 and AMX, EPYCs
with AVX2 only. A model compiled for one (OpenVINO's compiled-model cache) or a speed measured
on one (:mod:`rag.models.embedding_choice`) is kept under this CPU's fingerprint, never reused on another.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

# The vector instructions that decide the models' speed, in the order a report lists them.
FEATURES = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile", "amx_int8")


@dataclass(frozen=True)
class Cpu:
    model: str
    flags: frozenset[str]

    @classmethod
    def read(cls, cpuinfo: Path = Path("/proc/cpuinfo")) -> Cpu:
        try:
            return cls.parse(cpuinfo.read_text(errors="replace"))
        except OSError:
            return cls("?", frozenset())

    @classmethod
    def parse(cls, text: str) -> Cpu:
        """
        >>> cpu = Cpu.parse("model name : AMD EPYC\\nflags : fpu avx2 fma\\n")
        >>> cpu.model, cpu.features
        ('AMD EPYC', ('avx2', 'fma'))
        """
        model, flags = "?", frozenset()
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "?":
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = frozenset(value.split())
        return cls(model, flags)

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(flag for flag in FEATURES if flag in self.flags)

    @property
    def fingerprint(self) -> str:
        """A short name for this model of CPU and its features (all its flags count)."""
        text = self.model + "|" + " ".join(sorted(self.flags))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def describe(self) -> str:
        return f"{self.model} ({', '.join(self.features) or 'sans AVX2'})"


# Environment variables that cap the instructions native libraries use (eval.bench.embed_bench sets them).
ISA_CAPS = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS")


def cpu_key(cpu: Cpu | None = None) -> str:
    """This CPU's fingerprint, and the caps in force if any: what a compiled model or a
    measured speed is valid for."""
    cpu = cpu or Cpu.read()
    caps = "-".join(os.environ[name].lower() for name in ISA_CAPS if os.environ.get(name))
    return cpu.fingerprint + (f"-{caps}" if caps else "")


def compiled_cache(root: Path, cpu: Cpu | None = None) -> Path:
    """Where models compiled for this CPU (and these caps) are kept: ``root/compiled/<key>``.
    A compiled model is only valid for the instructions it was compiled for."""
    return root / "compiled" / cpu_key(cpu)
