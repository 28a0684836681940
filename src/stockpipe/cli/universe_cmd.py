"""`stockpipe universe`: refresh Alpha Vantage's listing (LISTING_STATUS) and show the universe."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta

import click
from rich.console import Console
from rich.table import Table

from stockpipe.cli import configure_logging, load_settings_or_exit
from stockpipe.ingest import IngestContext
from stockpipe.ingest.universe import LISTING_CALLS, describe_refresh, refresh_listing
from stockpipe.ingest.universe_report import (
    DryRun,
    UniverseView,
    describe_listing,
    dry_run,
    reused_line,
    universe_view,
)
from stockpipe.quota import budget_info, quota_day
from stockpipe.redact import redact
from stockpipe.settings import Settings
from stockpipe.store import DatabaseError

SHOWN = 20  # listings named per list; the rest are counted
_EPILOG = """\b
Exit codes:
  0  the listing was refreshed (or already was today), or the dry run was shown
  1  the refresh failed (budget, rate limit, a broken answer): the stored listing is kept
  2  bad configuration (the message names the variable)
  3  the database is unreachable
"""


@click.command(name="universe", epilog=_EPILOG)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="List listings and delistings from this date on (YYYY-MM-DD; default: 7 days ago).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="No call: what a refresh would cost, and what the next run does with the stored"
    " listing (which symbols it starts loading, which it stops calling).",
)
@click.option(
    "--force", is_flag=True, help="Refresh even if the listing was refreshed today (2 calls)."
)
def command(since: datetime | None, dry_run: bool, force: bool) -> None:
    """Refresh the listing from LISTING_STATUS (state=active and state=delisted: two calls,
    at most once a day unless --force) into stock_listing, then show the universe: active
    listings by exchange and asset type, which of them STOCK_UNIVERSE_EXCHANGES and
    STOCK_UNIVERSE_ASSET_TYPES track, listings and delistings since --since, re-used tickers.

    With STOCK_UNIVERSE=symbols the pipeline follows STOCK_SYMBOLS; the listing shown is what
    STOCK_UNIVERSE=listing would track. A dry run cannot know what Alpha Vantage will add or
    delist (only the call can): it shows the stored listing, the refresh's cost and today's
    budget, and what the next run would start loading or stop calling.
    """
    settings = load_settings_or_exit()
    configure_logging(settings)
    exit_code = 0
    try:
        with IngestContext.from_settings(settings) as ctx:
            today = quota_day(ctx.clock.now())
            start = since.date() if since else today - timedelta(days=7)
            if dry_run:
                view = universe_view(ctx.db, settings)
                plan = _dry_run_lines(ctx, view, today)
            else:
                refresh = refresh_listing(ctx, force=force)
                plan = [describe_refresh(refresh)]
                exit_code = 1 if refresh.status == "failed" else 0
                view = universe_view(ctx.db, settings)
    except DatabaseError as exc:
        click.echo(f"stockpipe universe: {redact(str(exc), settings.secrets)}", err=True)
        sys.exit(3)
    _print_view(view, settings, start)
    for line in plan:
        click.echo(line)
    sys.exit(exit_code)


def _dry_run_lines(ctx: IngestContext, view: UniverseView, today: date) -> list[str]:
    plan: DryRun = dry_run(ctx.db, view, today)
    budget = budget_info(ctx.db, ctx.settings, now=ctx.clock.now())
    stored = f"stored listing of {view.refresh.day}" if view.refresh else "no listing stored yet"
    lines = [f"dry run: no call made; {stored}."]
    if plan.refresh_due:
        lines.append(
            f"a refresh is due for {today}: {LISTING_CALLS} API calls (state=active,"
            f" state=delisted); {budget.remaining} of {budget.budget} calls left today. What it"
            " adds or delists only Alpha Vantage knows until then."
        )
    else:
        lines.append(f"the listing was refreshed for {today}: the next run makes no listing call")
    if ctx.settings.stock_universe != "listing":
        lines.append("STOCK_UNIVERSE=symbols: runs follow STOCK_SYMBOLS, not this listing.")
        return lines
    lines.append(
        f"next run with the stored listing: {len(plan.start_loading):,} tracked symbols with no"
        f" bars yet would be loaded{_names(plan.start_loading)}"
    )
    stopped = [f"{symbol} ({why})" for symbol, why in plan.stopped]
    lines.append(
        f"{len(stopped):,} symbols with stored bars are no longer tracked and cost no call"
        f" (history kept){_names(stopped)}"
    )
    return lines


def _names(items: list[str] | tuple[str, ...]) -> str:
    if not items:
        return ""
    more = f", and {len(items) - SHOWN:,} more" if len(items) > SHOWN else ""
    return ": " + ", ".join(items[:SHOWN]) + more


def _print_view(view: UniverseView, settings: Settings, since: date) -> None:
    exchanges = ", ".join(view.exchanges) or "all"
    refreshed = f"listing of {view.refresh.day}" if view.refresh else "no listing stored"
    click.echo(
        f"universe: STOCK_UNIVERSE={settings.stock_universe}; {refreshed}; exchanges:"
        f" {exchanges}; asset types: {', '.join(view.asset_types)}"
    )
    table = Table(title="active listings", title_justify="left")
    for name in ("exchange", "asset type", "listings", "tracked"):
        table.add_column(name, justify="right" if name == "listings" else "left")
    for exchange, kind, count, tracked in view.counts():
        table.add_row(exchange, kind, f"{count:,}", "yes" if tracked else "no")
    console = Console()
    (console if console.is_terminal else Console(width=200)).print(table)
    if settings.stock_universe == "listing":
        click.echo(f"tracked: {len(view.tracked):,} symbols")
    listed = [describe_listing(i) for i in view.listed_since(since)]
    delisted = [describe_listing(i) for i in view.delisted_since(since)]
    click.echo(f"listed since {since}: {len(listed):,}{_names(listed)}")
    click.echo(f"delisted since {since}: {len(delisted):,}{_names(delisted)}")
    reused = [
        reused_line(symbol, companies)
        for symbol, companies in view.reused().items()
        if any(c.ipo_date >= since or (c.delisting_date or date.min) >= since for c in companies)
    ]
    for line in reused[:SHOWN]:
        click.echo(line)
