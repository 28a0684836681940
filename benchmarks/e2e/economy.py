"""4. Economy: after a complete run, a second one spends no call; after one new session, one
call and one written row per symbol.

"Today" is steered on both sides: the fake's last session (end_date) and the pipeline's clock
(whose latest completed session decides whether a symbol is up to date).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from benchmarks.e2e.harness import UNLIMITED, Bench, Figure, ShiftedClock, symbols
from stockpipe.ingest import IngestContext, ingest_symbols
from stockpipe.ingest.results import RunSummary
from stockpipe.market_calendar import latest_completed_session, sessions_between
from stockpipe.store import Database

NEW_YORK = ZoneInfo("America/New_York")


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=NEW_YORK).astimezone(UTC)


def run(bench: Bench) -> list[Figure]:
    count = bench.scale.economy_symbols
    names = symbols("E", count)
    newest = latest_completed_session()
    previous = sessions_between(newest - timedelta(days=10), newest)[-2]
    conninfo = bench.fresh_database("economy")
    settings = bench.settings(conninfo, **UNLIMITED)
    db = Database.from_conninfo(conninfo, migrate=False)

    def ingest(clock: ShiftedClock) -> tuple[RunSummary, int]:
        before = len(bench.fake.calls())
        with IngestContext(settings, db, clock=clock) as ctx:
            summary = ingest_symbols(ctx, names)
        return summary, len(bench.fake.calls()) - before

    try:
        # Mid-morning of `newest`: its session is still open, so `previous` is the latest.
        bench.fake.reset(end_date=previous.isoformat())
        morning = ShiftedClock(_at(newest, 10))
        first, first_calls = ingest(morning)
        again, again_calls = ingest(morning)
        bench.fake.control("configure", {"end_date": newest.isoformat()})
        top_up, top_up_calls = ingest(ShiftedClock(_at(newest, 20)))
    finally:
        db.close()
    written = top_up.inserted + top_up.updated
    notes = {"first_calls": first_calls, "first_rows": first.inserted}
    return [
        Figure(
            "4 economy",
            "calls of a re-run right after a complete run",
            str(again_calls),
            f"first run {first_calls} calls",
            None,
            "0",
            again_calls == 0 and again.calls == 0,
            notes,
        ),
        Figure(
            "4 economy",
            "calls per symbol after one new session",
            f"{top_up_calls / count:.2f}",
            f"{count} symbols",
            None,
            "1 exactly",
            top_up_calls == count,
        ),
        Figure(
            "4 economy",
            "rows written per symbol after one new session",
            f"{written / count:.2f}",
            f"{count} symbols",
            None,
            "1 exactly",
            top_up.inserted == count and top_up.updated == 0,
        ),
    ]
