"""The `airflow` extra and its lock: the library's runtime dependencies, Airflow, no Dagster.

Plain file checks: they run in both environments (no Airflow needed).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def test_the_airflow_extra_repeats_every_runtime_dependency_but_the_dagster_family():
    runtime = [r for r in PROJECT["dependencies"] if not _name(r).startswith("dagster")]
    extra = PROJECT["optional-dependencies"]["airflow"]

    assert [r for r in extra if _name(r) != "apache-airflow"] == runtime
    assert any(_name(r) == "apache-airflow" for r in extra)


def test_the_airflow_lock_pins_airflow_3_and_no_dagster_package():
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements-airflow.lock").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    )

    assert pins["apache-airflow"].startswith("3.")
    assert not [name for name in pins if name.startswith("dagster")]
    for requirement in PROJECT["optional-dependencies"]["airflow"]:
        assert _name(requirement).replace("[binary]", "") in pins, requirement
