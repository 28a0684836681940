"""Alert settings: channels parsed, bad values stop start-up naming the variable, secrets masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockpipe.settings import Settings, SettingsError
from tests.fixtures.environment import isolate_from_environment

WEBHOOK = "https://hooks.slack.com/services/T0001/B0002/Zx81webhooksecret"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_from_environment(monkeypatch, tmp_path)


def test_nothing_configured_means_no_channel_and_no_error() -> None:
    settings = Settings.load()
    assert settings.alert_slack_webhook_url is None
    assert settings.alert_slack_bot_token is None
    assert settings.alert_email_to == ()
    assert settings.alert_smtp_security == "starttls"
    assert settings.alert_consecutive_runs == 3
    assert settings.alert_stale_after_hours == 36
    assert settings.ui_url == "http://127.0.0.1:3000"


def test_recipients_are_split_and_deduplicated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_EMAIL_TO", " ops@example.test, oncall@example.test,ops@example.test")
    monkeypatch.setenv("ALERT_SMTP_HOST", "smtp.example.test")
    assert Settings.load().alert_email_to == ("ops@example.test", "oncall@example.test")


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"ALERT_SLACK_WEBHOOK_URL": "hooks.slack.com/x"},
            "ALERT_SLACK_WEBHOOK_URL: is not an http(s) URL",
        ),
        (
            {"ALERT_SLACK_API_URL": "slack"},
            "ALERT_SLACK_API_URL='slack': 'slack' is not an http(s) URL",
        ),
        (
            {"STOCKPIPE_UI_URL": "localhost:3000"},
            "STOCKPIPE_UI_URL='localhost:3000': 'localhost:3000' is not",
        ),
        (
            {"ALERT_SMTP_SECURITY": "tls"},
            "ALERT_SMTP_SECURITY='tls': should be 'starttls', 'ssl' or 'plain'",
        ),
        ({"ALERT_SMTP_PORT": "smtp"}, "ALERT_SMTP_PORT='smtp': should be a valid integer"),
        ({"ALERT_SMTP_PORT": "0"}, "ALERT_SMTP_PORT='0': should be greater than or equal to 1"),
        (
            {"ALERT_EMAIL_TO": "ops", "ALERT_SMTP_HOST": "h"},
            "ALERT_EMAIL_TO='ops': 'ops' is not an e-mail address",
        ),
        (
            {"ALERT_EMAIL_TO": "ops@example.test"},
            "ALERT_SMTP_HOST: required when ALERT_EMAIL_TO is set",
        ),
        (
            {"ALERT_SLACK_BOT_TOKEN": "xoxb-1"},
            "ALERT_SLACK_CHANNEL: required with the other of the Slack bot pair",
        ),
        (
            {"ALERT_SLACK_CHANNEL": "#ops"},
            "ALERT_SLACK_BOT_TOKEN: required with the other of the Slack bot pair",
        ),
        (
            {"ALERT_SMTP_PASSWORD": "pw"},
            "ALERT_SMTP_USER: required when ALERT_SMTP_PASSWORD is set",
        ),
        (
            {"ALERT_CONSECUTIVE_RUNS": "0"},
            "ALERT_CONSECUTIVE_RUNS='0': should be greater than or equal to 1",
        ),
        (
            {"ALERT_STALE_AFTER_HOURS": "soon"},
            "ALERT_STALE_AFTER_HOURS='soon': should be a valid number",
        ),
        ({"ALERT_RETRIES": "11"}, "ALERT_RETRIES='11': should be less than or equal to 10"),
    ],
    ids=[
        "a webhook without a scheme",
        "a slack api url that is no url",
        "a ui url without a scheme",
        "an unknown smtp security mode",
        "a port that is not a number",
        "port zero",
        "a recipient without an at sign",
        "recipients without a server",
        "a bot token without a channel",
        "a channel without a bot token",
        "a password without a user",
        "zero consecutive runs",
        "a window that is not a number",
        "more retries than the tick has time for",
    ],
)
def test_a_bad_alert_setting_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as info:
        Settings.load()

    assert message in str(info.value)


def test_a_malformed_webhook_is_rejected_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "ALERT_SLACK_WEBHOOK_URL", "hooks.slack.com/services/T1/B2/Zx81webhooksecret"
    )
    with pytest.raises(SettingsError) as info:
        Settings.load()
    assert "Zx81webhooksecret" not in str(info.value)


def test_tokens_passwords_and_the_webhook_are_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_SLACK_WEBHOOK_URL", WEBHOOK)
    monkeypatch.setenv("ALERT_SLACK_BOT_TOKEN", "xoxb-token-123456")
    monkeypatch.setenv("ALERT_SLACK_CHANNEL", "#ops")
    monkeypatch.setenv("ALERT_EMAIL_TO", "ops@example.test")
    monkeypatch.setenv("ALERT_SMTP_HOST", "smtp.example.test")
    monkeypatch.setenv("ALERT_SMTP_USER", "ops")
    monkeypatch.setenv("ALERT_SMTP_PASSWORD", "smtp-pw-99")

    secrets = Settings.load().secrets

    assert {
        WEBHOOK,
        "/services/T0001/B0002/Zx81webhooksecret",
        "xoxb-token-123456",
        "smtp-pw-99",
    } <= set(secrets)
    assert "Zx81webhooksecret" not in repr(Settings.load())
