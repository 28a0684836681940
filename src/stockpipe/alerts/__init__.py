"""Alerts: finished runs and stale data -> incidents in PostgreSQL -> Slack and e-mail.

Orchestrator-free, like the rest of the library: the Dagster sensors (stockpipe.defs.alerts)
translate runs into `FinishedRun`s and call `AlertService`; `stockpipe alerts test` uses the
channels directly.

    model       FinishedRun, SymbolOutcome, CheckOutcome, StaleSymbol: what the rules read
    incidents   the rules (open / still open / recovered, one alert per incident), in PostgreSQL
    freshness   which configured symbols are stale, per series of STOCK_SERIES
    render      incidents -> messages (secrets redacted)
    channels    Slack incoming webhook, Slack bot (chat.postMessage), SMTP
    delivery    every channel, retried with backoff, never raises
    service     the above in order, as one call per sensor tick
"""

from stockpipe.alerts.channels import Channel, DeliveryError, channels_from_settings
from stockpipe.alerts.delivery import ChannelOutcome, RetryPolicy, deliver
from stockpipe.alerts.model import CheckOutcome, FinishedRun, StaleSymbol, SymbolOutcome
from stockpipe.alerts.render import Message
from stockpipe.alerts.service import AlertService

__all__ = [
    "AlertService",
    "Channel",
    "ChannelOutcome",
    "CheckOutcome",
    "DeliveryError",
    "FinishedRun",
    "Message",
    "RetryPolicy",
    "StaleSymbol",
    "SymbolOutcome",
    "channels_from_settings",
    "deliver",
]
