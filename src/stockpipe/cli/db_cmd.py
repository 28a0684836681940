"""`stockpipe db` (not written yet)."""

from __future__ import annotations

import click


@click.command(name="db")
def command() -> None:
    """Not implemented yet."""
    raise click.ClickException("not implemented yet")
