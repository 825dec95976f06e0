# Two commands do all the set-up on a fresh machine with Python 3 and make:
#   make demo   create .venv, install chainrule, run the main job on bundled data
#   make test   create .venv, install the test extras, run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_BASE := $(VENV)/.installed-base
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_BASE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[demo]"
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,demo]"
	touch $@

demo: $(STAMP_BASE)
	$(BIN)/python -m chainrule.apps.demo

test: $(STAMP_TEST)
	$(BIN)/python -m pytest

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP_TEST)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
