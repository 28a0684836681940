"""Dagster with STOCK_UNIVERSE=listing: the partitions are the fixed shards (no database read at
load), and a run reads today's universe, refreshed first, so a new listing is ingested and shown
in its shard without a restart; a shard's event holds a table of its symbols."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import dagster as dg
import pytest

from stockpipe.defs.alert_runs import finished_run
from stockpipe.defs.alerts import FRESHNESS_SENSOR
from stockpipe.defs.schedules import full_range_tags
from stockpipe.defs.shards import shard_keys, shard_of, symbol_rows
from stockpipe.ingest import IngestContext
from stockpipe.ingest.universe import refresh_listing
from stockpipe.market_calendar import latest_completed_session, sessions_between
from stockpipe.settings import Settings
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.faults import Fault
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


def shard_table(result: dg.ExecuteInProcessResult, symbol: str) -> dict[str, dict[str, Any]]:
    """The rows of the table in the event of `symbol`'s shard, by symbol."""
    [event] = [
        event
        for event in result.asset_materializations_for_node("stock_data")
        if event.partition == shard_of(symbol)
    ]
    return {row["symbol"]: dict(row) for row in symbol_rows(event.metadata)}


def test_the_partitions_are_the_shards_whatever_the_listing_holds(
    placeholder_env: pytest.MonkeyPatch,
) -> None:
    placeholder_env.setenv("STOCK_UNIVERSE", "listing")  # the database host does not resolve

    job = load_definitions().resolve_job_def("stock_job")

    assert job.partitions_def is not None
    keys = job.partitions_def.get_partition_keys()  # type: ignore[call-arg]
    assert keys == shard_keys()
    assert (keys[0], keys[-1], len(keys)) == ("shard-00", "shard-63", 64)


def test_the_scheduled_run_follows_todays_universe_and_a_new_listing_needs_no_restart(
    listing_env: FakeAlphaVantage, db: Database
) -> None:
    defs = load_definitions()  # loaded once: the code location never reloads in this test
    job = defs.resolve_job_def("stock_job")
    assert job.partitions_def is not None
    tags = full_range_tags(job.partitions_def)  # type: ignore[arg-type]
    instance = dg.DagsterInstance.ephemeral()

    first = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)

    assert first.success
    assert calls(listing_env) == [
        ("LISTING_STATUS", ""), ("LISTING_STATUS", ""),
        ("TIME_SERIES_DAILY", "KEEP"), ("TIME_SERIES_DAILY", "NEWC"),
    ]  # fmt: skip
    assert symbols_stored(db) == ["KEEP", "NEWC"]
    assert instance.get_materialized_partitions(STOCK_DATA) == set(shard_keys())
    keep = shard_table(first, "KEEP")["KEEP"]
    assert (keep["status"], keep["calls"], keep["rows_inserted"]) == ("loaded", 1, 100)
    assert keep["latest_bar"] == latest_completed_session().isoformat()
    assert shard_table(first, "NEWC")["NEWC"]["status"] == "loaded"
    assert shard_table(first, "GONE") == {}, "delisted today: in no shard's table"

    # The next day's listing holds one more company; the same loaded definitions run again.
    listing_env.set_listing(
        [
            ListedCompany("KEEP", "Keeper Corp", "NYSE", "Stock", date(2015, 3, 2)),
            ListedCompany("NEWC", "Newcomer Holdings", "NASDAQ", "Stock", date(2024, 1, 2)),
            ListedCompany("LATE", "Late Arrival Co", "NYSE", "Stock", latest_completed_session()),
        ]
    )
    db.run(lambda conn: conn.execute("DELETE FROM stock_listing_refresh"))
    spent = len(listing_env.calls())

    second = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)

    assert second.success
    assert [(c.function, c.symbol) for c in listing_env.calls()[spent:]] == [
        ("LISTING_STATUS", ""), ("LISTING_STATUS", ""), ("TIME_SERIES_DAILY", "LATE"),
    ]  # fmt: skip
    assert symbols_stored(db) == ["KEEP", "LATE", "NEWC"]
    assert shard_table(second, "LATE")["LATE"]["status"] == "loaded"
    assert shard_table(second, "KEEP")["KEEP"]["status"] == "up_to_date"


def test_a_run_of_a_shard_whose_symbol_was_delisted_costs_no_call(
    listing_env: FakeAlphaVantage, db: Database
) -> None:
    today = latest_completed_session()
    yesterday = sessions_between(today - timedelta(days=10), today - timedelta(days=1))[-1]
    listing_env.configure(end_date=yesterday)  # GONE still trades, NEWC is not listed yet
    with IngestContext(Settings.load(), db) as ctx:
        assert refresh_listing(ctx).status == "refreshed"
    job = load_definitions().resolve_job_def("stock_job")
    # The next day: the listing is due again and says GONE is delisted.
    db.run(lambda conn: conn.execute("DELETE FROM stock_listing_refresh"))
    listing_env.configure(end_date=today)
    spent = len(listing_env.calls())

    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=shard_of("GONE"),
        raise_on_error=False,
    )

    assert result.success
    assert [c.function for c in listing_env.calls()[spent:]] == ["LISTING_STATUS"] * 2
    assert symbols_stored(db) == []
    [event] = result.asset_materializations_for_node("stock_data")
    assert (event.partition, event.description) == (shard_of("GONE"), "no symbol of the universe")


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


def test_a_failed_symbol_in_a_shard_reaches_the_run_alerts_by_name(
    listing_env: FakeAlphaVantage, pipeline_env: pytest.MonkeyPatch
) -> None:
    pipeline_env.setenv("API_MAX_RETRIES", "0")
    listing_env.inject(Fault.HTTP_500, symbol="NEWC")
    instance = dg.DagsterInstance.ephemeral()

    result = run_stock_job(instance)

    assert not result.success
    run = finished_run(instance, result.run_id, succeeded=False, at=0.0, ui_url="http://ui")
    assert run is not None
    assert {(s.asset, s.symbol, s.status) for s in run.symbols} == {
        ("stock_data", "KEEP", "loaded"),
        ("stock_data", "NEWC", "failed"),
    }
    [newc] = [s for s in run.symbols if s.symbol == "NEWC"]
    assert "HTTP 500" in newc.message
