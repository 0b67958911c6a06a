"""The llama.cpp smoke check (``rag.models.llama_check``) and the project's own llama.cpp build.

Unit tests make the child crash, hang or fail on purpose. The integration tests check the build
this checkout installed: from the project's wheel folder, portable (no AMX, no AVX-512), and
able to generate on this CPU.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, Settings
from rag.models.llama_check import LlamaCheck, amx_enabled, from_outcome, run_check

AMX_INFO = "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | REPACK = 1 |"
PORTABLE_INFO = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | REPACK = 1 |"


def _child_that(body: str) -> list[str]:
    """A child that prints ``system_info`` like the real one, then runs ``body``."""
    return [sys.executable, "-c", f"import os, signal, sys, time\nprint('system_info {AMX_INFO}', flush=True)\n{body}"]


def test_a_segfault_with_amx_names_amx_and_the_fix(tmp_path):
    check = run_check(tmp_path / "m.gguf", command=_child_that("os.kill(os.getpid(), signal.SIGSEGV)"))
    assert not check.ok
    assert "SIGSEGV" in check.message and "AMX" in check.message and "#20824" in check.message
    assert "make install" in check.message
    assert "\n" not in check.message
    assert amx_enabled(check.system_info)


def test_an_illegal_instruction_says_the_build_is_for_another_cpu():
    check = from_outcome(-4, PORTABLE_INFO, "", 0.3)
    assert not check.ok
    assert "SIGILL" in check.message and "autre processeur" in check.message


def test_a_hung_generation_is_stopped(tmp_path):
    check = run_check(tmp_path / "m.gguf", command=_child_that("time.sleep(30)"), timeout=1)
    assert not check.ok and "1 s" in check.message


def test_an_error_exit_reports_its_last_line(tmp_path):
    check = run_check(tmp_path / "m.gguf", command=_child_that("sys.exit('modèle illisible')"))
    assert not check.ok and "modèle illisible" in check.message


def test_a_build_with_amx_fails_even_when_the_trial_survives():
    check = from_outcome(0, AMX_INFO, '{"tokens": 8}', 0.3)
    assert not check.ok and "AMX" in check.message


def test_a_portable_build_that_generates_passes():
    assert from_outcome(0, PORTABLE_INFO, '{"tokens": 8, "text": " Paris"}', 0.3) == LlamaCheck(
        True, "llama.cpp : génération d’essai réussie (8 jetons, 0.3 s).", PORTABLE_INFO, 0.3
    )


def test_no_tokens_or_unreadable_output_fails():
    assert not from_outcome(0, PORTABLE_INFO, '{"tokens": 0}', 0.3).ok
    assert not from_outcome(0, PORTABLE_INFO, "", 0.3).ok


def _wheel_folder(*make_args: str) -> Path:
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "llama-wheel-dir", *make_args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return PROJECT_ROOT / out.stdout.strip()


def test_other_flags_get_a_wheel_folder_of_their_own():
    portable = _wheel_folder()
    native = _wheel_folder("LLAMA_CMAKE_ARGS=-DGGML_NATIVE=ON")
    assert portable.parent == native.parent == PROJECT_ROOT / ".cache" / "wheels"
    assert portable != native
    assert portable.name.startswith("llama_cpp_python-0.3.36-")


def test_the_makefile_installs_llama_cpp_only_from_the_project_wheel_folder():
    plan = subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", "install"], cwd=PROJECT_ROOT, capture_output=True, text=True
    ).stdout
    plan = " ".join(plan.replace("\\\n", " ").split())  # make -n keeps the recipes' line continuations
    folder = _wheel_folder().relative_to(PROJECT_ROOT)
    assert f"--no-index --find-links {folder} llama_cpp_python==" in plan
    assert "--only-binary llama-cpp-python -r requirements.txt" in plan
    assert "--no-cache-dir --no-binary llama-cpp-python" in plan
    assert "-DGGML_NATIVE=OFF" in plan and "-DGGML_AMX_INT8=OFF" in plan
    assert "rag.models.llama_check" in plan


@pytest.mark.integration
def test_the_installed_llama_cpp_is_the_projects_portable_wheel():
    import llama_cpp

    folder = _wheel_folder()
    build = (folder / "BUILD").read_text()
    assert "-DGGML_NATIVE=OFF" in build and "-DGGML_AMX_INT8=OFF" in build and "-DGGML_AVX512=OFF" in build
    (wheel,) = folder.glob("llama_cpp_python-*.whl")
    installed = Path(llama_cpp.__file__).parent / "lib" / "libggml-cpu.so"
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("llama_cpp/lib/libggml-cpu.so")
    assert hashlib.sha256(installed.read_bytes()).hexdigest() == hashlib.sha256(shipped).hexdigest()


@pytest.mark.integration
def test_the_real_model_generates_on_this_cpu_without_amx():
    from rag.models.gguf import resolve_gguf

    settings = Settings.from_env()
    check = run_check(resolve_gguf(settings.llm_path, settings.cache))
    assert check.ok, check.message
    assert "AVX2 = 1" in check.system_info
    assert "AMX_INT8" not in check.system_info and "AVX512 = 1" not in check.system_info


@pytest.mark.integration
def test_the_command_prints_the_system_info_and_succeeds():
    done = subprocess.run(
        [sys.executable, "-m", "rag.models.llama_check"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("llama_print_system_info() : CPU : ")
    assert "génération d’essai réussie" in done.stdout


def test_the_generator_refuses_a_build_with_amx_before_loading(monkeypatch, tmp_path):
    import llama_cpp

    from rag.answer.generation import LlamaGenerator
    from rag.errors import ModelLoadError

    monkeypatch.setattr(llama_cpp, "llama_print_system_info", lambda: AMX_INFO.encode())
    with pytest.raises(ModelLoadError, match="AMX.*make install"):
        LlamaGenerator(tmp_path / "jamais-lu.gguf", threads=1)


@pytest.mark.integration
def test_the_portable_build_generates_on_a_cpu_without_avx512():
    """The same child as the check, on an emulated Haswell (AVX2, no AVX-512, no AMX):
    a build with AVX-512 instructions dies here with SIGILL (checked by hand with a native one)."""
    from rag.models.gguf import resolve_gguf

    settings = Settings.from_env()
    model = resolve_gguf(settings.llm_path, settings.cache)
    child = [sys.executable, "-m", "rag.models.llama_check", "--child", str(model), "--threads", "2"]
    check = run_check(model, command=["/usr/bin/qemu-x86_64", "-cpu", "Haswell", *child], timeout=600)
    assert check.ok, check.message
    assert "AVX2 = 1" in check.system_info and "AVX512" not in check.system_info
