"""What `stockpipe status` reads at scale (stockpipe.ingest.overview): the intraday dates come
from one index probe per stored date (New York dates, across a DST change, late evening bars
on their own date), the daily counts from the gap read's marks, the stored symbols from one
probe per symbol; every figure the same as counting the rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from stockpipe.bars import Bar
from stockpipe.ingest.overview import stored_symbols, symbol_overview
from stockpipe.market_calendar import NEW_YORK, sessions_between
from stockpipe.series import INTRADAY, INTRADAY_TABLE
from stockpipe.store import Database, upsert_bars
from tests.fixtures.daily_rows import insert_sessions

ONE = Decimal(1)


def minute_bars(symbol: str, interval: str, day: date, *moments: time) -> list[Bar]:
    return [
        Bar(symbol, interval, datetime.combine(day, moment, tzinfo=NEW_YORK).astimezone(UTC),
            ONE, ONE, ONE, ONE, 1, b"{}")
        for moment in moments
    ]  # fmt: skip


def test_intraday_overview_counts_bars_and_finds_missing_sessions_by_new_york_date(
    db: Database,
) -> None:
    # Friday before the clocks go forward, then Monday and Wednesday after (Tuesday missing);
    # a 19:59 bar is 00:59 UTC of the next day in winter and still belongs to its own date.
    bars = [
        *minute_bars("IBM", "1min", date(2024, 3, 8), time(4, 0), time(9, 30), time(19, 59)),
        *minute_bars("IBM", "1min", date(2024, 3, 11), time(9, 30), time(9, 31)),
        *minute_bars("IBM", "1min", date(2024, 3, 13), time(16, 0)),
        *minute_bars("IBM", "5min", date(2024, 3, 14), time(9, 30)),  # another series
    ]
    upsert_bars(db, bars[:6], table=INTRADAY_TABLE)
    upsert_bars(db, bars[6:], table=INTRADAY_TABLE)
    target = date(2024, 3, 15)

    [ibm, none] = symbol_overview(db, ["IBM", "NONE"], target=target, series=INTRADAY,
                                  interval="1min")  # fmt: skip

    assert (ibm.rows, ibm.first_bar, ibm.last_bar) == (6, date(2024, 3, 8), date(2024, 3, 13))
    assert (ibm.first_ts, ibm.last_ts) == (bars[0].ts, bars[5].ts)
    assert (ibm.missing_inside, ibm.missing_after) == (1, 2)  # the 12th; the 14th and 15th
    assert (none.rows, none.missing) == (0, None)


def test_daily_overview_counts_through_the_marks_what_is_stored(db: Database) -> None:
    days = sessions_between(date(2024, 1, 2), date(2024, 3, 28))
    insert_sessions(db, "IBM", [d for d in days[:40] if d != days[7]])
    first = symbol_overview(db, ["IBM"], target=days[39])[0]  # leaves the mark
    insert_sessions(db, "IBM", days[41:45])  # a top-up after a missing session

    [ibm] = symbol_overview(db, ["IBM"], target=days[44])

    assert (first.rows, first.missing) == (39, 1)
    assert (ibm.rows, ibm.first_bar, ibm.last_bar, ibm.missing) == (43, days[0], days[44], 2)
    assert (
        ibm.rows
        == db.run(
            lambda c: c.execute("SELECT count(*) FROM stock_data WHERE symbol = 'IBM'").fetchone()
        )[0]
    )


def test_stored_symbols_are_every_symbol_with_bars_or_a_result_once_sorted(db: Database) -> None:
    days = sessions_between(date(2024, 1, 2), date(2024, 1, 10))
    for symbol in ("MSFT", "AAPL", "IBM"):
        insert_sessions(db, symbol, days)
    db.run(
        lambda c: c.execute(
            "INSERT INTO symbol_state (symbol, series, last_status, last_attempt_at)"
            " VALUES ('ZZZ', 'daily', 'failed', now()), ('IBM', 'daily', 'loaded', now()),"
            " ('WEEK', 'weekly', 'loaded', now())"
        )
    )
    upsert_bars(
        db,
        minute_bars("NVDA", "1min", days[0], time(9, 30)),
        table=INTRADAY_TABLE,
    )

    assert stored_symbols(db) == ["AAPL", "IBM", "MSFT", "ZZZ"]
    assert stored_symbols(db, INTRADAY) == ["NVDA"]
