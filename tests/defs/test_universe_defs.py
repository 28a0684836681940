"""Dagster with STOCK_UNIVERSE=listing: the partitions are the stored universe when the code
loads (STOCK_SYMBOLS before the first listing), and the schedule's run over every partition
follows today's universe, refreshed first."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import pytest

from stockpipe.defs.alerts import FRESHNESS_SENSOR
from stockpipe.ingest import IngestContext
from stockpipe.ingest.universe import refresh_listing
from stockpipe.market_calendar import latest_completed_session, sessions_between
from stockpipe.settings import Settings
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.listings import ListedCompany
from tests.defs.conftest import load_definitions, run_stock_job
from tests.fixtures.alert_receivers import WebhookReceiver

STOCK_DATA = dg.AssetKey("stock_data")


@pytest.fixture
def listing_env(
    pipeline_env: pytest.MonkeyPatch, fake_av_env: FakeAlphaVantage
) -> FakeAlphaVantage:
    today = latest_completed_session()
    fake_av_env.set_listing(
        [
            ListedCompany("KEEP", "Keeper Corp", "NYSE", "Stock", date(2015, 3, 2)),
            ListedCompany("GONE", "Gone Away Inc", "NASDAQ", "Stock", date(2016, 1, 4), today),
            ListedCompany("NEWC", "Newcomer Holdings", "NASDAQ", "Stock", today),
        ]
    )
    pipeline_env.setenv("STOCK_UNIVERSE", "listing")
    pipeline_env.setenv("STOCK_SYMBOLS", "KEEP")
    return fake_av_env


def calls(fake: FakeAlphaVantage) -> list[tuple[str, str]]:
    return sorted((c.function, c.symbol) for c in fake.calls())


def symbols_stored(db: Database) -> list[str]:
    rows = db.run(
        lambda conn: conn.execute("SELECT DISTINCT symbol FROM stock_data ORDER BY 1").fetchall()
    )
    return [row[0] for row in rows]


def test_the_scheduled_run_follows_todays_universe_and_the_next_load_makes_it_partitions(
    listing_env: FakeAlphaVantage, db: Database
) -> None:
    before = load_definitions().resolve_job_def("stock_job").partitions_def
    assert before is not None and before.get_partition_keys() == ["KEEP"]  # type: ignore[call-arg]
    instance = dg.DagsterInstance.ephemeral()

    first = run_stock_job(instance)

    assert first.success
    assert calls(listing_env) == [
        ("LISTING_STATUS", ""), ("LISTING_STATUS", ""),
        ("TIME_SERIES_DAILY", "KEEP"), ("TIME_SERIES_DAILY", "NEWC"),
    ]  # fmt: skip
    assert symbols_stored(db) == ["KEEP", "NEWC"]
    assert instance.get_materialized_partitions(STOCK_DATA) == {"KEEP"}

    after = load_definitions().resolve_job_def("stock_job").partitions_def
    assert after is not None and after.get_partition_keys() == ["KEEP", "NEWC"]  # type: ignore[call-arg]
    spent = len(listing_env.calls())
    second = run_stock_job(instance)
    assert second.success
    assert len(listing_env.calls()) == spent, "refreshed today, every symbol up to date"
    assert instance.get_materialized_partitions(STOCK_DATA) == {"KEEP", "NEWC"}


def test_a_run_of_a_partition_delisted_since_the_code_loaded_costs_no_call(
    listing_env: FakeAlphaVantage, db: Database
) -> None:
    today = latest_completed_session()
    yesterday = sessions_between(today - timedelta(days=10), today - timedelta(days=1))[-1]
    listing_env.configure(end_date=yesterday)  # GONE still trades, NEWC is not listed yet
    with IngestContext(Settings.load(), db) as ctx:
        assert refresh_listing(ctx).status == "refreshed"
    job = load_definitions().resolve_job_def("stock_job")
    assert job.partitions_def is not None
    assert job.partitions_def.get_partition_keys() == ["GONE", "KEEP"]  # type: ignore[call-arg]
    # The next day: the listing is due again and says GONE is delisted.
    db.run(lambda conn: conn.execute("DELETE FROM stock_listing_refresh"))
    listing_env.configure(end_date=today)
    spent = len(listing_env.calls())

    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), partition_key="GONE", raise_on_error=False
    )

    assert result.success
    assert [c.function for c in listing_env.calls()[spent:]] == ["LISTING_STATUS"] * 2
    assert symbols_stored(db) == []


def test_the_freshness_sensor_watches_the_universe_not_a_delisted_symbol(
    listing_env: FakeAlphaVantage,
    pipeline_env: pytest.MonkeyPatch,
    webhook: WebhookReceiver,
    db: Database,
) -> None:
    pipeline_env.setenv("ALERT_SLACK_WEBHOOK_URL", webhook.webhook_url)
    for symbol in ("KEEP", "GONE"):  # both a year old
        db.run(
            lambda conn, symbol=symbol: conn.execute(
                "INSERT INTO stock_data (symbol, ts, open, high, low, close, volume, raw)"
                " VALUES (%s, '2025-06-02 00:00 America/New_York', 1, 1, 1, 1, 1, '{}')",
                (symbol,),
            )
        )
    with IngestContext(Settings.load(), db) as ctx:
        assert refresh_listing(ctx).status == "refreshed"  # GONE is delisted today
    sensor = load_definitions().resolve_sensor_def(FRESHNESS_SENSOR)

    result = sensor.evaluate_tick(dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral()))

    [alert] = webhook.delivered()
    assert alert.text.splitlines()[0] == "*stockpipe: 1 symbol stale for more than 36 h*"
    assert alert.text.splitlines()[1].startswith("daily/KEEP in stock_data: newest bar 2025-06-02")
    assert "GONE" not in alert.text
    assert result.skip_message == "1 of 2 symbol series stale"  # KEEP and NEWC, no GONE
