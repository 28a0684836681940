"""Delivery: retried with backoff, logged with the reason, never raised into the caller."""

from __future__ import annotations

import logging

import pytest

from stockpipe.alerts.channels import Email, SlackWebhook
from stockpipe.alerts.delivery import ChannelOutcome, RetryPolicy, deliver
from stockpipe.alerts.render import Message
from stockpipe.store.embedded import free_port
from tests.fixtures.alert_receivers import SMTP_PASSWORD, WEBHOOK_PATH, WebhookReceiver

MESSAGE = Message("stockpipe: test", ("line",))
FAST = RetryPolicy(retries=3, first_delay_sec=0.01)


def test_a_webhook_answering_500_three_times_then_200_gets_the_message_once(
    webhook: WebhookReceiver, caplog: pytest.LogCaptureFixture
):
    webhook.fail_next(3)
    waits: list[float] = []

    [outcome] = deliver(
        MESSAGE, [SlackWebhook(webhook.webhook_url, timeout=5)], FAST, sleep=waits.append
    )

    assert outcome == ChannelOutcome("slack webhook", delivered=True, attempts=4)
    assert [r.status for r in webhook.requests] == [500, 500, 500, 200]
    assert len(webhook.delivered()) == 1
    assert waits == [0.01, 0.02, 0.04]  # exponential backoff between the attempts
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(retries) == 3
    assert "failed (attempt 1 of 4): HTTP 500: internal_error; retrying in 0.0 s" in retries[0]


def test_the_backoff_doubles_up_to_its_cap():
    policy = RetryPolicy(retries=6, first_delay_sec=1.0, max_delay_sec=10.0)
    assert [policy.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_a_channel_that_never_answers_is_reported_and_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
):
    url = f"http://127.0.0.1:{free_port()}{WEBHOOK_PATH}"

    [outcome] = deliver(
        MESSAGE, [SlackWebhook(url, timeout=2)], FAST, secrets=[url], sleep=lambda _: None
    )

    assert not outcome.delivered
    assert outcome.attempts == 4
    assert outcome.error.startswith("ConnectionError: ")
    [final] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "not delivered after 4 attempts: ConnectionError" in final
    assert "Zx81webhooksecret" not in caplog.text


def test_a_receiver_that_times_out_is_retried_then_given_up(webhook: WebhookReceiver):
    release = webhook.hang()
    try:
        policy = RetryPolicy(retries=1, first_delay_sec=0.01)
        [outcome] = deliver(MESSAGE, [SlackWebhook(webhook.webhook_url, timeout=0.3)], policy)
    finally:
        release.set()

    assert not outcome.delivered
    assert outcome.attempts == 2
    assert outcome.error.startswith("ReadTimeout: ")


def test_one_failing_channel_does_not_keep_the_other_from_delivering(webhook: WebhookReceiver):
    refused = Email(
        host="127.0.0.1",
        port=free_port(),
        security="plain",
        sender="stockpipe@example.test",
        recipients=["ops@example.test"],
        user="ops",
        password=SMTP_PASSWORD,
        timeout=2,
    )

    outcomes = deliver(
        MESSAGE, [refused, SlackWebhook(webhook.webhook_url, timeout=5)], FAST, sleep=lambda _: None
    )

    assert [(o.delivered, o.attempts) for o in outcomes] == [(False, 4), (True, 1)]
    assert outcomes[0].error.startswith("ConnectionRefusedError: ")
    assert len(webhook.delivered()) == 1


def test_no_channel_means_nothing_to_do():
    assert deliver(MESSAGE, [], FAST) == []


def test_no_retry_starts_after_the_deadline(
    webhook: WebhookReceiver, caplog: pytest.LogCaptureFixture
):
    webhook.fail_next(5)
    policy = RetryPolicy(retries=5, first_delay_sec=0.01, deadline_sec=0.0)

    [outcome] = deliver(MESSAGE, [SlackWebhook(webhook.webhook_url, timeout=5)], policy)

    assert (outcome.delivered, outcome.attempts) == (False, 1)
    assert len(webhook.requests) == 1
    assert "HTTP 500: internal_error; no time left to retry" in caplog.text
