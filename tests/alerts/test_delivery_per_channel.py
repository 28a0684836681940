"""Delivery kept per channel: a channel that was down for a tick gets what it missed at the next
one, the channel that was up never gets it twice. A real Slack webhook receiver and a real SMTP
server (aiosmtpd), one of them down for a tick."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest

from stockpipe.alerts import AlertService, RetryPolicy
from stockpipe.alerts.channels import Email, SlackWebhook
from stockpipe.alerts.incidents import RUN_KINDS, pending
from stockpipe.store import Database
from tests.alerts.helpers import run, symbol
from tests.fixtures.alert_receivers import Certificates, SmtpReceiver, WebhookReceiver

FAST = RetryPolicy(retries=1, first_delay_sec=0.01)
ATTEMPTS = FAST.retries + 1
FAILED = "stockpipe: run of stock_job failed"
RECOVERED = "stockpipe: stock_job recovered"


@pytest.fixture
def smtp(certificates: Certificates) -> Iterator[SmtpReceiver]:
    """A plain SMTP relay on 127.0.0.1, not started: each test starts it when it is 'up'."""
    server = SmtpReceiver(certificates, security="plain")
    yield server
    if server.started:
        server.stop()


def service(db: Database, webhook: WebhookReceiver, smtp: SmtpReceiver) -> AlertService:
    email = Email(
        host="127.0.0.1",
        port=smtp.port,
        security="plain",
        sender="stockpipe@example.test",
        recipients=["ops@example.test"],
        timeout=5,
    )
    return AlertService(
        db,
        [SlackWebhook(webhook.webhook_url, timeout=5), email],
        policy=FAST,
        consecutive_runs=3,
        stale_after_hours=36,
    )


def slack_titles(webhook: WebhookReceiver) -> list[str]:
    return [r.text.splitlines()[0].strip("*") for r in webhook.delivered()]


def mail_titles(smtp: SmtpReceiver) -> list[str]:
    return [m.subject for m in smtp.mails]


def test_slack_down_for_a_tick_gets_the_alert_at_the_next_and_email_gets_it_once(
    db: Database, webhook: WebhookReceiver, smtp: SmtpReceiver
):
    smtp.start()
    alerts = service(db, webhook, smtp)
    webhook.fail_next(ATTEMPTS)  # every attempt of this tick

    alerts.observe_runs([run(symbol("IBM", "failed"))])

    assert slack_titles(webhook) == []
    assert mail_titles(smtp) == [FAILED]
    [waiting], _ = pending(db, RUN_KINDS)
    assert waiting.delivered_to == {alerts.channels[1].name}

    alerts.observe_runs([])  # the next tick: Slack answers again

    assert slack_titles(webhook) == [FAILED]
    assert mail_titles(smtp) == [FAILED]
    assert pending(db, RUN_KINDS) == ([], [])

    alerts.observe_runs([run(symbol("IBM", "loaded"))])
    assert slack_titles(webhook) == [FAILED, RECOVERED]
    assert mail_titles(smtp) == [FAILED, RECOVERED]


def test_email_down_for_a_tick_gets_the_alert_at_the_next_and_slack_gets_it_once(
    db: Database, webhook: WebhookReceiver, smtp: SmtpReceiver
):
    alerts = service(db, webhook, smtp)  # the SMTP server is not listening yet

    alerts.observe_runs([run(symbol("IBM", "failed"))])
    assert slack_titles(webhook) == [FAILED]
    assert mail_titles(smtp) == []

    smtp.start()
    alerts.observe_runs([])

    assert mail_titles(smtp) == [FAILED]
    assert slack_titles(webhook) == [FAILED]
    assert pending(db, RUN_KINDS) == ([], [])


def test_a_channel_that_missed_the_failure_gets_it_before_the_recovery(
    db: Database, webhook: WebhookReceiver, smtp: SmtpReceiver
):
    alerts = service(db, webhook, smtp)
    alerts.observe_runs([run(symbol("IBM", "failed"))])  # e-mail down: Slack alone has it

    smtp.start()
    alerts.observe_runs([run(symbol("IBM", "loaded"))])

    assert mail_titles(smtp) == [FAILED, RECOVERED]
    assert slack_titles(webhook) == [FAILED, RECOVERED]


def test_a_channel_down_for_a_day_is_given_up_for_that_alert_with_an_error(
    db: Database, webhook: WebhookReceiver, smtp: SmtpReceiver, caplog: pytest.LogCaptureFixture
):
    alerts = service(db, webhook, smtp)
    alerts.observe_runs([run(symbol("IBM", "failed"))])
    [waiting], _ = pending(db, RUN_KINDS)
    assert waiting.delivered_to == {"slack webhook"}

    alerts.send_pending(RUN_KINDS, now=waiting.pending_since + timedelta(hours=23))
    assert len(pending(db, RUN_KINDS)[0]) == 1
    with caplog.at_level(logging.ERROR, "stockpipe.alerts.service"):
        alerts.send_pending(RUN_KINDS, now=waiting.pending_since + timedelta(days=1, minutes=1))

    assert pending(db, RUN_KINDS) == ([], [])
    assert [r.getMessage() for r in caplog.records if r.name == "stockpipe.alerts.service"] == [
        f"alert of run_failed stock_job dropped: {alerts.channels[1].name} did not take it"
        " for a day"
    ]
    assert slack_titles(webhook) == [FAILED]  # never sent twice
