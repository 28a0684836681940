"""`stockpipe up` (not written yet)."""

from __future__ import annotations

import click


@click.command(name="up")
def command() -> None:
    """Not implemented yet."""
    raise click.ClickException("not implemented yet")
