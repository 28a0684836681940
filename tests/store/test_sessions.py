"""stockpipe.store.sessions on a real table: the holes between stored dates (never a weekend,
a holiday or a half-day), the first and newest bar, and the memory of migration 0012."""

from __future__ import annotations

from datetime import UTC, date, datetime

from stockpipe.market_calendar import new_york_midnight, sessions_between
from stockpipe.store import Database
from stockpipe.store.sessions import (
    StoredSessions,
    read_stored_sessions,
    record_session_memory,
    vendor_missing_sessions,
)
from tests.fixtures.daily_rows import insert_sessions

# 1 Nov 2023 to 8 Apr 2024: Thanksgiving, its half-day, Christmas, New Year, MLK day,
# Presidents' day, Good Friday and both DST changes.
DAYS = sessions_between(date(2023, 11, 1), date(2024, 4, 8))
AT = datetime(2024, 4, 9, tzinfo=UTC)


def test_a_complete_history_has_no_hole_across_holidays_half_days_and_dst(db: Database) -> None:
    insert_sessions(db, "IBM", DAYS)
    assert read_stored_sessions(db, ["IBM", "NONE"], today=DAYS[-1]) == {
        "IBM": StoredSessions(
            DAYS[0], new_york_midnight(DAYS[-1]), (), frozenset(), frozenset(), bars=len(DAYS)
        )
    }


def test_holes_are_the_stored_dates_around_missing_sessions(db: Database) -> None:
    wednesday, black_friday = date(2023, 11, 22), date(2023, 11, 24)
    around_good_friday = DAYS.index(date(2024, 3, 28))  # the Thursday before it
    missing = {wednesday, black_friday, DAYS[60], DAYS[61], DAYS[around_good_friday]}
    insert_sessions(db, "IBM", [day for day in DAYS if day not in missing])
    insert_sessions(db, "MSFT", DAYS[:3])

    stored = read_stored_sessions(db, ["IBM", "MSFT"], today=DAYS[-1])

    assert stored["IBM"].holes == (
        (date(2023, 11, 21), date(2023, 11, 27)),  # Wed, (Thanksgiving), the half-day
        (DAYS[59], DAYS[62]),
        (DAYS[around_good_friday - 1], DAYS[around_good_friday + 1]),
    )
    assert DAYS[around_good_friday + 1] == date(2024, 4, 1)  # Good Friday is no session
    assert (stored["MSFT"].first, stored["MSFT"].latest, stored["MSFT"].holes) == (
        DAYS[0], DAYS[2], (),
    )  # fmt: skip
    assert (stored["IBM"].bars, stored["MSFT"].bars) == (len(DAYS) - len(missing), 3)


def test_the_memory_remembers_forgets_and_reads_back_per_symbol(db: Database) -> None:
    insert_sessions(db, "IBM", DAYS[:10])
    record_session_memory(
        db, "IBM", vendor_missing=[DAYS[3]], reported=[DAYS[1]], at=AT, run_id="run-1"
    )
    record_session_memory(db, "IBM", vendor_missing=[DAYS[3], DAYS[5]], at=AT)  # no duplicate

    stored = read_stored_sessions(db, ["IBM"], today=DAYS[-1])["IBM"]
    assert (stored.vendor_missing, stored.reported) == (
        frozenset({DAYS[3], DAYS[5]}), frozenset({DAYS[1]}),
    )  # fmt: skip

    record_session_memory(db, "IBM", present=[DAYS[1], DAYS[3]], at=AT)

    assert vendor_missing_sessions(db, "IBM") == [DAYS[5]]
    assert read_stored_sessions(db, ["IBM"], today=DAYS[-1])["IBM"].reported == frozenset()
