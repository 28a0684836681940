"""The package keeps its layers: only the orchestrator folders import an orchestrator, and
imports run one way, down (cli/defs/airflow -> ingest -> quota -> store, alphavantage -> shared).
The faces (cli, defs, airflow) never import one another, and storage never imports the vendor."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "stockpipe"
ORCHESTRATORS = ("dagster", "dagster_webserver", "dagster_graphql", "dagster_postgres", "airflow")
# Where each orchestrator may be imported, relative to the package.
ALLOWED = {
    "dagster": ("defs/", "definitions.py"),
    "airflow": ("airflow/",),
}
# Layers that must not import the layers above them.
FORBIDDEN_UPWARD = {
    # Storage keeps no vendor: the records both need (Bar, Split, Dividend, Listing) live below.
    "store/": (
        "stockpipe.ingest",
        "stockpipe.quota",
        "stockpipe.cli",
        "stockpipe.defs",
        "stockpipe.alerts",
        "stockpipe.alphavantage",
    ),
    "alphavantage/": (
        "stockpipe.ingest",
        "stockpipe.quota",
        "stockpipe.store",
        "stockpipe.cli",
        "stockpipe.defs",
    ),
    # The call gate sits between the pipeline and the storage: ingest -> quota -> store.
    "quota/": (
        "stockpipe.ingest",
        "stockpipe.cli",
        "stockpipe.defs",
        "stockpipe.airflow",
        "stockpipe.alerts",
    ),
    "ingest/": ("stockpipe.cli", "stockpipe.defs", "stockpipe.airflow", "stockpipe.alerts"),
    "alerts/": ("stockpipe.cli", "stockpipe.defs", "stockpipe.airflow"),
    # The faces stand side by side: what two of them need (the supervisor) lives below them.
    "airflow/": ("stockpipe.cli", "stockpipe.defs"),
    "cli/": ("stockpipe.airflow",),
    "defs/": ("stockpipe.cli", "stockpipe.airflow"),
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


MODULES = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))


def _family(name: str) -> str:
    top = name.split(".", maxsplit=1)[0]
    return "airflow" if top == "airflow" else "dagster" if top.startswith("dagster") else ""


@pytest.mark.parametrize("module", MODULES)
def test_only_orchestrator_folders_import_an_orchestrator(module: str) -> None:
    for name in _imports(PACKAGE / module):
        family = _family(name)
        if family:
            assert module.startswith(ALLOWED[family]), f"{module} imports {name}"


@pytest.mark.parametrize("module", MODULES)
def test_imports_run_down_the_layers(module: str) -> None:
    for folder, forbidden in FORBIDDEN_UPWARD.items():
        if module.startswith(folder):
            for name in _imports(PACKAGE / module):
                assert not name.startswith(forbidden), f"{module} imports {name}"


def test_the_check_sees_an_orchestrator_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom dagster import asset\n", encoding="utf-8")
    assert [_family(n) for n in _imports(sample)] == ["", "dagster"]
