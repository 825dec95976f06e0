# Two commands do all the set-up on a fresh machine with Python 3 and make:
#   make demo   create .venv, install chainrule, run the main job on bundled data
#   make test   create .venv, install the test extras (with MPI), run the whole suite
#   make docs   build the browsable site (guides and API reference) into site/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_BASE := $(VENV)/.installed-base
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test docs lint bench profile mutate clean graphviz-binary

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Editable installs compile no bytecode (and PYTHONDONTWRITEBYTECODE may forbid writing it at
# import): compile it once, as a wheel install does, so `import chainrule` does not recompile.
$(STAMP_BASE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[demo]"
	$(BIN)/python -m compileall -q src/chainrule
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,demo,mpi,docs,fast,tensorboard]"
	$(BIN)/python -m compileall -q src/chainrule
	@$(MAKE) --no-print-directory graphviz-binary
	touch $@

# Rendering graph pictures needs Graphviz's `dot`; install Debian's package where we can (root,
# apt available). Without it everything else works and rendering says how to get it.
graphviz-binary:
	@command -v dot >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) ; } \
		|| echo "note: Graphviz's dot is not installed; graph pictures cannot be rendered"

demo: $(STAMP_BASE)
	$(BIN)/python -m chainrule.apps.demo

test: $(STAMP_TEST)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadgroup

# Strict: a broken reference or a public callable without a docstring fails the build.
docs: $(STAMP_TEST)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site
	@echo "the site is in site/: open site/index.html"

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP_TEST)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks.run
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks.distributed --torch

profile: $(STAMP_TEST)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks.profile

# Mutation testing (issue 17): a deterministic sample of each package's mutants against that
# package's tests, reported in docs/mutation.md; not part of `make test` (about 30 minutes).
mutate: $(STAMP_TEST)
	$(BIN)/python -m pip install --quiet -e ".[test,demo,mutate]"
	nice -n 10 $(BIN)/python scripts/mutate.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site
