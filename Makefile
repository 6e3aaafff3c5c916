# The two commands: `make run` and `make test`. Both build .venv from nothing when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench faults clean chromium screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/childreg dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy domain workflows activities projections workers web tests

# The console's browser test drives Debian's chromium (never a downloaded browser); on a fresh
# machine (CI runs as root) it is installed with apt.
CHROMIUM := /usr/bin/chromium

chromium:
	@test -x $(CHROMIUM) || (apt-get update && apt-get install -y chromium)

test: lint typecheck chromium
	$(BIN)/pytest

# The README's screenshots of the reviewer console, taken by its browser test on a real stack.
screenshots: $(STAMP) chromium
	CONSOLE_SCREENSHOTS=docs/console $(BIN)/pytest tests/e2e/test_console_browser.py -q

unit: $(STAMP)
	$(BIN)/pytest tests/unit

bench: $(STAMP)
	$(BIN)/python -m tests.bench $(BENCH)

# The whole stack through worker, PostgreSQL, Temporal and projector crashes and a failing mail
# relay and SMS gateway, with a table of what came out (tests/faults/). CI: FAULTS=--profile=short.
faults: $(STAMP)
	$(BIN)/python -m tests.faults $(FAULTS)

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
