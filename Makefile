# Every command the README shows goes through here, so CI and people run the same thing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install lint test test-fast bench up compose-smoke clean init-db-sql

$(BIN)/stockpipe: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	touch $@

install: $(BIN)/stockpipe  ## create .venv from the lock file

lint: install  ## ruff + mypy on src/
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

test: lint  ## the whole suite: lint, types, unit, integration, end to end
	$(BIN)/pytest

test-fast: install  ## everything but the end-to-end tier
	$(BIN)/pytest -m "not e2e"

bench: install  ## benchmarks; writes docs/benchmarks.md
	$(BIN)/python -m benchmarks

up: install  ## the whole stack without Docker: embedded PostgreSQL, Dagster UI and daemon
	$(BIN)/stockpipe up

compose-smoke:  ## docker compose stack, end to end (needs a Docker engine)
	bash scripts/compose-smoke.sh

init-db-sql: install  ## regenerate init_db.sql from the migrations (after adding one)
	$(BIN)/python -m stockpipe.store.dump_schema init_db.sql

lock:  ## re-resolve requirements.lock after editing pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
