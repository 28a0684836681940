"""`stockpipe actions`: fetch splits and dividends that are due, and say what changed."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from stockpipe.cli import configure_logging
from stockpipe.cli.ingest_cmd import EXIT_CODES
from stockpipe.cli.progress import run_progress
from stockpipe.ingest import IngestContext
from stockpipe.ingest.corporate_actions import (
    FUNCTIONS,
    ActionsResult,
    ActionsSummary,
    refresh_corporate_actions,
)
from stockpipe.ingest.universe import UniverseUnavailable, tracked_symbols
from stockpipe.redact import redact
from stockpipe.settings import Settings, SettingsError
from stockpipe.store import DatabaseError

_EPILOG = """\b
Exit codes:
  0  success: every symbol's splits and dividends fetched or not due yet
  1  partial: some failed or were deferred (daily budget spent)
  2  bad configuration (the message names the variable)
  3  failed: nothing could be fetched, or the database is unreachable
"""


@click.command(name="actions", epilog=_EPILOG)
@click.option(
    "--symbols",
    metavar="A,B",
    help="Comma-separated tickers instead of the universe (STOCK_SYMBOLS, or the listing).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Fetch now, even where the last fetch is younger than CORPORATE_ACTIONS_REFRESH_DAYS.",
)
def command(symbols: str | None, force: bool) -> None:
    """Fetch each symbol's splits and dividends (SPLITS, DIVIDENDS) into stock_splits and
    stock_dividends, and list every new, changed or removed action.

    Each symbol is fetched again once CORPORATE_ACTIONS_REFRESH_DAYS have passed (two calls,
    counted against the same daily budget as the bars). The view stock_data_adjusted shows
    the daily bars adjusted for them; the last line names the symbols whose adjusted prices
    moved and, with STOCK_ADJUSTED=true, the stored adjusted series that their next refresh
    fetches again in full.
    """
    try:
        settings = Settings.load(**({"STOCK_SYMBOLS": symbols} if symbols is not None else {}))
    except SettingsError as exc:
        click.echo(f"stockpipe: {exc}", err=True)
        sys.exit(2)
    configure_logging(settings)
    try:
        with IngestContext.from_settings(settings) as context:
            chosen = settings.stock_symbols if symbols is not None else tracked_symbols(context)
            with run_progress("actions", len(chosen) * len(FUNCTIONS)) as progress:

                def advance(result: ActionsResult) -> None:
                    progress.advance(
                        f"{result.symbol} {result.function.value} {result.status.value}"
                    )

                summary = refresh_corporate_actions(context, chosen, force=force, on_result=advance)
    except (DatabaseError, UniverseUnavailable) as exc:
        click.echo(f"stockpipe actions: {redact(str(exc), settings.secrets)}", err=True)
        sys.exit(3)
    _print_summary(summary)
    sys.exit(EXIT_CODES[summary.status])


def _print_summary(summary: ActionsSummary) -> None:
    table = Table(title=f"corporate actions: {summary.status.value}", title_justify="left")
    for name in ("symbol", "function", "status", "calls", "new", "changed", "removed", "same"):
        table.add_column(
            name, justify="right" if name not in ("symbol", "function", "status") else "left"
        )
    table.add_column("message", overflow="fold")
    for r in summary.results:
        counts = [sum(1 for c in r.changes if c.change == k) for k in ("new", "changed", "removed")]
        note = r.message or (
            f"next fetch after {r.next_due:%Y-%m-%d %H:%M %Z}" if r.next_due else ""
        )
        table.add_row(
            r.symbol, r.function.value, r.status.value, str(r.calls), *map(str, counts),
            str(r.unchanged), note,
        )  # fmt: skip
    console = Console()
    (console if console.is_terminal else Console(width=200)).print(table)
    for change in summary.changes:
        click.echo(change.describe())
    # The same line the logs carry: easy to grep, never cut by the terminal width.
    click.echo(summary.message)
