"""`make test` runs every part and fails if any part failed.

The Makefile is run for real, in a copy of the repository's root files whose two venvs hold
stand-in programs: each records that it ran and exits as the test asks, so the order, the
carrying on after a failure and the exit status are the Makefile's own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from stockpipe import processes

REPO_ROOT = Path(__file__).resolve().parents[1]
# The programs `make test` runs, by venv, and the variable that sets each one's exit code.
STAND_INS = {
    ".venv/bin/ruff": "RUFF_EXIT",
    ".venv/bin/mypy": "MYPY_EXIT",
    ".venv/bin/pytest": "PYTEST_EXIT",
    ".venv-airflow/bin/pytest": "AIRFLOW_PYTEST_EXIT",
}


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml", "requirements.lock", "requirements-airflow.lock"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    log = tmp_path / "ran.log"
    for program, variable in STAND_INS.items():
        path = tmp_path / program
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'#!/bin/sh\necho "{program} $*" >> {log}\nexit ${{{variable}:-0}}\n')
        path.chmod(0o755)
    # Both venvs are installed: newer than the lock files, so `install` has nothing to do.
    for venv in (".venv", ".venv-airflow"):
        marker = tmp_path / venv / "bin" / "stockpipe"
        marker.touch()
        os.utime(marker, (2_000_000_000, 2_000_000_000))
    return tmp_path


def make_test(checkout: Path, **exits: int) -> tuple[int, list[str], str]:
    env = {**os.environ, **{name: str(code) for name, code in exits.items()}}
    for inherited in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS"):  # when the suite runs under make
        env.pop(inherited, None)
    done = processes.run(
        ["make", "test"], cwd=checkout, env=env, capture_output=True, text=True, timeout=120
    )
    ran = (checkout / "ran.log").read_text().splitlines()
    return done.returncode, [line.split()[0] for line in ran], done.stderr


ALL = [".venv/bin/ruff", ".venv/bin/ruff", ".venv/bin/mypy", ".venv/bin/pytest",
       ".venv-airflow/bin/pytest"]  # fmt: skip


def test_make_test_runs_lint_the_suite_and_the_airflow_tests(checkout: Path) -> None:
    code, ran, _ = make_test(checkout)
    assert (code, ran) == (0, ALL)


def test_a_failing_main_suite_still_runs_the_airflow_tests_and_fails(checkout: Path) -> None:
    code, ran, stderr = make_test(checkout, PYTEST_EXIT=1)
    assert (code, ran) == (2, ALL)
    assert stderr.splitlines()[-2] == "make test: failed: pytest"


def test_failing_airflow_tests_fail_make_test(checkout: Path) -> None:
    code, ran, stderr = make_test(checkout, AIRFLOW_PYTEST_EXIT=1)
    assert (code, ran) == (2, ALL)
    assert stderr.splitlines()[-2] == "make test: failed: test-airflow"


def test_a_lint_failure_still_runs_both_suites_and_is_named(checkout: Path) -> None:
    code, ran, stderr = make_test(checkout, MYPY_EXIT=1, AIRFLOW_PYTEST_EXIT=1)
    assert code == 2
    assert ran == ALL
    assert stderr.splitlines()[-2] == "make test: failed: lint test-airflow"
