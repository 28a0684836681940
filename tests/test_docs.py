"""The docs stay true: every command and every setting is documented where users look."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from stockpipe.cli import main
from stockpipe.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")
OPERATIONS = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def _command_paths(group: click.Group, prefix: str = "stockpipe") -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, path))
        else:
            paths.append(path)
    return paths


ENV_VARS = sorted(str(field.validation_alias) for field in Settings.model_fields.values())


@pytest.mark.parametrize("command", _command_paths(main))
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"`{command}" in README


@pytest.mark.parametrize("variable", ENV_VARS)
def test_every_setting_is_in_the_readme_env_example_and_operations_guide(variable: str) -> None:
    assert re.search(rf"`{variable}`", README), "README configuration table"
    assert re.search(rf"^#? ?{variable}=", ENV_EXAMPLE, re.MULTILINE), ".env.example"
    assert f"`{variable}`" in OPERATIONS, "docs/operations.md configuration reference"


def test_the_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in README
    assert re.search(r"^make test$", ci, re.MULTILINE)
