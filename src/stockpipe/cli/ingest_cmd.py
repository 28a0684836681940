"""`stockpipe ingest` (not written yet)."""

from __future__ import annotations

import click


@click.command(name="ingest")
def command() -> None:
    """Not implemented yet."""
    raise click.ClickException("not implemented yet")
