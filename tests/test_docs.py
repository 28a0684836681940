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


def _commands(group: click.Group, prefix: str = "stockpipe") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix} {name}"))
        else:
            found.append((f"{prefix} {name}", command))
    return found


def _readme_row(path: str) -> str:
    """The README command table's row of `path` (its first cell starts with the command)."""
    rows = [line for line in README.splitlines() if re.match(rf"^\| `{re.escape(path)}[ `]", line)]
    assert len(rows) == 1, f"one row for `{path}` in the README's command table, found {rows}"
    return rows[0]


def _documented_names(command: click.Command) -> list[str]:
    """What --help shows: every option's long flag, every argument's name."""
    names = []
    for param in command.params:
        if isinstance(param, click.Option):
            if param.hidden or "--help" in param.opts:
                continue
            names.append(max(param.opts, key=len))
        elif isinstance(param, click.Argument):
            names.append(param.human_readable_name)
    return names


@pytest.mark.parametrize(
    ("path", "name"),
    [
        pytest.param(path, name, id=f"{path} {name} is in its README row")
        for path, command in _commands(main)
        for name in _documented_names(command)
    ],
)
def test_every_option_and_argument_of_help_is_in_the_readme(path: str, name: str) -> None:
    assert re.search(rf"{re.escape(name)}(?![\w-])", _readme_row(path))


@pytest.mark.parametrize("path", [path for path, _ in _commands(main)])
def test_every_command_has_exactly_one_readme_row(path: str) -> None:
    _readme_row(path)


@pytest.mark.parametrize("variable", ENV_VARS)
def test_every_setting_is_in_the_readme_env_example_and_operations_guide(variable: str) -> None:
    assert re.search(rf"`{variable}`", README), "README configuration table"
    assert re.search(rf"^#? ?{variable}=", ENV_EXAMPLE, re.MULTILINE), ".env.example"
    assert f"`{variable}`" in OPERATIONS, "docs/operations.md configuration reference"


def test_the_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in README
    assert re.search(r"^make test$", ci, re.MULTILINE)


def test_the_readme_states_the_test_duration_measured_in_testing_md() -> None:
    testing = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    duration = re.compile(r"about \d+ minutes on a quiet 2-core\s+machine, \d+ to \d+ minutes")
    measured, stated = duration.search(testing), duration.search(README)
    assert measured and stated, "docs/testing.md 'In short: ...' and the README's Test section"
    assert " ".join(stated[0].split()) == " ".join(measured[0].split())
