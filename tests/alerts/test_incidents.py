"""The incident rules on a real PostgreSQL: one alert when a condition starts, none while it
holds, one recovery when it clears."""

from __future__ import annotations

from datetime import date

import pytest

from stockpipe.alerts import CheckOutcome, StaleSymbol
from stockpipe.alerts.freshness import FreshnessReport
from stockpipe.alerts.incidents import (
    CHECK_FAILED,
    RUN_FAILED,
    RUN_KINDS,
    STALE,
    SYMBOL_STREAK,
    mark_notified,
    open_incidents,
    pending,
    record_freshness,
    record_run,
)
from stockpipe.store import Database
from tests.alerts.helpers import START, run, symbol


def sent(db: Database, kinds: tuple[str, ...] = RUN_KINDS) -> list[tuple[str, str, bool]]:
    """What the next tick would send, as (kind, subject, recovered); marks it sent."""
    to_send, to_drop = pending(db, kinds)
    mark_notified(db, [*to_send, *to_drop], START)
    return [(t.kind, t.subject, t.recovered) for t in to_send]


def test_a_failed_run_opens_one_incident_until_the_job_succeeds(db: Database):
    record_run(db, run(symbol("IBM", "failed", "Invalid API call")), consecutive_runs=3)
    assert sent(db) == [(RUN_FAILED, "stock_job", False)]

    record_run(db, run(symbol("IBM", "failed", "Invalid API call")), consecutive_runs=3)
    assert sent(db) == []
    assert open_incidents(db) == [(RUN_FAILED, "stock_job", 2)]

    record_run(db, run(symbol("IBM", "loaded")), consecutive_runs=3)
    assert sent(db) == [(RUN_FAILED, "stock_job", True)]
    assert open_incidents(db) == []


def test_the_opening_details_name_the_run_the_failing_symbols_and_the_counts(db: Database):
    failed = run(
        symbol("IBM", "loaded"),
        symbol("XYZ", "failed", "Alpha Vantage rejected the symbol"),
        symbol("MSFT", "deferred", "daily budget spent"),
        error="1 failed",
    )
    record_run(db, failed, consecutive_runs=3)

    [transition], _ = pending(db, RUN_KINDS)
    assert transition.details == {
        "job": "stock_job",
        "run_id": failed.run_id,
        "url": failed.url,
        "error": "1 failed",
        "counts": {"loaded": 1, "failed": 1, "deferred": 1},
        "failed": [["stock_data/XYZ", "Alpha Vantage rejected the symbol"]],
        "deferred": ["stock_data/MSFT"],
    }


def test_each_job_has_its_own_run_incident(db: Database):
    record_run(db, run(succeeded=False, job="stock_job"), consecutive_runs=3)
    record_run(db, run(succeeded=False, job="weekly_job"), consecutive_runs=3)
    record_run(db, run(succeeded=True, job="weekly_job"), consecutive_runs=3)

    # weekly_job opened and closed before a tick sent anything: nothing to say about it.
    assert sent(db) == [(RUN_FAILED, "stock_job", False)]


def test_the_same_run_seen_twice_counts_once(db: Database):
    failed = run(symbol("IBM", "failed"))
    assert record_run(db, failed, consecutive_runs=1) is True
    assert record_run(db, failed, consecutive_runs=1) is False

    assert open_incidents(db) == [
        (RUN_FAILED, "stock_job", 1),
        (SYMBOL_STREAK, "stock_data/IBM", 1),
    ]


@pytest.mark.parametrize("status", ["failed", "deferred"], ids=["failed runs", "deferred runs"])
def test_a_streak_alerts_at_the_nth_consecutive_run_then_stays_quiet(db: Database, status: str):
    for _ in range(2):
        record_run(db, run(symbol("IBM", status, "why")), consecutive_runs=3)
    assert [k for k in sent(db) if k[0] == SYMBOL_STREAK] == []

    record_run(db, run(symbol("IBM", status, "why")), consecutive_runs=3)
    assert [k for k in sent(db) if k[0] == SYMBOL_STREAK] == [
        (SYMBOL_STREAK, "stock_data/IBM", False)
    ]

    for _ in range(4):  # a week of the same
        record_run(db, run(symbol("IBM", status, "why")), consecutive_runs=3)
    assert [k for k in sent(db) if k[0] == SYMBOL_STREAK] == []

    record_run(db, run(symbol("IBM", "up_to_date")), consecutive_runs=3)
    assert [k for k in sent(db) if k[0] == SYMBOL_STREAK] == [
        (SYMBOL_STREAK, "stock_data/IBM", True)
    ]


def test_a_good_run_in_between_starts_the_count_again(db: Database):
    for status in ("failed", "failed", "loaded", "failed", "failed"):
        record_run(db, run(symbol("IBM", status)), consecutive_runs=3)

    assert [k for k in open_incidents(db) if k[0] == SYMBOL_STREAK] == []


def test_waiting_for_publication_neither_extends_nor_ends_a_streak(db: Database):
    waiting = symbol("IBM", "deferred", "not published yet", awaiting_publication=True)
    for outcome in (symbol("IBM", "failed"), waiting, symbol("IBM", "failed"), waiting):
        record_run(db, run(outcome, succeeded=True), consecutive_runs=3)
    assert [k for k in open_incidents(db) if k[0] == SYMBOL_STREAK] == []

    record_run(db, run(symbol("IBM", "failed"), succeeded=True), consecutive_runs=3)
    assert [k for k in open_incidents(db) if k[0] == SYMBOL_STREAK] == [
        (SYMBOL_STREAK, "stock_data/IBM", 1)
    ]


def test_a_failed_check_opens_until_it_passes_again(db: Database):
    bad = CheckOutcome(
        "stock_data", "ohlc_sanity", False, "1 of 9 rows", ("IBM 2026-11-02: high < low",), ("IBM",)
    )
    good = CheckOutcome("stock_data", "ohlc_sanity", True, "0 of 9 rows")

    record_run(db, run(succeeded=True, checks=(bad,)), consecutive_runs=3)
    [transition], _ = pending(db, RUN_KINDS)
    assert transition.details["symbols"] == ["IBM"]
    assert sent(db) == [(CHECK_FAILED, "stock_data:ohlc_sanity", False)]
    record_run(db, run(succeeded=True, checks=(bad,)), consecutive_runs=3)
    assert sent(db) == []
    record_run(db, run(succeeded=True, checks=(good,)), consecutive_runs=3)
    assert sent(db) == [(CHECK_FAILED, "stock_data:ohlc_sanity", True)]


def _report(*stale: str, symbols: tuple[str, ...] = ("IBM", "MSFT")) -> FreshnessReport:
    items = tuple(StaleSymbol("daily", s, date(2026, 11, 2), date(2026, 11, 3), 3) for s in stale)
    latest = {s: date(2026, 11, 2) if s in stale else date(2026, 11, 6) for s in symbols}
    return FreshnessReport("daily", 36.0, items, latest)


def test_a_stale_symbol_alerts_once_and_recovers_when_fresh(db: Database):
    record_freshness(db, _report("IBM"), START)
    assert sent(db, (STALE,)) == [(STALE, "daily/IBM", False)]
    record_freshness(db, _report("IBM", "MSFT"), START)
    assert sent(db, (STALE,)) == [(STALE, "daily/MSFT", False)]
    record_freshness(db, _report("MSFT"), START)
    to_send, _ = pending(db, (STALE,))
    assert [(t.subject, t.recovered, t.close_details) for t in to_send] == [
        ("daily/IBM", True, {"latest": "2026-11-06", "table": "stock_data"})
    ]


def test_a_stale_symbol_removed_from_the_configuration_is_closed(db: Database):
    record_freshness(db, _report("IBM"), START)
    sent(db, (STALE,))

    record_freshness(db, _report(symbols=("MSFT",)), START)

    [transition], _ = pending(db, (STALE,))
    assert transition.close_details == {
        "latest": None,
        "table": "stock_data",
        "note": "no longer in STOCK_SYMBOLS",
    }
