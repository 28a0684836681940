"""`stockpipe ...`: a thin command line over the library.

Each command lives in its own module; this file only wires them into one group and sets up
logging so that secrets are masked in every line.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from stockpipe.logs import configure_logging
from stockpipe.redact import redact
from stockpipe.settings import Settings, SettingsError
from stockpipe.store.errors import DatabaseError

__all__ = [
    "DATABASE_EXIT_CODE",
    "configure_logging",
    "exit_for_database",
    "load_settings_or_exit",
    "main",
]

# Every command ends with this code when the database cannot be reached or refuses the work.
DATABASE_EXIT_CODE = 3


def load_settings_or_exit() -> Settings:
    """Settings for a command; a bad variable ends the command with exit code 2."""
    try:
        return Settings.load()
    except SettingsError as exc:
        click.echo(f"stockpipe: {exc}", err=True)
        sys.exit(2)


def exit_for_database(command: str, exc: DatabaseError, settings: Settings | None) -> NoReturn:
    """`stockpipe <command>: <one line>` on stderr, exit code 3: the same for every command."""
    message = str(exc) if settings is None else redact(str(exc), settings.secrets)
    click.echo(f"stockpipe {command}: {message}", err=True)
    sys.exit(DATABASE_EXIT_CODE)


class _Commands(click.Group):
    """The group; a database fault a command did not handle still ends in one line, exit 3
    (the store's messages carry no password), never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DatabaseError as exc:
            exit_for_database(ctx.invoked_subcommand or "", exc, None)


@click.group(cls=_Commands)
@click.version_option(package_name="stockpipe")
def main() -> None:
    """Keep a PostgreSQL database of Alpha Vantage stock prices fresh."""


def _register() -> None:
    from stockpipe.cli import alerts_cmd, db_cmd, fetch_cmd, ingest_cmd, status_cmd, up_cmd

    for module in (fetch_cmd, db_cmd, ingest_cmd, status_cmd, up_cmd, alerts_cmd):
        main.add_command(module.command)
    from stockpipe.cli import actions_cmd, backfill_cmd, launch_cmd, universe_cmd

    for module in (actions_cmd, backfill_cmd, launch_cmd, universe_cmd):
        main.add_command(module.command)


_register()
