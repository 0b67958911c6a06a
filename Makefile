# Dépêche: `make chat` to talk to the corpus, `make test` to run every test.
# Both set up .venv on first use; `make test` also installs Debian's Chromium for the browser
# tests (apt-get, as root or through sudo) if it is missing: a fresh machine needs nothing else.

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
# llama-cpp-python compiles from source: use every core.
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: help install browser chat index status test test-unit eval lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install the pinned requirements

# The browser tests (tests/test_browser.py) drive Debian's Chromium through Playwright, which
# requirements.txt pins; never `playwright install`: it downloads browsers of its own.
$(CHROMIUM):
	@if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null; then sudo="sudo"; \
	else echo "$(CHROMIUM) manque : lancez « apt-get install chromium » en root."; exit 1; fi; \
	$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y chromium
	@test -x $(CHROMIUM)

browser: $(STAMP) $(CHROMIUM)  ## Playwright and Debian's Chromium, for the browser tests

index: $(STAMP)  ## (re)build the index from seeds/
	$(PY) -m index build

status: $(STAMP)  ## describe the index
	$(PY) -m index status

chat: $(STAMP)  ## build the index if there is none, then serve the chat on http://127.0.0.1:7860
	$(PY) -m index build --if-missing
	$(PY) -m ui

test: $(STAMP) $(CHROMIUM)  ## run the whole test suite (unit, integration and browser, real models), then the eval gate
	$(PY) -m pytest
	$(PY) -m eval --quick

eval: $(STAMP)  ## the full eval on the seeds gold set (report in eval/runs/)
	$(PY) -m eval

test-unit: $(STAMP)  ## only the fast tests, with fakes
	$(PY) -m pytest -m "not integration"

lint: $(STAMP)  ## ruff
	$(PY) -m ruff check .

clean:  ## remove .venv and the model cache (never data/: it holds your index)
	rm -rf $(VENV) .cache .pytest_cache
