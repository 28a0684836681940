"""`stockpipe alerts test` against a real webhook receiver and a real SMTP server."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from stockpipe.cli import main
from stockpipe.store.embedded import free_port
from tests.fixtures.alert_receivers import (
    SMTP_PASSWORD,
    SMTP_USER,
    Certificates,
    SmtpReceiver,
    WebhookReceiver,
    trust,
)
from tests.fixtures.environment import isolate_from_environment


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    isolate_from_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("ALERT_RETRIES", "0")
    return monkeypatch


def email_env(env: pytest.MonkeyPatch, server: SmtpReceiver, password: str) -> None:
    env.setenv("ALERT_EMAIL_TO", "ops@example.test")
    env.setenv("ALERT_EMAIL_FROM", "stockpipe@example.test")
    env.setenv("ALERT_SMTP_HOST", "127.0.0.1")
    env.setenv("ALERT_SMTP_PORT", str(server.port))
    env.setenv("ALERT_SMTP_SECURITY", "starttls")
    env.setenv("ALERT_SMTP_USER", SMTP_USER)
    env.setenv("ALERT_SMTP_PASSWORD", password)


def test_every_channel_gets_the_test_message_and_each_outcome_is_printed(
    env: pytest.MonkeyPatch,
    webhook: WebhookReceiver,
    smtp_starttls: SmtpReceiver,
    certificates: Certificates,
):
    trust(certificates, env)
    env.setenv("ALERT_SLACK_WEBHOOK_URL", webhook.webhook_url)
    email_env(env, smtp_starttls, SMTP_PASSWORD)

    result = CliRunner().invoke(main, ["alerts", "test"])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "slack webhook: delivered (1 attempt)",
        f"email to ops@example.test via 127.0.0.1:{smtp_starttls.port} (starttls): delivered"
        " (1 attempt)",
    ]
    [post] = webhook.delivered()
    assert post.text.startswith(
        "*stockpipe: test alert*\nA test message from `stockpipe alerts test`"
    )
    [mail] = smtp_starttls.mails
    assert mail.subject == "stockpipe: test alert"
    assert mail.login == SMTP_USER


def test_a_refused_login_is_reported_with_exit_code_1_and_no_password(
    env: pytest.MonkeyPatch,
    webhook: WebhookReceiver,
    smtp_starttls: SmtpReceiver,
    certificates: Certificates,
):
    trust(certificates, env)
    env.setenv("ALERT_SLACK_WEBHOOK_URL", webhook.webhook_url)
    email_env(env, smtp_starttls, "not-the-Pa55word")

    result = CliRunner().invoke(main, ["alerts", "test"])

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "slack webhook: delivered (1 attempt)"
    assert lines[1].startswith(
        f"email to ops@example.test via 127.0.0.1:{smtp_starttls.port} (starttls): NOT delivered"
        " after 1 attempt: SMTPAuthenticationError: (535"
    )
    assert "not-the-Pa55word" not in result.output


def test_an_unreachable_webhook_is_reported_without_its_secret_path(env: pytest.MonkeyPatch):
    env.setenv(
        "ALERT_SLACK_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/services/T1/B2/s3cretPath99"
    )

    result = CliRunner().invoke(main, ["alerts", "test"])

    assert result.exit_code == 1
    assert result.stdout.startswith("slack webhook: NOT delivered after 1 attempt: ConnectionError")
    assert "s3cretPath99" not in result.output


def test_without_a_channel_it_says_how_to_configure_one(env: pytest.MonkeyPatch):
    result = CliRunner().invoke(main, ["alerts", "test"])

    assert result.exit_code == 1
    assert "no alert channel is configured: set ALERT_SLACK_WEBHOOK_URL" in result.output


def test_a_bad_security_mode_stops_it_naming_the_variable(env: pytest.MonkeyPatch):
    env.setenv("ALERT_SMTP_SECURITY", "tls")

    result = CliRunner().invoke(main, ["alerts", "test"])

    assert result.exit_code == 2
    assert result.output == (
        "stockpipe: invalid configuration: ALERT_SMTP_SECURITY='tls': should be 'starttls',"
        " 'ssl' or 'plain'\n"
    )
