"""The gap read's "verified through" marks (migration 0018, stockpipe.store.session_marks): a
read after a mark scans only the bars since, answers exactly what a full read answers, and any
change at or below the mark (a hole filled, a bar deleted or moved, an earlier first bar, a
vendor-missing session served later, TRUNCATE) or a writer racing the read takes it away."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from psycopg.conninfo import make_conninfo

from stockpipe.bars import Bar
from stockpipe.market_calendar import new_york_midnight, sessions_between
from stockpipe.store import Database, upsert_bars
from stockpipe.store.session_marks import STORE_MARKS, Mark, calendar_digest, marks_param
from stockpipe.store.sessions import StoredSessions, read_stored_sessions
from tests.fixtures.daily_rows import insert_sessions

DAYS = sessions_between(date(2023, 11, 1), date(2024, 4, 8))
TODAY = DAYS[-1]


def mark_of(db: Database, symbol: str) -> tuple[Any, ...] | None:
    return db.run(
        lambda conn: conn.execute(
            "SELECT generation, verified_ts, hole_from, hole_to FROM daily_session_mark"
            " WHERE symbol = %s",
            [symbol],
        ).fetchone()
    )


def full_read(db: Database, symbols: list[str]) -> dict[str, StoredSessions]:
    """What a read without any mark answers (marks cleared, then put back by the read)."""
    db.run(lambda conn: conn.execute("UPDATE daily_session_mark SET verified_ts = NULL"))
    return read_stored_sessions(db, symbols, today=TODAY)


def execute(db: Database, statement: str, *params: object) -> None:
    db.run(lambda conn: conn.execute(statement, list(params)))


def delete_bar(db: Database, day: date) -> None:
    execute(db, "DELETE FROM stock_data WHERE symbol = 'IBM' AND ts = %s", new_york_midnight(day))


def daily_bar(symbol: str, day: date) -> Bar:
    one = Decimal("1")
    return Bar(symbol, "1d", new_york_midnight(day), one, one, one, one, 1, orjson.dumps({}))


def test_a_second_read_scans_only_the_bars_after_the_mark(db: Database) -> None:
    insert_sessions(db, "IBM", DAYS[:40])
    first = read_stored_sessions(db, ["IBM"], today=TODAY)["IBM"]
    assert first.latest == DAYS[39] and mark_of(db, "IBM")[1] == new_york_midnight(DAYS[39])
    # A hole the mark claims but the table does not have: a read that trusts the mark reports
    # it, which shows the history below the mark was not read again.
    fake_from, fake_to = new_york_midnight(DAYS[5]), new_york_midnight(DAYS[9])
    execute(
        db,
        "UPDATE daily_session_mark SET hole_from = %s, hole_to = %s WHERE symbol = 'IBM'",
        [fake_from],
        [fake_to],
    )
    insert_sessions(db, "IBM", [DAYS[40], *DAYS[43:50]])  # top-up with a new hole

    marked = read_stored_sessions(db, ["IBM"], today=TODAY)["IBM"]

    assert marked.holes == ((DAYS[5], DAYS[9]), (DAYS[40], DAYS[43]))
    assert (marked.first, marked.latest) == (DAYS[0], DAYS[49])
    assert mark_of(db, "IBM")[1] == new_york_midnight(DAYS[49])  # the mark moved on


def test_reads_through_marks_answer_what_full_reads_answer_run_after_run(db: Database) -> None:
    missing = {3, 4, 17, 41, 42, 43, 60, 75}
    kept = [day for i, day in enumerate(DAYS) if i not in missing]
    insert_sessions(db, "MSFT", DAYS[10:20])
    symbols = ["IBM", "MSFT", "NONE"]
    for start, end in ((0, 30), (30, 31), (31, 40), (40, 41), (41, 70), (70, len(kept))):
        insert_sessions(db, "IBM", kept[start:end])  # a run's top-up, then its read
        through_mark = read_stored_sessions(db, symbols, today=TODAY)
        assert through_mark == full_read(db, symbols)

    assert through_mark["IBM"].holes == (
        (DAYS[2], DAYS[5]), (DAYS[16], DAYS[18]), (DAYS[40], DAYS[44]),
        (DAYS[59], DAYS[61]), (DAYS[74], DAYS[76]),
    )  # fmt: skip
    assert "NONE" not in through_mark


def _filled_hole(db: Database) -> None:
    insert_sessions(db, "IBM", [DAYS[5]])


def _deleted_bar(db: Database) -> None:
    delete_bar(db, DAYS[8])


def _deleted_newest_bar(db: Database) -> None:
    delete_bar(db, DAYS[19])


def _earlier_first_bar_by_upsert(db: Database) -> None:  # a backfill of full history
    upsert_bars(db, [daily_bar("IBM", day) for day in DAYS[:2]] + [daily_bar("IBM", DAYS[5])])


def _moved_bar(db: Database) -> None:
    execute(
        db,
        "UPDATE stock_data SET ts = %s WHERE symbol = 'IBM' AND ts = %s",
        new_york_midnight(DAYS[5]),
        new_york_midnight(DAYS[6]),
    )


def _renamed_symbol(db: Database) -> None:
    execute(db, "UPDATE stock_data SET symbol = 'IBM' WHERE symbol = 'OLD'")


def _truncated(db: Database) -> None:
    execute(db, "TRUNCATE stock_data")


@pytest.mark.parametrize(
    "change",
    [
        _filled_hole,
        _deleted_bar,
        _deleted_newest_bar,
        _earlier_first_bar_by_upsert,
        _moved_bar,
        _renamed_symbol,
        _truncated,
    ],
    ids=lambda f: f.__name__.strip("_").replace("_", " "),
)
def test_a_change_at_or_below_the_mark_takes_it_away(db: Database, change: Any) -> None:
    insert_sessions(db, "IBM", [d for i, d in enumerate(DAYS[2:20], 2) if i != 5])
    insert_sessions(db, "OLD", [DAYS[0]])
    read_stored_sessions(db, ["IBM", "OLD"], today=TODAY)
    generation = mark_of(db, "IBM")[0]

    change(db)

    after = mark_of(db, "IBM")
    assert after[1] is None and after[0] != generation
    assert read_stored_sessions(db, ["IBM"], today=TODAY) == full_read(db, ["IBM"])


def test_a_vendor_missing_session_served_later_is_no_hole_any_more(db: Database) -> None:
    insert_sessions(db, "IBM", [d for d in DAYS[:20] if d != DAYS[7]])
    assert read_stored_sessions(db, ["IBM"], today=TODAY)["IBM"].holes == ((DAYS[6], DAYS[8]),)

    upsert_bars(db, [daily_bar("IBM", DAYS[7])])

    assert read_stored_sessions(db, ["IBM"], today=TODAY)["IBM"].holes == ()


def test_new_bars_after_the_mark_keep_it(db: Database) -> None:
    insert_sessions(db, "IBM", DAYS[:10])
    read_stored_sessions(db, ["IBM"], today=TODAY)
    generation = mark_of(db, "IBM")[0]

    upsert_bars(db, [daily_bar("IBM", day) for day in DAYS[10:12]])  # the daily top-up
    upsert_bars(db, [daily_bar("IBM", DAYS[11])._replace(close=Decimal(2))])  # a correction

    assert mark_of(db, "IBM")[0] == generation


def test_a_mark_computed_before_a_writer_commits_is_not_stored(db: Database) -> None:
    insert_sessions(db, "IBM", DAYS[:10])
    read_stored_sessions(db, ["IBM"], today=TODAY)
    generation, verified_ts, _, _ = mark_of(db, "IBM")
    # The reader read generation `generation` with the bars; a writer deletes a bar below the
    # mark and commits before the reader stores what it computed from its older snapshot.
    delete_bar(db, DAYS[3])
    stale = Mark("IBM", generation, new_york_midnight(DAYS[0]), verified_ts, (), ())
    # A symbol the reader found without a row, for which a writer then inserted one.
    insert_sessions(db, "NEW", DAYS[:2])
    unseen = Mark("NEW", None, new_york_midnight(DAYS[0]), new_york_midnight(DAYS[1]), (), ())

    execute(db, STORE_MARKS.replace("%(marks)s", "%s"), marks_param([stale, unseen]))

    assert mark_of(db, "IBM")[1] is None and mark_of(db, "NEW")[1] is None
    assert read_stored_sessions(db, ["IBM"], today=TODAY)["IBM"].holes == ((DAYS[2], DAYS[4]),)


def test_a_mark_judged_against_another_calendar_is_read_again(db: Database) -> None:
    insert_sessions(db, "IBM", [d for d in DAYS[:20] if d != DAYS[7]])
    read_stored_sessions(db, ["IBM"], today=TODAY)
    execute(db, "UPDATE daily_session_mark SET hole_from = '{}', hole_to = '{}', calendar = 'old'")

    assert read_stored_sessions(db, ["IBM"], today=TODAY)["IBM"].holes == ((DAYS[6], DAYS[8]),)


def test_bars_after_today_leave_no_mark(db: Database) -> None:
    insert_sessions(db, "IBM", DAYS[:10])
    read_stored_sessions(db, ["IBM"], today=DAYS[5] - timedelta(days=1))
    assert mark_of(db, "IBM")[1] is None


def test_a_read_only_role_gets_the_same_answer_without_storing_marks(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    insert_sessions(db, "IBM", [d for d in DAYS[:20] if d != DAYS[7]])
    role = "stockpipe_marks_reader"
    execute(db, f"DROP ROLE IF EXISTS {role}")
    execute(db, f"CREATE ROLE {role} LOGIN")
    execute(db, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    reader = Database.from_conninfo(make_conninfo(db.conninfo, user=role), migrate=False)
    try:
        with caplog.at_level("WARNING", logger="stockpipe.store.sessions"):
            stored = read_stored_sessions(reader, ["IBM"], today=TODAY)["IBM"]
    finally:
        reader.close()
        execute(db, f"DROP OWNED BY {role}")
        execute(db, f"DROP ROLE {role}")

    assert stored.holes == ((DAYS[6], DAYS[8]),)
    assert "gap read marks not stored" in caplog.text
    assert mark_of(db, "IBM")[1] is None  # no verified mark (the trigger made the row)


def test_reads_through_marks_count_the_bars_a_full_read_counts(db: Database) -> None:
    insert_sessions(db, "IBM", [d for d in DAYS[:30] if d != DAYS[7]])
    assert read_stored_sessions(db, ["IBM"], today=TODAY)["IBM"].bars == 29
    insert_sessions(db, "IBM", DAYS[31:34])  # a top-up after a missing session

    assert read_stored_sessions(db, ["IBM"], today=TODAY)["IBM"].bars == 32
    assert full_read(db, ["IBM"])["IBM"].bars == 32


def test_a_mark_from_before_the_count_has_its_bars_counted_without_a_full_read(
    db: Database,
) -> None:
    insert_sessions(db, "IBM", DAYS[:40])
    read_stored_sessions(db, ["IBM"], today=TODAY)
    # A mark as migration 0018 left it: no count. Its hole is made up, so a read that trusts
    # the mark (rather than reading the history again) still reports it.
    fake_from, fake_to = new_york_midnight(DAYS[20]), new_york_midnight(DAYS[22])
    execute(
        db,
        "UPDATE daily_session_mark SET bars = NULL, hole_from = %s, hole_to = %s",
        [fake_from],
        [fake_to],
    )

    stored = read_stored_sessions(db, ["IBM"], today=TODAY)["IBM"]  # nothing new: counted

    assert (stored.bars, stored.holes) == (40, ((DAYS[20], DAYS[22]),))
    assert db.run(lambda c: c.execute("SELECT bars FROM daily_session_mark").fetchone()) == (40,)
    execute(db, "UPDATE daily_session_mark SET bars = NULL")
    insert_sessions(db, "IBM", DAYS[40:42])
    assert read_stored_sessions(db, ["IBM"], today=TODAY)["IBM"].bars == 42
    assert db.run(lambda c: c.execute("SELECT bars FROM daily_session_mark").fetchone()) == (42,)


def test_two_readers_extending_the_same_mark_append_its_new_holes_once(db: Database) -> None:
    insert_sessions(db, "IBM", DAYS[:10])
    read_stored_sessions(db, ["IBM"], today=TODAY)
    generation, verified_ts, _, _ = mark_of(db, "IBM")
    insert_sessions(db, "IBM", DAYS[11:13])  # a top-up with a hole after the mark
    start, end = new_york_midnight(DAYS[9]), new_york_midnight(DAYS[11])
    extension = Mark(
        "IBM",
        generation,
        new_york_midnight(DAYS[0]),
        new_york_midnight(DAYS[12]),
        (start,),
        (end,),
        bars=12,
        extends=(verified_ts, calendar_digest(DAYS[9])),
        added=2,
    )

    for _ in range(2):  # both read the same mark; the second one's store finds it moved on
        execute(db, STORE_MARKS.replace("%(marks)s", "%s"), marks_param([extension]))

    assert mark_of(db, "IBM")[1:] == (new_york_midnight(DAYS[12]), [start], [end])
    assert read_stored_sessions(db, ["IBM"], today=TODAY) == full_read(db, ["IBM"])


@pytest.mark.parametrize("writer", ["fills the hole", "deletes the newest bar"])
def test_a_writer_changing_bars_above_the_old_mark_after_the_read_keeps_the_mark_from_moving(
    db: Database, writer: str
) -> None:
    insert_sessions(db, "IBM", DAYS[:10])
    read_stored_sessions(db, ["IBM"], today=TODAY)
    generation, verified_ts, _, _ = mark_of(db, "IBM")
    insert_sessions(db, "IBM", DAYS[11:13])  # a top-up with a hole after the mark
    start, end = new_york_midnight(DAYS[9]), new_york_midnight(DAYS[11])
    # What a reader computed from its snapshot; a writer then commits above the old mark
    # (no trigger takes a mark away there) before the reader stores it.
    seen = Mark(
        "IBM", generation, new_york_midnight(DAYS[0]), new_york_midnight(DAYS[12]), (start,),
        (end,), bars=12, extends=(verified_ts, calendar_digest(DAYS[9])), added=2,
    )  # fmt: skip
    if writer == "fills the hole":
        insert_sessions(db, "IBM", [DAYS[10]])
    else:
        delete_bar(db, DAYS[12])
    assert mark_of(db, "IBM")[0] == generation

    execute(db, STORE_MARKS.replace("%(marks)s", "%s"), marks_param([seen]))

    assert mark_of(db, "IBM")[1] == verified_ts  # not moved on
    assert read_stored_sessions(db, ["IBM"], today=TODAY) == full_read(db, ["IBM"])
