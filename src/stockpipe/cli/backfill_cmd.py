"""`stockpipe backfill`: load the history the key can reach, within the budget the scheduled
refreshes leave, resuming where the last run stopped. Same code path as the Dagster
`backfill_job` (stockpipe.ingest.backfill)."""

from __future__ import annotations

import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from stockpipe.cli import configure_logging
from stockpipe.cli.options import interval_option
from stockpipe.ingest import IngestContext
from stockpipe.ingest.backfill import (
    BackfillProgress,
    BackfillStatus,
    BackfillSummary,
    Plan,
    Preview,
    UnitResult,
    preview_backfill,
    run_backfill,
)
from stockpipe.redact import redact
from stockpipe.series import SERIES_NAMES
from stockpipe.settings import Settings, SettingsError, check_month
from stockpipe.store import DatabaseError
from stockpipe.waits import Wait, observing_waits

# As `stockpipe ingest`: 1 when something is left for later (a paused backfill is the normal
# state of a long one, but not "done"), 3 when nothing could be done.
EXIT_CODES = {
    BackfillStatus.COMPLETE: 0,
    BackfillStatus.PAUSED: 1,
    BackfillStatus.PARTIAL: 1,
    BackfillStatus.FAILED: 3,
}

_EPILOG = """\b
Exit codes:
  0  complete: every unit the key can reach is stored (or --dry-run)
  1  paused (today's budget is spent: run again tomorrow, it resumes) or some units failed
  2  bad configuration or option (the message names it)
  3  failed: units failed and none could be stored, the key was rejected, or the database
     is unreachable
"""


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_month(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(name="backfill", epilog=_EPILOG)
@click.option(
    "--series",
    "series",
    type=click.Choice(SERIES_NAMES),
    multiple=True,
    help="Which history (repeat for several); default: the series of STOCK_SERIES.",
)
@click.option("--symbols", metavar="A,B", help="Comma-separated tickers instead of STOCK_SYMBOLS.")
@click.option(
    "--since",
    metavar="YYYY-MM",
    callback=_since,
    help="First intraday month instead of BACKFILL_INTRADAY_SINCE (default: the last 12).",
)
@interval_option
@click.option(
    "--retry-unreachable",
    is_flag=True,
    help="Ask again for history this key was refused (premium), e.g. after an upgrade.",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (units, calls, days at this budget); no call."
)
def command(series: tuple[str, ...], symbols: str | None, **options: object) -> None:
    """Fetch the history each symbol and series still lacks, one call per unit: daily full
    (premium; a free key gets compact only), weekly and monthly full history, intraday month
    by month.

    Spends only API_DAILY_BUDGET minus BACKFILL_RESERVE_CALLS (kept for the scheduled
    refreshes) minus today's calls; then stops, and the next run resumes where it stopped
    without fetching a stored unit again. History the key cannot reach is reported once.
    """
    interval, since = options["interval"], options["since"]
    settings, chosen = _load(symbols, interval if isinstance(interval, str) else None)
    configure_logging(settings)
    scope = _Scope(chosen, series or None, since if isinstance(since, str) else None)
    retry = bool(options["retry_unreachable"])
    try:
        with IngestContext.from_settings(settings) as context:
            if options["dry_run"]:
                _print_preview(
                    preview_backfill(
                        context, symbols=scope.symbols, series=scope.series, since=scope.since,
                        retry_unreachable=retry,
                    )
                )  # fmt: skip
                return
            summary = _run(context, scope, retry)
    except DatabaseError as exc:
        click.echo(f"stockpipe backfill: {redact(str(exc), settings.secrets)}", err=True)
        sys.exit(3)
    _print_summary(summary)
    sys.exit(EXIT_CODES[summary.status])


@dataclass(frozen=True, slots=True)
class _Scope:
    symbols: tuple[str, ...] | None
    series: tuple[str, ...] | None
    since: str | None


def _load(symbols: str | None, interval: str | None) -> tuple[Settings, tuple[str, ...] | None]:
    """The settings, and the --symbols list checked like STOCK_SYMBOLS. STOCK_SYMBOLS itself
    stays as configured: the reserve is for the refresh of every configured symbol."""
    overrides = {"STOCK_INTRADAY_INTERVAL": interval} if interval else {}
    try:
        settings = Settings.load(**overrides)
        chosen = Settings.load(STOCK_SYMBOLS=symbols).stock_symbols if symbols else None
    except SettingsError as exc:
        click.echo(f"stockpipe: {exc}", err=True)
        sys.exit(2)
    return settings, chosen


def _run(context: IngestContext, scope: _Scope, retry: bool) -> BackfillSummary:
    stderr = Console(stderr=True)
    with Progress(
        TextColumn("[bold]backfill"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=stderr,
        disable=not stderr.is_terminal,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=None)
        line = BackfillStatusLine()

        def show(result: UnitResult, where: BackfillProgress) -> None:
            text = f"{result.unit.label}: {result.status.value} | {where.describe()}"
            if stderr.is_terminal:
                line.unit(text)
                progress.update(
                    task,
                    total=where.total,
                    completed=where.done,
                    description=line.text(time.monotonic()),
                )
            else:  # a log or a pipe: one line per unit instead of a redrawn bar
                click.echo(f"backfill {text}", err=True)

        def waiting(wait: Wait) -> None:
            line.waiting(wait, time.monotonic())
            progress.update(task, description=line.text(time.monotonic()))

        with observing_waits(waiting) if stderr.is_terminal else nullcontext():
            return run_backfill(
                context, symbols=scope.symbols, series=scope.series, since=scope.since,
                retry_unreachable=retry, on_unit=show,
            )  # fmt: skip


class BackfillStatusLine:
    """The bar's text: the last unit's line, and in front of it a wait that has not ended.

    Units run on worker threads, so the next unit's wait can be announced before the line of
    the unit before it arrives; that line must not hide the wait."""

    def __init__(self) -> None:
        self._line = ""
        self._wait = ""
        self._wait_ends = 0.0

    def unit(self, line: str) -> None:
        self._line = line

    def waiting(self, wait: Wait, now: float) -> None:
        self._wait, self._wait_ends = wait.describe(), now + wait.seconds

    def text(self, now: float) -> str:
        wait = self._wait if now < self._wait_ends else ""
        return " | ".join(part for part in (wait, self._line) if part)


def _symbol_table(title: str, plan: Plan, calls: dict[str, int] | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("symbol", "done", "left", "unreachable", "intraday months left"):
        table.add_column(name, justify="left" if name == "symbol" else "right")
    if calls is not None:
        table.add_column("calls", justify="right")
    for symbol in dict.fromkeys(u.symbol for u in plan.units):
        counts = [
            sum(1 for u in units if u.symbol == symbol)
            for units in (plan.settled, plan.todo, plan.unreachable)
        ]
        months = sum(1 for u in plan.todo if u.symbol == symbol and u.month is not None)
        row = [symbol, *map(str, counts), str(months)]
        table.add_row(*row, *([str(calls.get(symbol, 0))] if calls is not None else []))
    return table


def _print_preview(preview: Preview) -> None:
    plan, progress = preview.plan, preview.progress
    _console().print(_symbol_table("backfill plan (dry run)", plan))
    for unit in plan.todo:
        click.echo(f"to fetch: {unit.label}")
    click.echo(f"plan: {plan.calls} calls for {len(plan.todo)} units; {progress.describe()}")


def _print_summary(summary: BackfillSummary) -> None:
    calls = {symbol: tally.calls for symbol, tally in summary.by_symbol().items()}
    title = f"backfill: {summary.status.value}"
    _console().print(_symbol_table(title, summary.final_plan, calls))
    # The same line the logs and Dagster carry: easy to grep, never cut by the terminal width.
    click.echo(summary.message)


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=200)
