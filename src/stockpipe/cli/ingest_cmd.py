"""`stockpipe ingest`: one ingest run without the Dagster daemon, same code path as the asset."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from stockpipe.cli import configure_logging
from stockpipe.cli.options import interval_option, series_option
from stockpipe.cli.progress import run_progress
from stockpipe.ingest import IngestContext, ingest_symbols
from stockpipe.ingest.results import RunStatus, RunSummary, SymbolResult
from stockpipe.ingest.universe import UniverseUnavailable, tracked_symbols
from stockpipe.redact import redact
from stockpipe.settings import Settings, SettingsError
from stockpipe.store import DatabaseError

EXIT_CODES = {RunStatus.SUCCESS: 0, RunStatus.PARTIAL: 1, RunStatus.FAILED: 3}

_EPILOG = """\b
Exit codes:
  0  success: every symbol loaded or already up to date
  1  partial: some symbols failed or were deferred (daily budget spent), others are current
  2  bad configuration (the message names the variable)
  3  failed: no symbol could be loaded and none was up to date, or the database is unreachable
"""


@click.command(name="ingest", epilog=_EPILOG)
@click.option(
    "--symbols",
    metavar="A,B",
    help="Comma-separated tickers to ingest instead of the universe (STOCK_SYMBOLS, or the"
    " listing with STOCK_UNIVERSE=listing).",
)
@click.option(
    "--output-size",
    type=click.Choice(["auto", "compact", "full"]),
    default=None,
    help="Override API_OUTPUT_SIZE: auto picks compact when the stored history allows it.",
)
@click.option(
    "--retry-rejected",
    is_flag=True,
    help="Call symbols Alpha Vantage rejected as invalid (and a series this key got a"
    " premium-only reply for) now, instead of skipping them until"
    " API_REJECTED_SYMBOL_RETRY_DAYS have passed.",
)
@series_option
@interval_option
def command(
    symbols: str | None,
    output_size: str | None,
    retry_rejected: bool,
    series: str,
    interval: str | None,
) -> None:
    """Fetch the latest bars of every symbol into stock_data (or the table of --series), once.

    Symbols already holding the latest completed NYSE session cost no API call. Calls are
    spaced and counted against the daily budget shared with every other stockpipe process;
    what the budget cannot cover is deferred and taken first next time. A symbol Alpha Vantage
    rejected as invalid fails without a call until its retry day, then is tried after the rest.
    """
    if interval is not None and series != "intraday":
        raise click.UsageError("--interval applies to --series intraday only")
    settings = _load_settings(symbols, output_size, interval)
    configure_logging(settings)
    try:
        with IngestContext.from_settings(settings) as context:
            # An explicit --symbols list is the run's universe; else STOCK_UNIVERSE decides
            # (the listing is refreshed first when today's refresh is due).
            chosen = settings.stock_symbols if symbols is not None else tracked_symbols(context)
            with run_progress("ingest", len(chosen)) as progress:

                def advance(result: SymbolResult) -> None:
                    progress.advance(f"{result.symbol} {result.status}")

                summary = ingest_symbols(
                    context,
                    chosen,
                    on_result=advance,
                    retry_rejected=retry_rejected,
                    series=series,
                )
    except (DatabaseError, UniverseUnavailable) as exc:
        click.echo(f"stockpipe ingest: {redact(str(exc), settings.secrets)}", err=True)
        sys.exit(3)
    _print_summary(summary, series)
    sys.exit(EXIT_CODES[summary.status])


def _load_settings(symbols: str | None, output_size: str | None, interval: str | None) -> Settings:
    overrides: dict[str, object] = {}
    if interval is not None:
        overrides["STOCK_INTRADAY_INTERVAL"] = interval
    if symbols is not None:
        overrides["STOCK_SYMBOLS"] = symbols
    if output_size is not None:
        overrides["API_OUTPUT_SIZE"] = output_size
    try:
        return Settings.load(**overrides)
    except SettingsError as exc:
        click.echo(f"stockpipe: {exc}", err=True)
        sys.exit(2)


def _print_summary(summary: RunSummary, series: str) -> None:
    title = f"ingest: {summary.status.value}"
    if series != "daily":
        title = f"ingest {series}: {summary.status.value}"
    table = Table(title=title, title_justify="left")
    for name in ("symbol", "status", "calls", "inserted", "updated", "unchanged", "skipped"):
        table.add_column(name, justify="left" if name in ("symbol", "status") else "right")
    table.add_column("latest bar")
    table.add_column("message", overflow="fold")
    for r in summary.results:
        skipped = ", ".join(f"{reason} {n}" for reason, n in sorted(r.skipped.items())) or "0"
        table.add_row(
            r.symbol, r.status.value, str(r.calls), str(r.inserted), str(r.updated),
            str(r.unchanged), skipped, str(r.latest_bar or "-"), r.message,
        )  # fmt: skip
    console = _console()
    console.print(table)
    # The same line the logs and Dagster carry: easy to grep, never cut by the terminal width.
    click.echo(summary.message)


def _console() -> Console:
    # Piped into a file or a log, the table keeps whole cells instead of the 80-column default.
    console = Console()
    return console if console.is_terminal else Console(width=200)
