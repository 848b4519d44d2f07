# `make verify`, `make test` and `make test-fast` set up .venv themselves: a fresh machine
# needs only Python 3.11+ and make (README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TYPED  := mimi_portability model impl proofs diagrams

.PHONY: verify test test-fast lint typecheck pytest pytest-fast golden golden-check venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

verify: $(STAMP)
	$(BIN)/mimi-portability verify

lint: $(STAMP)
	$(BIN)/ruff check $(TYPED) tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict $(TYPED)

# Test modules spread over one worker per core (pytest-xdist), each module whole on one
# worker, so a module's fixtures are built once.  PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto
XDIST := -n $(PYTEST_WORKERS) --dist loadfile

# Both tiers (what CI runs).
pytest: $(STAMP)
	$(BIN)/python -m pytest $(XDIST)

# The fast tier: everything not marked slow (tests/conftest.py lists the slow modules).
pytest-fast: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) -m "not slow"

test: lint typecheck pytest

test-fast: lint typecheck pytest-fast

# Rewrite tests/golden/ from this code (then review `git diff tests/golden/`).
golden: $(STAMP)
	MIMI_GOLDEN_UPDATE=1 $(BIN)/python -m pytest tests/test_golden.py -rs

# Compare every golden file, the whole of `prove --variant all` included (about ten minutes).
golden-check: $(STAMP)
	MIMI_GOLDEN_PROVE_ALL=1 $(BIN)/python -m pytest tests/test_golden.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
