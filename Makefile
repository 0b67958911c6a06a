# Dépêche: `make chat` to talk to the corpus, `make test` to run every test.
# Both set up .venv on first use; `make test` also installs Debian's Chromium for the browser
# tests (apt-get, as root or through sudo) if it is missing: a fresh machine needs nothing else.

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
CHROMIUM := /usr/bin/chromium
# llama-cpp-python compiles from source: use every core.
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: help install llama-wheel llama-wheel-dir browser chat index status test test-unit reader eval fuzz lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# llama-cpp-python has no wheel for this platform on PyPI: it is compiled here, once, with the
# project's flags, into a wheel folder of our own keyed by its version, the machine's
# architecture and the flags, and installed only from there (--only-binary: pip can neither
# compile it another way nor reuse a wheel from its cache built with other flags).
# The flags are portable x86-64 with AVX2: no -march=native, no AVX-512, no AMX. llama.cpp's AMX
# path segfaults on some Xeons (llama.cpp #20824), and a native build dies with SIGILL on a CPU
# without the instructions it was compiled for. The choice was measured with
# `python -m eval llama-bench` (docs/operations.md, the llama.cpp build). mtmd (images) is not used: off.
LLAMA_VERSION := $(shell sed -n 's/^llama_cpp_python==//p' requirements.txt)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_BMI2=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF \
	-DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF
LLAMA_KEY := $(shell printf '%s|%s|%s' '$(LLAMA_VERSION)' "$$(uname -m)" '$(strip $(LLAMA_CMAKE_ARGS))' \
	| sha256sum | cut -c1-16)
LLAMA_WHEELS := .cache/wheels/llama_cpp_python-$(LLAMA_VERSION)-$(LLAMA_KEY)
LLAMA_BUILT := $(LLAMA_WHEELS)/BUILD
# The install stamp names the llama.cpp build installed: other flags, another install.
STAMP := $(VENV)/.installed-$(LLAMA_KEY)
# The smoke test below runs again whenever the CPU differs (its feature flags).
CPU_KEY := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | sha256sum | cut -c1-16)
LLAMA_CHECKED := $(VENV)/.llama-ok-$(LLAMA_KEY)-$(CPU_KEY)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(LLAMA_BUILT): | $(VENV)/bin/python
	@echo "Compilation de llama-cpp-python $(LLAMA_VERSION), une fois (~4 min sur 2 cœurs), dans $(LLAMA_WHEELS)"
	rm -rf $(LLAMA_WHEELS).partial && mkdir -p $(LLAMA_WHEELS).partial
	CMAKE_ARGS="$(strip $(LLAMA_CMAKE_ARGS))" $(PY) -m pip wheel --disable-pip-version-check --no-deps \
		--no-cache-dir --no-binary llama-cpp-python -w $(LLAMA_WHEELS).partial llama_cpp_python==$(LLAMA_VERSION)
	printf 'version %s\narch %s\ncmake_args %s\ncompiler %s\n' '$(LLAMA_VERSION)' "$$(uname -m)" \
		'$(strip $(LLAMA_CMAKE_ARGS))' "$$(cc --version | head -1)" > $(LLAMA_WHEELS).partial/BUILD
	rm -rf $(LLAMA_WHEELS) && mv $(LLAMA_WHEELS).partial $(LLAMA_WHEELS)

$(STAMP): requirements.txt pyproject.toml $(LLAMA_BUILT) | $(VENV)/bin/python
	$(PY) -m pip install --disable-pip-version-check --no-deps --force-reinstall --no-index \
		--find-links $(LLAMA_WHEELS) llama_cpp_python==$(LLAMA_VERSION)
	$(PY) -m pip install --disable-pip-version-check --only-binary llama-cpp-python -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed* && touch $(STAMP)

# A tiny generation in a subprocess: a llama.cpp build that crashes on this CPU stops here
# with one line naming the cause and the fix, not at the first question of the chat.
$(LLAMA_CHECKED): $(STAMP)
	$(PY) -m rag.models.llama_check
	@rm -f $(VENV)/.llama-ok-* && touch $(LLAMA_CHECKED)

llama-wheel-dir:  # the wheel folder for these flags, built or not (tests, benchmark)
	@echo $(LLAMA_WHEELS)

llama-wheel: $(LLAMA_BUILT)  ## compile llama-cpp-python into .cache/wheels/ (LLAMA_CMAKE_ARGS=... for other flags)
	@echo $(LLAMA_WHEELS)

install: $(LLAMA_CHECKED)  ## create .venv, install the pinned requirements, check llama.cpp on this CPU

# Debian packages the tests need: Chromium for the browser tests (tests/test_browser.py, driven
# through Playwright, which requirements.txt pins; never `playwright install`: it downloads
# browsers of its own), and qemu-user, which runs llama.cpp on an emulated CPU without AVX-512
# (tests/test_llama_check.py): the portable build must run there.
QEMU := /usr/bin/qemu-x86_64
$(CHROMIUM) $(QEMU) &:
	@if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null; then sudo="sudo"; \
	else echo "$(CHROMIUM) ou $(QEMU) manque : lancez « apt-get install chromium qemu-user » en root."; exit 1; fi; \
	$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y chromium qemu-user
	@test -x $(CHROMIUM) && test -x $(QEMU)

browser: $(STAMP) $(CHROMIUM)  ## Playwright and Debian's Chromium, for the browser tests

index: $(STAMP)  ## (re)build the index from seeds/
	$(PY) -m index build

status: $(STAMP)  ## describe the index
	$(PY) -m index status

chat: $(LLAMA_CHECKED)  ## build the index if there is none, then serve the chat on http://127.0.0.1:7860
	$(PY) -m rag.models.prepare
	$(PY) -m index build --if-missing
	$(PY) -m ui

# The tests and the gate's floors were measured with the int8 model: pinned, so a CPU whose
# fastest model is another (rag/models/embedding_choice.py) runs the same figures.
test: export DEPECHE_EMBED_MODEL ?= embeddinggemma-300m-int8
test: $(LLAMA_CHECKED) $(CHROMIUM) $(QEMU)  ## run the whole test suite (unit, integration and browser, real models), then the eval gate
	$(PY) -m rag.models.prepare
	$(PY) -m pytest
	$(PY) -m eval --gate

reader: $(STAMP)  ## retrain the French reader on PIAF (about 30 min on 2 cores; writes rag/answer/weights/)
	$(PY) -m eval train-reader

eval: $(STAMP)  ## the full eval on the seeds gold set (report in eval/runs/)
	$(PY) -m eval

test-unit: $(STAMP)  ## only the fast tests, with fakes
	$(PY) -m pytest -m "not integration"

FUZZ_SECONDS ?= 60
fuzz: $(STAMP)  ## fuzz each reader with atheris for FUZZ_SECONDS (default 60 s each); crashes in .cache/fuzz/
	$(PY) -m pip install --quiet atheris==3.0.0
	$(PY) -m tests.fuzz.run --seconds $(FUZZ_SECONDS)

lint: $(STAMP)  ## ruff
	$(PY) -m ruff check .

clean:  ## remove .venv and the model cache (never data/: it holds your index)
	rm -rf $(VENV) .cache .pytest_cache
