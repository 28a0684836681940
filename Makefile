# Every command the README shows goes through here, so CI and people run the same thing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install lint test test-fast bench up compose-smoke runlauncher-smoke clean init-db-sql
.PHONY: install-airflow lock-airflow test-airflow airflow-up airflow-import-errors

$(BIN)/stockpipe: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	touch $@

install: $(BIN)/stockpipe  ## create .venv from the lock file

lint: install  ## ruff + mypy on src/
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

# Every part runs even when one before it failed, so one run reports all of them; the exit
# status is non-zero if any failed, and the last line names which. (Through SUBMAKE, not
# $(MAKE), so that `make -n test` prints the recipe instead of running it.)
SUBMAKE = $(MAKE) --no-print-directory
test: install  ## the whole suite: lint, types, unit, integration, end to end; then the Airflow tests
	@failed=""; \
	$(SUBMAKE) lint || failed="$$failed lint"; \
	$(BIN)/pytest || failed="$$failed pytest"; \
	$(SUBMAKE) test-airflow || failed="$$failed test-airflow"; \
	if [ -n "$$failed" ]; then echo "make test: failed:$$failed" >&2; exit 1; fi; \
	echo "make test: lint, pytest and test-airflow passed"

test-fast: install  ## everything but the end-to-end tier
	$(BIN)/pytest -m "not e2e"

bench: install  ## benchmarks; writes docs/benchmarks.md
	$(BIN)/python -m benchmarks

up: install  ## the whole stack without Docker: embedded PostgreSQL, Dagster UI and daemon
	$(BIN)/stockpipe up

compose-smoke: install  ## docker compose stack, end to end (needs a Docker engine)
	bash scripts/compose-smoke.sh

runlauncher-smoke: install  ## every run in its own container: a 200-symbol backfill in 4 (needs a Docker engine)
	bash scripts/runlauncher-smoke.sh

init-db-sql: install  ## regenerate init_db.sql from the migrations (after adding one)
	$(BIN)/python -m stockpipe.store.dump_schema init_db.sql

lock:  ## re-resolve requirements.lock after editing pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal -o requirements.lock

# --- Airflow flavour: its own venv and lock (docs/orchestrators.md) ---------------------------
# Airflow's dependency tree is its own: .venv-airflow holds Airflow 3, the library's runtime
# dependencies (the `airflow` extra) and stockpipe itself installed with --no-deps, so the
# Dagster pins are never required there and .venv / requirements.lock do not change.
AF_VENV := .venv-airflow
AF_BIN  := $(AF_VENV)/bin
# The extra plus what the tests need, fed to the resolver as one requirements list.
AF_REQUIREMENTS = $(PYTHON) -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']; print(*p['airflow'], *[d for d in p['dev'] if d.split('>')[0] in ('pytest', 'pytest-timeout')], sep='\n')"

$(AF_BIN)/stockpipe: requirements-airflow.lock pyproject.toml
	test -x $(AF_BIN)/python || $(PYTHON) -m venv $(AF_VENV)
	$(AF_BIN)/python -m pip install --quiet --upgrade pip uv
	$(AF_BIN)/uv pip install --python $(AF_BIN)/python --quiet --compile-bytecode -r requirements-airflow.lock
	$(AF_BIN)/uv pip install --python $(AF_BIN)/python --quiet --no-deps -e .
	touch $@

install-airflow: $(AF_BIN)/stockpipe  ## create .venv-airflow from requirements-airflow.lock

lock-airflow: install  ## re-resolve requirements-airflow.lock (the airflow extra + pytest)
	$(AF_REQUIREMENTS) | $(BIN)/uv pip compile - --python-version 3.11 --universal -o requirements-airflow.lock

test-airflow: install-airflow  ## the Airflow tests (tests/airflow) in .venv-airflow
	$(AF_BIN)/pytest tests/airflow

airflow-up: install-airflow  ## Airflow UI, scheduler and DAG processor on the embedded PostgreSQL
	$(AF_BIN)/python -m stockpipe.airflow.up  # home: AIRFLOW_HOME, else STOCKPIPE_DATA_DIR/airflow

airflow-import-errors: install-airflow  ## the DAGs' import errors (a bad setting) without the UI
	$(AF_BIN)/python -m stockpipe.airflow.import_errors

clean:
	rm -rf $(VENV) $(AF_VENV) .pytest_cache .mypy_cache .ruff_cache
