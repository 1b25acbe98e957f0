# The project's commands. `make demo` and `make test` are the README's Quick start.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
# these machines set PYTHONDONTWRITEBYTECODE: compile at install, or every `bot` start compiles from source
export UV_COMPILE_BYTECODE := 1

.PHONY: demo test install install-dev system-tools lint types contracts unit bench lock clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen --no-dev --quiet
	$(BIN)/python -m compileall -q -j 0 src > /dev/null

install-dev: $(UV)
	$(UV) sync --frozen --extra dev --quiet
	$(BIN)/python -m compileall -q -j 0 src > /dev/null

## demo: install, then run the main job (a backtest on bundled data, SQLite, simulated venues)
demo: install
	$(BIN)/bot backtest

## test: install dev dependencies and the system tools the tests drive, then lint, types, contracts, the suite
test: install-dev system-tools lint types contracts unit

# Debian's prometheus (promtool), alertmanager (amtool), chromium, nginx and wrk, for the observability, API and
# deployment tests; installed only when one is missing
SYSTEM_TOOLS := promtool prometheus amtool chromium chromedriver nginx wrk
system-tools:
	@for t in $(SYSTEM_TOOLS); do command -v $$t > /dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
		apt-get update -qq > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends prometheus prometheus-alertmanager chromium chromium-driver nginx-light wrk \
			> /dev/null; \
	fi

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types:
	$(BIN)/mypy

contracts:
	$(BIN)/lint-imports

unit:
	$(BIN)/pytest -n 2 --dist loadfile

bench: install-dev
	$(BIN)/python bench/backtest_throughput.py

lock: $(UV)
	$(UV) lock

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache runs

## stack / stack-down: the deployment's topology on loopback without Docker (nginx, 3 API replicas, a job worker,
## a paper node, Prometheus, Alertmanager; local PostgreSQL and Redis); state in .stack/ (deploy/local/stack.py)
.PHONY: stack stack-down
stack:
	@$(BIN)/python deploy/local/stack.py up

stack-down:
	@$(BIN)/python deploy/local/stack.py down
