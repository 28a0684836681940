"""`stockpipe fetch SYMBOL`: call Alpha Vantage once, print the validated bars and skip counts.

Touches no database: the first thing to run to check a key, a symbol or an endpoint.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from stockpipe.alphavantage import (
    INTRADAY_INTERVALS,
    AlphaVantageClient,
    AlphaVantageError,
    Function,
    ParsedSeries,
    SeriesRequest,
)
from stockpipe.cli import configure_logging, load_settings_or_exit
from stockpipe.cli.moments import exchange_time, trading_date

FUNCTION_NAMES = {
    "daily": Function.DAILY,
    "daily-adjusted": Function.DAILY_ADJUSTED,
    "weekly": Function.WEEKLY,
    "weekly-adjusted": Function.WEEKLY_ADJUSTED,
    "monthly": Function.MONTHLY,
    "monthly-adjusted": Function.MONTHLY_ADJUSTED,
    "intraday": Function.INTRADAY,
}


def _table(series: ParsedSeries, limit: int) -> Table:
    shown = series.bars if limit <= 0 else series.bars[:limit]
    adjusted = any(bar.adjusted_close is not None for bar in shown)
    split = any(bar.split_coefficient is not None for bar in shown)
    table = Table(title=f"{series.symbol} {series.function.value} ({series.interval})")
    intraday = series.function is Function.INTRADAY
    table.add_column("time" if intraday else "date")
    for name in ("open", "high", "low", "close", "volume"):
        table.add_column(name, justify="right")
    if adjusted:
        table.add_column("adjusted close", justify="right")
        table.add_column("dividend", justify="right")
    if split:
        table.add_column("split", justify="right")
    for bar in shown:
        row = [exchange_time(bar.ts) if intraday else trading_date(bar.ts)]
        row += [str(bar.open), str(bar.high), str(bar.low), str(bar.close), str(bar.volume)]
        if adjusted:
            row += [str(bar.adjusted_close), str(bar.dividend_amount)]
        if split:
            row.append(str(bar.split_coefficient))
        table.add_row(*row)
    return table


@click.command(name="fetch")
@click.argument("symbol")
@click.option(
    "--function",
    "function_name",
    type=click.Choice(list(FUNCTION_NAMES)),
    default="daily",
    show_default=True,
)
@click.option("--interval", type=click.Choice(INTRADAY_INTERVALS), help="intraday only")
@click.option("--month", metavar="YYYY-MM", help="intraday only: one month of history")
@click.option("--outputsize", type=click.Choice(["compact", "full"]), help="daily and intraday")
@click.option(
    "--format", "datatype", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@click.option("--limit", type=int, default=20, show_default=True, help="rows to show; 0 = all")
def command(
    symbol: str,
    *,
    function_name: str,
    interval: str | None,
    month: str | None,
    outputsize: str | None,
    datatype: str,
    limit: int,
) -> None:
    """Fetch SYMBOL from Alpha Vantage and print its validated bars (no database)."""
    function = FUNCTION_NAMES[function_name]
    if function is Function.INTRADAY and interval is None:
        interval = "5min"
    try:
        request = SeriesRequest(
            symbol.strip().upper(),
            function,
            outputsize=outputsize,  # type: ignore[arg-type]
            interval=interval,
            month=month,
            datatype=datatype,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    settings = load_settings_or_exit()
    configure_logging(settings)
    with AlphaVantageClient.from_settings(settings) as client:
        try:
            series = client.fetch(request)
        except AlphaVantageError as exc:
            # The message is built without the key (see stockpipe.alphavantage.errors).
            click.echo(f"stockpipe fetch: {type(exc).__name__}: {exc}", err=True)
            sys.exit(1)
        calls = client.calls_made
    # Piped output has no terminal width: keep rows whole rather than wrapped at 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(_table(series, limit))
    shown = len(series.bars) if limit <= 0 else min(limit, len(series.bars))
    skipped = ", ".join(f"{reason}={count}" for reason, count in sorted(series.skipped.items()))
    console.print(
        f"{len(series.bars)} valid bars (showing {shown}); time zone {series.time_zone}; "
        f"last refreshed {series.last_refreshed or 'n/a'}; API calls: {calls}"
    )
    console.print(f"skipped: {skipped or 'none'}")
