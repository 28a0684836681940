"""Options several commands share, defined once so their names and help stay the same."""

from __future__ import annotations

import click

from stockpipe.alphavantage import INTRADAY_INTERVALS
from stockpipe.series import SERIES_NAMES

series_option = click.option(
    "--series",
    type=click.Choice(SERIES_NAMES),
    default="daily",
    show_default=True,
    help="Which bars: daily (stock_data), weekly, monthly or intraday (stock_data_<series>).",
)
interval_option = click.option(
    "--interval",
    type=click.Choice(INTRADAY_INTERVALS),
    default=None,
    help="Intraday bar interval instead of STOCK_INTRADAY_INTERVAL (with --series intraday).",
)
