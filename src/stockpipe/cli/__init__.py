"""`stockpipe ...`: a thin command line over the library.

Each command lives in its own module; this file only wires them into one group and sets up
logging so that secrets are masked in every line.
"""

from __future__ import annotations

import sys

import click

from stockpipe.logs import configure_logging
from stockpipe.settings import Settings, SettingsError

__all__ = ["configure_logging", "load_settings_or_exit", "main"]


def load_settings_or_exit() -> Settings:
    """Settings for a command; a bad variable ends the command with exit code 2."""
    try:
        return Settings.load()
    except SettingsError as exc:
        click.echo(f"stockpipe: {exc}", err=True)
        sys.exit(2)


@click.group()
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
