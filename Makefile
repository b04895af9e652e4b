# Two commands set everything up on a fresh machine: `make dev` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

.PHONY: dev test test-fast lint fmt bench layer clean browser-deps

$(STAMP): requirements/runtime.txt requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

# Debian's Chromium for the browser tests (never a downloaded browser).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

## Run the whole shop locally (moto server + local gateway) on http://127.0.0.1:$(PORT)
dev: $(STAMP)
	PORT=$(PORT) $(PY) -m functions.local

## Every test: domain, contract, runtime, infrastructure (Pulumi mocks), end-to-end, browser
test: $(STAMP) browser-deps
	$(PY) -m pytest

## Everything but the browser and end-to-end tests
test-fast: $(STAMP)
	$(PY) -m pytest -m "not browser and not e2e"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

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
