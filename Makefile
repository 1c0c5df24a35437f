# tracker: `make demo` runs the main job, `make test` runs the tests (both set up .venv first).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench notebooks clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("tracker needs Python >= 3.11" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgis]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tracker demo

test: $(STAMP)
	$(BIN)/python -m pytest

# JupyterLab on notebooks/ (installs the notebooks extra first); the demo store is built by the
# notebook itself, so this works on a fresh machine.
notebooks: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,postgis,notebooks]'
	$(BIN)/jupyter lab --notebook-dir=notebooks

lint: $(STAMP)
	$(BIN)/ruff check tracker tests bench scripts
	$(BIN)/ruff format --check tracker tests bench scripts
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
