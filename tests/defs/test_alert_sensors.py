"""The alert sensors inside Dagster: real stock_job runs on a test instance, the sensor ticked
as the daemon would tick it, the messages caught by a real HTTP receiver."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster_shared.serdes import serialize_value

from stockpipe.defs.alerts import FRESHNESS_SENSOR, RUN_SENSOR
from stockpipe.market_calendar import latest_completed_session
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.faults import Fault
from tests.defs.conftest import load_definitions, run_stock_job
from tests.fixtures.alert_receivers import (
    BOT_TOKEN,
    SMTP_PASSWORD,
    SMTP_USER,
    Certificates,
    SmtpReceiver,
    WebhookReceiver,
    trust,
)

UI_URL = "http://dagster.example.test:3000"


@pytest.fixture
def alert_env(
    pipeline_env: pytest.MonkeyPatch, webhook: WebhookReceiver, fake_av_env: FakeAlphaVantage
) -> pytest.MonkeyPatch:
    pipeline_env.setenv("STOCK_SYMBOLS", "IBM,MSFT")
    pipeline_env.setenv("API_MAX_RETRIES", "0")
    pipeline_env.setenv("ALERT_SLACK_WEBHOOK_URL", webhook.webhook_url)
    pipeline_env.setenv("STOCKPIPE_UI_URL", UI_URL)
    # The library's backoff, not Dagster's: shortened so three retries take milliseconds.
    pipeline_env.setattr("stockpipe.defs.alerts.FIRST_RETRY_DELAY_SEC", 0.01)
    return pipeline_env


class Daemon:
    """Ticks the run sensor the way the daemon does: same instance, cursor carried over."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance = instance
        self.defs = load_definitions()
        self.sensor = self.defs.resolve_sensor_def(RUN_SENSOR)
        self.cursor: str | None = None

    def tick(self) -> None:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            repository_def=self.defs.get_repository_def(),
        )
        self.cursor = self.sensor.evaluate_tick(context).cursor


def titles(webhook: WebhookReceiver) -> list[str]:
    return [r.text.splitlines()[0] for r in webhook.delivered()]


def test_without_a_channel_there_are_no_alert_sensors(pipeline_env: pytest.MonkeyPatch):
    assert list(load_definitions().sensors or []) == []


def test_a_channel_turns_both_sensors_on_without_showing_its_secret(
    placeholder_env: pytest.MonkeyPatch, webhook: WebhookReceiver
):
    placeholder_env.setenv("ALERT_SLACK_WEBHOOK_URL", webhook.webhook_url)
    placeholder_env.setenv("ALERT_SLACK_BOT_TOKEN", BOT_TOKEN)
    placeholder_env.setenv("ALERT_SLACK_CHANNEL", "#alerts")
    defs = load_definitions()

    for name in (RUN_SENSOR, FRESHNESS_SENSOR):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    snapshot = serialize_value(RepositorySnap.from_def(defs.get_repository_def()))
    assert "Zx81webhooksecret" not in snapshot
    assert BOT_TOKEN not in snapshot


def test_a_failing_job_alerts_once_per_incident_and_recovers(
    alert_env: pytest.MonkeyPatch,
    fake_av_env: FakeAlphaVantage,
    webhook: WebhookReceiver,
    smtp_starttls: SmtpReceiver,
    certificates: Certificates,
):
    # E-mail too: STARTTLS with a certificate from the test CA, and a login.
    trust(certificates, alert_env)
    alert_env.setenv("ALERT_EMAIL_TO", "ops@example.test")
    alert_env.setenv("ALERT_SMTP_HOST", "127.0.0.1")
    alert_env.setenv("ALERT_SMTP_PORT", str(smtp_starttls.port))
    alert_env.setenv("ALERT_SMTP_USER", SMTP_USER)
    alert_env.setenv("ALERT_SMTP_PASSWORD", SMTP_PASSWORD)
    instance = dg.DagsterInstance.ephemeral()
    daemon = Daemon(instance)
    daemon.tick()  # the sensor's first tick: it watches from here on
    fake_av_env.inject(Fault.HTTP_500, symbol="MSFT")

    failed = run_stock_job(instance)
    daemon.tick()

    assert not failed.success
    # One cause (MSFT never loaded), two incidents (the run, the freshness check): one message.
    assert titles(webhook) == ["*stockpipe: run of stock_job failed*"]
    lines = webhook.delivered()[0].text.splitlines()
    assert lines[1:4] == ["Job: stock_job", f"Run: {failed.run_id}", "Symbols: 1 loaded, 1 failed"]
    assert lines[4] == "Failed:"
    assert lines[5].startswith("  stock_data/MSFT: ")
    assert "HTTP 500" in lines[5]
    assert lines[6].startswith("Error: 2 symbols: 1 loaded, 1 failed")
    assert lines[7:9] == ["", "1 asset check failed:"]
    assert lines[9].startswith("stock_data:freshness: 1 of 2 symbols hold the session of")
    assert lines[10] == "  symbols: MSFT"
    assert lines[-1] == f"{UI_URL}/runs/{failed.run_id}"
    assert [m.subject for m in smtp_starttls.mails] == ["stockpipe: run of stock_job failed"]
    assert smtp_starttls.mails[0].body.splitlines() == lines[1:]
    assert {m.login for m in smtp_starttls.mails} == {SMTP_USER}

    assert not run_stock_job(instance).success  # the same incidents, one run later
    daemon.tick()
    assert len(webhook.delivered()) == 1
    assert len(smtp_starttls.mails) == 1

    fake_av_env.reset()
    recovered = run_stock_job(instance)
    daemon.tick()

    assert recovered.success
    assert titles(webhook)[1:] == ["*stockpipe: stock_job recovered*"]
    recovery = webhook.delivered()[1].text.splitlines()
    assert recovery[1].startswith(
        f"Run {recovered.run_id} of stock_job succeeded after 2 failed runs since "
    )
    assert recovery[2:5] == ["", "1 asset check passes again:", recovery[4]]
    assert recovery[4].startswith("stock_data:freshness: passes again")
    assert [m.subject for m in smtp_starttls.mails][1:] == ["stockpipe: stock_job recovered"]


def test_a_webhook_failing_three_times_delivers_once_and_leaves_the_run_failed(
    alert_env: pytest.MonkeyPatch,
    fake_av_env: FakeAlphaVantage,
    webhook: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
):
    instance = dg.DagsterInstance.ephemeral()
    daemon = Daemon(instance)
    daemon.tick()
    fake_av_env.inject(Fault.HTTP_500, symbol="MSFT")
    failed = run_stock_job(instance)
    webhook.fail_next(3)

    daemon.tick()

    statuses = [r.status for r in webhook.requests]
    assert statuses[:4] == [500, 500, 500, 200]
    assert titles(webhook).count("*stockpipe: run of stock_job failed*") == 1
    run = instance.get_run_by_id(failed.run_id)
    assert run is not None
    assert run.status == dg.DagsterRunStatus.FAILURE
    retried = [r.getMessage() for r in caplog.records if "failed (attempt" in r.getMessage()]
    assert len(retried) == 3
    assert "HTTP 500: internal_error" in retried[0]
    assert "Zx81webhooksecret" not in caplog.text


def test_runs_that_ended_before_the_first_tick_stay_quiet(
    alert_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage, webhook: WebhookReceiver
):
    instance = dg.DagsterInstance.ephemeral()
    fake_av_env.inject(Fault.HTTP_500, symbol="MSFT")
    assert not run_stock_job(instance).success

    daemon = Daemon(instance)
    daemon.tick()
    daemon.tick()

    assert webhook.delivered() == []


FRESHNESS_INTERVAL_DOC = "every 5 minutes, or this interval if longer"


@pytest.mark.parametrize(
    ("interval", "expected"), [(60, 300), (900, 900)], ids=["a minute: 5 min", "15 min: 15 min"]
)
def test_the_freshness_sensor_runs_every_5_minutes_or_the_interval_if_longer_as_the_docs_say(
    placeholder_env: pytest.MonkeyPatch, webhook: WebhookReceiver, interval: int, expected: int
):
    placeholder_env.setenv("ALERT_SLACK_WEBHOOK_URL", webhook.webhook_url)
    placeholder_env.setenv("ALERT_SENSOR_INTERVAL_SEC", str(interval))

    sensor = load_definitions().resolve_sensor_def(FRESHNESS_SENSOR)

    assert sensor.minimum_interval_seconds == expected
    root = Path(__file__).resolve().parents[2]
    for doc in ("README.md", "docs/operations.md"):
        text = " ".join((root / doc).read_text().split())
        assert FRESHNESS_INTERVAL_DOC in text, doc
        assert "every 5 minutes at most" not in text, doc


def test_the_freshness_sensor_reports_a_stale_symbol_once(
    alert_env: pytest.MonkeyPatch, webhook: WebhookReceiver, db: Database
):
    alert_env.setenv("STOCK_SYMBOLS", "IBM")
    db.run(
        lambda conn: conn.execute(
            "INSERT INTO stock_data (symbol, ts, open, high, low, close, volume, raw)"
            " VALUES ('IBM', '2026-01-05 00:00 America/New_York', 1, 1, 1, 1, 1, '{}')"
        )
    )
    defs = load_definitions()
    sensor = defs.resolve_sensor_def(FRESHNESS_SENSOR)
    instance = dg.DagsterInstance.ephemeral()

    for _ in range(2):
        sensor.evaluate_tick(dg.build_sensor_context(instance=instance))

    [alert] = webhook.delivered()
    lines = alert.text.splitlines()
    assert lines[0] == "*stockpipe: 1 symbol stale for more than 36 h*"
    assert lines[1].startswith("daily/IBM in stock_data: newest bar 2026-01-05, ")
    assert lines[1].endswith(" missing since 2026-01-06")


def test_the_freshness_sensor_watches_only_the_series_of_stock_series(
    alert_env: pytest.MonkeyPatch, webhook: WebhookReceiver, db: Database
):
    alert_env.setenv("STOCK_SYMBOLS", "IBM")
    fresh_day = latest_completed_session(datetime.now(UTC)).isoformat()
    db.run(
        lambda conn: conn.execute(
            "INSERT INTO stock_data (symbol, ts, open, high, low, close, volume, raw)"
            " VALUES ('IBM', (%s::timestamp AT TIME ZONE 'America/New_York'), 1, 1, 1, 1, 1,"
            " '{}')",
            (fresh_day,),
        )
    )
    db.run(
        lambda conn: conn.execute(
            "INSERT INTO stock_data_weekly"
            " (symbol, ts, open, high, low, close, volume, raw, period_start) VALUES"
            " ('IBM', '2026-01-09 00:00 America/New_York', 1, 1, 1, 1, 1, '{}', '2026-01-05')"
        )
    )
    instance = dg.DagsterInstance.ephemeral()

    def tick() -> str | None:
        sensor = load_definitions().resolve_sensor_def(FRESHNESS_SENSOR)
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        return result.skip_message

    assert tick() == "0 of 1 symbol series stale"  # STOCK_SERIES defaults to daily
    assert webhook.delivered() == []

    alert_env.setenv("STOCK_SERIES", "daily,weekly")
    assert tick() == "1 of 2 symbol series stale"

    [alert] = webhook.delivered()
    lines = alert.text.splitlines()
    assert lines[0] == "*stockpipe: 1 symbol stale for more than 36 h*"
    assert lines[1].startswith("weekly/IBM in stock_data_weekly: newest bar 2026-01-09, ")
    assert lines[1].endswith(" missing since 2026-01-16")
