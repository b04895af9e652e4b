# `make setup` creates .venv with the pinned packages (Linux and macOS); `make dev` and `make test`
# run it first, so each also works on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

.PHONY: setup lock dev test test-fast lint fmt bench layer clean browser-deps

PIP_TOOLS := build/pip-tools/bin

## Create .venv with every pinned package (requirements/dev.txt, hashes checked); no browser, no sudo
setup: $(STAMP)

$(STAMP): requirements/runtime.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version 2>&1)): run 'make setup PYTHON=python3.12'"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	touch $(STAMP)

## Re-resolve the locks from requirements/*.in: LOCK_ARGS=--upgrade (all) or --upgrade-package pulumi-aws
lock:
	test -x $(PIP_TOOLS)/pip-compile || { $(PYTHON) -m venv build/pip-tools && $(PIP_TOOLS)/pip install --quiet 'pip-tools>=7.4,<8'; }
	$(LOCK_ENV) $(PIP_TOOLS)/pip-compile $(LOCK_FLAGS) $(LOCK_ARGS) -o requirements.txt requirements/deploy.in
	$(LOCK_ENV) $(PIP_TOOLS)/pip-compile $(LOCK_FLAGS) $(LOCK_ARGS) -c requirements.txt -o requirements/dev.txt requirements/dev.in

# Hashes of every file on PyPI (not of a local wheel cache), so the locks install on Linux and macOS.
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --index-url https://pypi.org/simple --no-emit-index-url
LOCK_ENV := env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null

# Debian's Chromium for the browser tests (never a downloaded browser).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

## Run the whole shop locally (moto server + local gateway) on http://127.0.0.1:$(PORT)
dev: setup
	PORT=$(PORT) $(PY) -m functions.local

## Every test: domain, contract, runtime, infrastructure (Pulumi mocks), end-to-end, browser
test: setup browser-deps
	$(PY) -m pytest

## Everything but the browser and end-to-end tests
test-fast: $(STAMP)
	$(PY) -m pytest -m "not browser and not e2e"

## Style (ruff) and types (mypy over components/, providers/, functions/); CI runs it before the tests
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Benchmarks: writes docs/benchmarks.md
bench: $(STAMP)
	$(PY) -m bench

## Cost and capacity of the three clouds from the program's own graphs: writes docs/clouds.md
.PHONY: compare
compare: $(STAMP)
	$(PY) -m bench.compare

clean:
	rm -rf $(VENV) build .pytest_cache
