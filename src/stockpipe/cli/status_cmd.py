"""`stockpipe status`: what is stored per symbol, and today's API spend against the budget."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import click
from rich.console import Console
from rich.table import Table

from stockpipe.cli import configure_logging, load_settings_or_exit
from stockpipe.cli.bar_changes_view import SHOWN, bar_changes_table
from stockpipe.cli.moments import local_time
from stockpipe.cli.options import interval_option, series_option
from stockpipe.cli.plain_table import RICH_UP_TO, plain_table
from stockpipe.ingest.gaps import describe_missing, describe_vendor_missing, full_history_allowed
from stockpipe.ingest.overview import SymbolOverview, stored_symbols, symbol_overview
from stockpipe.ingest.premium import active_denial
from stockpipe.ingest.rejection import RETRY_HINT, Rejection
from stockpipe.ingest.state import SymbolState
from stockpipe.ingest.universe import symbols as universe_symbols
from stockpipe.ingest.universe_report import listing_lines
from stockpipe.market_calendar import latest_completed_session
from stockpipe.quota import BudgetInfo, budget_info
from stockpipe.redact import redact
from stockpipe.series import DAILY, Series, series_named
from stockpipe.store import Database, DatabaseError
from stockpipe.store.bar_changes import recent_bar_changes


@click.command(name="status")
@click.option(
    "--symbols",
    metavar="A,B",
    help="Only these tickers (default: the universe, STOCK_SYMBOLS or the listing, plus every"
    " symbol already stored).",
)
@series_option
@interval_option
@click.option(
    "--changes",
    is_flag=True,
    help="Also list the latest daily bars a re-fetch corrected (old -> new).",
)
def command(symbols: str | None, series: str, interval: str | None, changes: bool) -> None:
    """Per symbol: rows, first and last bar, missing sessions (weeks, months), last ingest
    result; and the API calls spent today (Alpha Vantage's day, US/Eastern) against
    API_DAILY_BUDGET.

    Missing sessions are NYSE trading days with no bar: between the first and the last stored
    bar, plus those after the last bar up to the latest completed session; sessions Alpha
    Vantage has no bar for (a halted stock) are not counted. Daily missing sessions are listed
    below the table, marked repairable by the next daily refresh (compact or full) or premium
    history only. For weekly and monthly bars they are weeks (months) holding sessions but no row.
    """
    settings = load_settings_or_exit()
    configure_logging(settings)
    target = latest_completed_session()
    described = series_named(series)
    chosen = interval or settings.stock_intraday_interval
    shown_interval = chosen if described.table.per_interval else None
    try:
        with Database.from_settings(settings) as db:
            if symbols:
                wanted = [s.strip().upper() for s in symbols.split(",") if s.strip()]
            else:
                stored = stored_symbols(db, described)
                wanted = list(dict.fromkeys([*universe_symbols(db, settings), *stored]))
            overviews = symbol_overview(
                db, wanted, target=target, series=described, interval=shown_interval
            )
            budget = budget_info(db, settings)
            _, denied = active_denial(db, settings, described, datetime.now(UTC))
            corrected = recent_bar_changes(db, wanted, limit=SHOWN) if changes else None
            listed = listing_lines(db, wanted)
    except DatabaseError as exc:
        click.echo(f"stockpipe status: {redact(str(exc), settings.secrets)}", err=True)
        sys.exit(3)
    console = _console()
    title, rows = _symbol_rows(overviews, target, described, shown_interval)
    if len(rows) > RICH_UP_TO:
        click.echo(plain_table(title, COLUMNS, rows, right=frozenset({"rows", "missing"})))
    else:
        console.print(_symbol_table(title, rows))
    full_allowed = full_history_allowed(settings.api_output_size, budget.full_history_denied)
    for line in _gap_lines(overviews, target, full_allowed):
        click.echo(line)
    for line in _rejection_lines(overviews, settings.api_rejected_symbol_retry_days):
        click.echo(line)
    for line in listed:
        click.echo(line)
    if denied:
        click.echo(denied)
    click.echo(_budget_line(budget))
    if corrected is not None:
        console.print(bar_changes_table(corrected))


COLUMNS = ("symbol", "rows", "first bar", "last bar", "missing", "last result", "when", "message")


def _symbol_rows(
    overviews: list[SymbolOverview],
    target: date,
    series: Series = DAILY,
    interval: str | None = None,
) -> tuple[str, list[list[str]]]:
    name = series.table.name + (f" ({interval})" if interval else "")
    title = f"{name} (latest completed session: {target})"
    intraday = series.table.per_interval
    rows = []
    for o in overviews:
        state = o.state
        first = _when(o.first_ts) if intraday and o.first_ts else str(o.first_bar or "-")
        last = _when(o.last_ts) if intraday and o.last_ts else str(o.last_bar or "-")
        if o.provisional:
            last += " (open)"
        rows.append(
            [
                o.symbol,
                str(o.rows),
                first,
                last,
                "-" if o.missing is None else str(o.missing),
                _last_result(state) if state else "never run",
                _when(state.last_attempt_at) if state else "-",
                state.last_message if state else "",
            ]
        )
    return title, rows


def _symbol_table(title: str, rows: list[list[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in COLUMNS[:-1]:
        table.add_column(column, justify="right" if column in ("rows", "missing") else "left")
    table.add_column(COLUMNS[-1], overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _last_result(state: SymbolState) -> str:
    suffix = " (rejected)" if state.rejected_at is not None else ""
    return state.last_status.value + suffix


def _gap_lines(overviews: list[SymbolOverview], target: date, full_allowed: bool) -> list[str]:
    """Per daily symbol: its missing sessions by what repairs them, and those the vendor lacks."""
    lines = []
    for o in overviews:
        if o.gaps is not None:
            described = describe_missing(o.gaps, target, full_allowed=full_allowed)
            lines += [line for line in (described, describe_vendor_missing(o.gaps)) if line]
    return lines


def _rejection_lines(overviews: list[SymbolOverview], retry_days: int) -> list[str]:
    """One line per symbol Alpha Vantage rejected: when, until when it costs no call, what to do."""
    lines = []
    for o in overviews:
        if o.state is None or o.state.rejected_at is None:
            continue
        rejection = Rejection(o.symbol, o.state.rejected_at, o.state.rejected_reason)
        lines.append(
            f"{o.symbol}: rejected by Alpha Vantage as an invalid symbol on {rejection.day};"
            f" no call before {rejection.retry_day(retry_days)}. {RETRY_HINT}"
        )
    return lines


def _when(moment: datetime) -> str:
    return local_time(moment)


def _budget_line(budget: BudgetInfo) -> str:
    spend = (
        f"{budget.calls_today} (no daily cap"
        if budget.budget is None
        else f"{budget.calls_today} of {budget.budget} ({budget.remaining} left"
    )
    line = (
        f"API calls today: {spend}; Alpha Vantage day {budget.day}, US/Eastern;"
        f" key {budget.key_fingerprint})"
    )
    notes = []
    if budget.day_exhausted:
        notes.append("Alpha Vantage reported today's quota spent")
    if budget.full_history_denied:
        notes.append("this key gets compact history only (outputsize=full is premium)")
    elif budget.full_history_granted_at is not None:
        notes.append(
            "this key gets full history (outputsize=full answered"
            f" {_when(budget.full_history_granted_at)})"
        )
    if budget.slowed_until is not None:
        notes.append(f"calls slowed after a rate limit until {_when(budget.slowed_until)}")
    return line + "".join(f"\n  {note}" for note in notes)


def _console() -> Console:
    # Piped into a file or a log, the table keeps whole cells instead of the 80-column default.
    console = Console()
    return console if console.is_terminal else Console(width=200)
