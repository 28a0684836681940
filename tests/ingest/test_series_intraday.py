"""Intraday bars: naive New York wall times stored as exact UTC instants across both DST
changes, compact when the gap fits, full otherwise, and overlapping re-fetches never duplicate."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from stockpipe.alphavantage import Function
from stockpipe.ingest import ingest_symbols
from stockpipe.ingest.results import SymbolStatus
from stockpipe.market_calendar import NEW_YORK
from stockpipe.store import Database
from stockpipe.testing import FakeAlphaVantage
from stockpipe.testing.payloads import generate_series
from tests.ingest.conftest import ContextFactory
from tests.ingest.helpers import HISTORY, FakeClock, ledger_count
from tests.ingest.series_helpers import raw_of, stored_intraday_rows


def served(symbol: str, end: date, interval: str, size: str) -> list[tuple[object, ...]]:
    """The fake's intraday answer as stored rows should hold it, oldest first."""
    series = generate_series(
        symbol, Function.INTRADAY, end=end, history_length=HISTORY,
        outputsize=size, interval=interval,
    )  # fmt: skip
    return sorted(
        (
            datetime.fromisoformat(stamp).replace(tzinfo=NEW_YORK).astimezone(UTC),
            Decimal(f["1. open"]), Decimal(f["2. high"]), Decimal(f["3. low"]),
            Decimal(f["4. close"]), int(f["5. volume"]), raw_of(f),
        )
        for stamp, f in series.items()
    )  # fmt: skip


def night_after(day: date) -> FakeClock:
    """21:30 in New York after `day`: its extended hours are over."""
    return FakeClock(datetime.combine(day, time(21, 30), tzinfo=NEW_YORK).astimezone(UTC))


@pytest.mark.parametrize(
    ("end", "before", "after"),
    [
        pytest.param(
            date(2024, 3, 12),
            (datetime(2024, 3, 8, 9, 0), datetime(2024, 3, 8, 14, 0, tzinfo=UTC)),
            (datetime(2024, 3, 11, 9, 0), datetime(2024, 3, 11, 13, 0, tzinfo=UTC)),
            id="March: 09:00 is 14:00 UTC on Friday and 13:00 UTC after the clocks went forward",
        ),
        pytest.param(
            date(2024, 11, 5),
            (datetime(2024, 11, 1, 4, 0), datetime(2024, 11, 1, 8, 0, tzinfo=UTC)),
            (datetime(2024, 11, 4, 4, 0), datetime(2024, 11, 4, 9, 0, tzinfo=UTC)),
            id="November: 04:00 is 08:00 UTC on Friday and 09:00 UTC after the clocks went back",
        ),
    ],
)
def test_intraday_bars_are_exact_utc_instants_across_a_dst_change(
    db: Database,
    fake: FakeAlphaVantage,
    make_context: ContextFactory,
    end: date,
    before: tuple[datetime, datetime],
    after: tuple[datetime, datetime],
) -> None:
    fake.configure(end_date=end.isoformat())
    context = make_context(at=night_after(end), STOCK_INTRADAY_INTERVAL="60min")

    summary = ingest_symbols(context, ["IBM"], series="intraday")

    [result] = summary.results
    expected = served("IBM", end, "60min", "full")
    assert (result.status, result.calls, result.output_size) == (SymbolStatus.LOADED, 1, "full")
    assert (result.inserted, result.latest_bar) == (len(expected), end)
    rows = stored_intraday_rows(db, "IBM", "60min")
    assert rows == expected
    stamps = {row[0] for row in rows}
    for wall, instant in (before, after):
        assert instant in stamps
        assert rows[[r[0] for r in rows].index(instant)][6]["1. open"] == generate_series(
            "IBM", Function.INTRADAY, end=end, history_length=HISTORY,
            outputsize="full", interval="60min",
        )[wall.strftime("%Y-%m-%d %H:%M:%S")]["1. open"]  # fmt: skip
    [call] = fake.calls()
    assert (call.function, call.interval, call.outputsize) == (
        "TIME_SERIES_INTRADAY",
        "60min",
        "full",
    )


def test_the_next_session_takes_compact_when_it_fits_and_windows_never_duplicate(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    first, second = date(2024, 5, 7), date(2024, 5, 8)
    fake.configure(end_date=first.isoformat())
    hourly = {"STOCK_INTRADAY_INTERVAL": "60min"}
    ingest_symbols(make_context(at=night_after(first), **hourly), ["IBM"], series="intraday")
    again = ingest_symbols(
        make_context(at=night_after(first), **hourly), ["IBM"], series="intraday"
    )
    assert [(r.status, r.calls) for r in again.results] == [(SymbolStatus.UP_TO_DATE, 0)]

    fake.configure(end_date=second.isoformat())
    summary = ingest_symbols(
        make_context(at=night_after(second), **hourly), ["IBM"], series="intraday"
    )

    [result] = summary.results
    # 60min bars 04:00-20:00: 16 a session, well inside compact's latest 100.
    assert (result.status, result.output_size, result.inserted, result.unchanged) == (
        SymbolStatus.LOADED, "compact", 16, 84,
    )  # fmt: skip
    rows = stored_intraday_rows(db, "IBM", "60min")
    assert len(rows) == len({row[0] for row in rows})
    by_ts = {row[0]: row for row in served("IBM", first, "60min", "full")}
    by_ts.update({row[0]: row for row in served("IBM", second, "60min", "compact")})
    assert rows == sorted(by_ts.values(), key=lambda row: row[0])
    assert [(c.outputsize, c.interval) for c in fake.calls()] == [
        ("full", "60min"),
        ("compact", "60min"),
    ]
    assert ledger_count(db) == 2


def test_a_gap_beyond_compact_takes_full_and_keeps_one_row_per_bar(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    first, second = date(2024, 5, 7), date(2024, 5, 8)
    fake.configure(end_date=first.isoformat())
    ingest_symbols(make_context(at=night_after(first)), ["IBM"], series="intraday")
    before = len(stored_intraday_rows(db, "IBM", "5min"))

    fake.configure(end_date=second.isoformat())
    summary = ingest_symbols(make_context(at=night_after(second)), ["IBM"], series="intraday")

    [result] = summary.results
    # 192 five-minute bars missing: more than compact's 100 could bring.
    assert (result.status, result.output_size, result.inserted) == (
        SymbolStatus.LOADED,
        "full",
        192,
    )
    rows = stored_intraday_rows(db, "IBM", "5min")
    assert len(rows) == len({row[0] for row in rows}) == before + 192


def test_a_refetch_of_the_same_window_counts_every_bar_unchanged(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    day = date(2024, 5, 8)
    fake.configure(end_date=day.isoformat())
    ingest_symbols(make_context(at=night_after(day)), ["IBM"], series="intraday")
    count = len(stored_intraday_rows(db, "IBM", "5min"))

    forced = ingest_symbols(
        make_context(at=night_after(day), API_OUTPUT_SIZE="compact"),
        ["IBM"],
        series="intraday",
    )

    assert [(r.status, r.calls) for r in forced.results] == [(SymbolStatus.UP_TO_DATE, 0)]
    db.run(
        lambda conn: conn.execute(
            "DELETE FROM stock_data_intraday WHERE ts > %s",
            (datetime(2024, 5, 8, 23, 0, tzinfo=UTC),),
        )
    )
    refetch = ingest_symbols(
        make_context(at=night_after(day), API_OUTPUT_SIZE="compact"),
        ["IBM"],
        series="intraday",
    )
    [result] = refetch.results
    assert (result.inserted, result.updated) == (11, 0)  # 19:00-19:50 New York were deleted
    assert result.unchanged == 100 - 11
    assert len(stored_intraday_rows(db, "IBM", "5min")) == count


def test_regular_hours_only_when_extended_hours_are_off(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    day = date(2024, 5, 8)
    fake.configure(end_date=day.isoformat())
    context = make_context(
        at=night_after(day), STOCK_INTRADAY_EXTENDED_HOURS="false", STOCK_INTRADAY_INTERVAL="30min"
    )

    summary = ingest_symbols(context, ["IBM"], series="intraday")

    assert [r.status for r in summary.results] == [SymbolStatus.LOADED]
    walls = {row[0].astimezone(NEW_YORK).time() for row in stored_intraday_rows(db, "IBM", "30min")}
    assert min(walls) == time(9, 30)
    assert max(walls) == time(15, 30)
    again = ingest_symbols(context, ["IBM"], series="intraday")
    assert [(r.status, r.calls) for r in again.results] == [(SymbolStatus.UP_TO_DATE, 0)]


def test_csv_and_json_store_the_same_intraday_values(
    db: Database, fake: FakeAlphaVantage, make_context: ContextFactory
) -> None:
    day = date(2024, 5, 8)
    fake.configure(end_date=day.isoformat())
    ingest_symbols(
        make_context(at=night_after(day), API_DATATYPE="csv"), ["IBM"], series="intraday"
    )
    from_csv = [row[:6] for row in stored_intraday_rows(db, "IBM", "5min")]
    db.run(lambda conn: conn.execute("TRUNCATE stock_data_intraday, symbol_state"))

    ingest_symbols(make_context(at=night_after(day)), ["IBM"], series="intraday")
    from_json = [row[:6] for row in stored_intraday_rows(db, "IBM", "5min")]

    assert from_csv == from_json
    assert from_json[-1][0] == datetime(2024, 5, 8, 23, 55, tzinfo=UTC)  # 19:55 EDT
    assert timedelta(0) < from_json[1][0] - from_json[0][0] <= timedelta(minutes=5)
