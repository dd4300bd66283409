# Two commands: `make book` builds the site, `make test` runs the whole suite.
# Both create .venv from requirements.txt first when it is missing or stale.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MATHJAX := _vendor/mathjax/tex-svg-full.js

.PHONY: book test lint env clean help
.DEFAULT_GOAL := help

help:
	@echo "make book   set up .venv if needed, then build the book (profile from BOOK_PROFILE)"
	@echo "make test   set up .venv if needed, then run the whole test suite (quick profile)"
	@echo "make lint   ruff over src/, tests/, tools/ and the lectures' code cells"
	@echo "make clean  remove _build/ (keeps .venv)"

# The environment is rebuilt from scratch when requirements.txt or pyproject.toml
# changes, so that nothing installed by an older pin lingers.
$(STAMP): requirements.txt pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24" "setuptools>=64"
	$(PY) -m pip install --quiet -r requirements.txt 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

env: $(STAMP) $(MATHJAX)

$(MATHJAX): tools/fetch_mathjax.sh
	bash tools/fetch_mathjax.sh

book: env
	$(PY) -m tools.build

lint: env
	$(PY) -m tools.lint

test: env
	bash tools/install_chromium.sh
	$(PY) -m tools.lint
	BOOK_PROFILE=quick $(PY) -m pytest

clean:
	rm -rf _build course
