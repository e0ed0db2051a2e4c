# The two commands of the README: `make run` (the main job) and `make test` (the tests).
# Both create .venv from the pinned lock file on first use; nothing else needs installing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORPUS ?= corpus
JOBS ?= 1

.PHONY: run test lock verify lint clean-build

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

run: $(VENV)/.installed
	$(BIN)/textmine run $(CORPUS) --jobs $(JOBS)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

verify: $(VENV)/.installed
	$(BIN)/textmine verify

lint: $(VENV)/.installed
	$(BIN)/ruff check textmine tests benchmarks

# Regenerate the lock after changing dependencies in pyproject.toml (needs `pip install uv`).
lock:
	uv pip compile pyproject.toml --extra test --universal --python-version 3.11 -o requirements.lock
