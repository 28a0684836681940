"""`stockpipe alerts test`: send a test message to every configured channel, say what happened."""

from __future__ import annotations

import socket
import sys
from datetime import UTC, datetime

import click

from stockpipe.alerts import RetryPolicy, channels_from_settings, deliver
from stockpipe.alerts.render import test_alert_message
from stockpipe.cli import configure_logging, load_settings_or_exit

# The same backoff as the sensors' deliveries, so a test shows what an alert would meet.
FIRST_RETRY_DELAY_SEC = 1.0
NO_CHANNEL = (
    "no alert channel is configured: set ALERT_SLACK_WEBHOOK_URL, ALERT_SLACK_BOT_TOKEN with "
    "ALERT_SLACK_CHANNEL, or ALERT_EMAIL_TO with ALERT_SMTP_HOST (see docs/operations.md)"
)


@click.group(name="alerts")
def command() -> None:
    """Slack and e-mail alerts (the Dagster daemon sends them; see docs/operations.md)."""


@command.command(name="test")
def test_command() -> None:
    """Send a test message to every configured channel and report each outcome.

    Exit code 0 when every channel took it, 1 when one did not (or none is configured),
    2 for a bad configuration. Failures are retried ALERT_RETRIES times with backoff first.
    """
    settings = load_settings_or_exit()
    configure_logging(settings)
    channels = channels_from_settings(settings)
    if not channels:
        click.echo(f"stockpipe alerts test: {NO_CHANNEL}", err=True)
        sys.exit(1)
    moment = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    message = test_alert_message(socket.gethostname(), moment).redacted(settings.secrets)
    policy = RetryPolicy(retries=settings.alert_retries, first_delay_sec=FIRST_RETRY_DELAY_SEC)
    outcomes = deliver(message, channels, policy, secrets=settings.secrets)
    for outcome in outcomes:
        tries = "1 attempt" if outcome.attempts == 1 else f"{outcome.attempts} attempts"
        if outcome.delivered:
            click.echo(f"{outcome.channel}: delivered ({tries})")
        else:
            click.echo(f"{outcome.channel}: NOT delivered after {tries}: {outcome.error}")
    if not all(outcome.delivered for outcome in outcomes):
        sys.exit(1)
