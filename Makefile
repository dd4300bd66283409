# Two commands: `make book` builds the site, `make test` runs the whole suite.
# Both create .venv from requirements.txt first when it is missing or stale. `make toc`
# regenerates the tracked _toc.yml from course.yml (`make book` runs it when course.yml is newer).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MATHJAX := _vendor/mathjax/tex-svg-full.js

.PHONY: book test lint env venv toc clean help
.DEFAULT_GOAL := help

help:
	@echo "make book   set up .venv if needed, then build the book (profile from BOOK_PROFILE)"
	@echo "make test   set up .venv if needed, then run the whole test suite (quick profile)"
	@echo "make lint   ruff over src/, tests/, tools/ and the lectures' code cells"
	@echo "make toc    regenerate _toc.yml from course.yml (then commit it)"
	@echo "make clean  remove _build/ (keeps .venv)"

# The environment is rebuilt from scratch when what it is installed from changes (the
# digest of requirements.txt and pyproject.toml's [project] and [build-system], written to
# $(STAMP) by tools/env_hash.py), so that nothing installed by an older pin lingers. A
# digest, not file times: a fresh clone beside a good .venv rebuilds nothing.
venv:
	@want="$$($(PYTHON) tools/env_hash.py)"; \
	if [ -x $(PY) ] && [ "$$(cat $(STAMP) 2>/dev/null)" = "$$want" ]; then \
	  echo "$(VENV) is up to date"; exit 0; \
	fi; \
	echo "Creating $(VENV) from requirements.txt ..."; \
	rm -rf $(VENV); \
	$(PYTHON) -m venv $(VENV); \
	$(PY) -m pip install --quiet --upgrade "pip>=24" "setuptools>=64"; \
	$(PY) -m pip install --quiet -r requirements.txt 2>&1 | { grep -v '^WARNING: Location' || true; }; \
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .; \
	echo "$$want" > $(STAMP)

env: venv $(MATHJAX)

$(MATHJAX): tools/fetch_mathjax.sh
	bash tools/fetch_mathjax.sh

# Debian's graphviz renders the diagrams in figures/, chromium and poppler-utils make the PDFs.
book: env _toc.yml
	bash tools/install_debian.sh graphviz chromium poppler-utils
	$(PY) -m tools.build

# _toc.yml is tracked: the build only checks it, this step writes it. The touch marks it
# current even when course.yml changed nothing in it.
toc: env
	$(PY) -m tools.coursegen --toc
	touch _toc.yml

_toc.yml: course.yml
	@$(MAKE) --no-print-directory toc

lint: env
	$(PY) -m tools.lint

test: env
	bash tools/install_bubblewrap.sh
	bash tools/install_debian.sh
	$(PY) -m tools.lint
	BOOK_PROFILE=quick $(PY) -m pytest

clean:
	rm -rf _build course
